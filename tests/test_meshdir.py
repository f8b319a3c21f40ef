"""The user's mesh folders (--mesh-dir, HOIRECON_MESH_DIRS): scanning with sidecars, matching a label by
name and by text embedding, broken files skipped with a notice, and one reconstruction end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import trimesh

from hoirecon.errors import InputError
from hoirecon.objects.meshdir import match_mesh, mesh_dirs, scan


@pytest.fixture()
def folder(tmp_path):
    d = tmp_path / "meshes"
    d.mkdir()
    trimesh.creation.box((0.5, 1.0, 0.5)).export(d / "office_chair.obj")
    trimesh.creation.icosphere(2).export(d / "beach_ball.glb")
    trimesh.creation.cylinder(0.1, 0.5).export(d / "lamp.ply")
    (d / "lamp.json").write_text(json.dumps({"label": "desk lamp", "synonyms": ["reading light"], "size_m": 0.6, "up": "+z"}))
    (d / "a_lamp.obj").write_text("v 1 2\nf 1 2 3\n")  # broken: sorted first, same label
    (d / "a_lamp.json").write_text(json.dumps({"label": "desk lamp"}))
    trimesh.creation.box((1, 1, 1)).export(d / "crate.obj")
    (d / "crate.json").write_text(json.dumps({"lable": "crate"}))  # a typo in the sidecar: skipped
    (d / "notes.txt").write_text("not a mesh")
    return d


def test_scan_reads_sidecars_and_skips_broken_ones(folder):
    said = []
    entries = scan([folder], said.append)
    names = {e.path.name: e for e in entries}
    assert set(names) == {"office_chair.obj", "beach_ball.glb", "lamp.ply", "a_lamp.obj"}
    assert names["office_chair.obj"].label == "office chair" and names["office_chair.obj"].size_m is None
    lamp = names["lamp.ply"]
    assert lamp.label == "desk lamp" and lamp.synonyms == ("reading light",) and lamp.size_m == 0.6 and lamp.up == "+z"
    assert len(said) == 1 and "crate.obj" in said[0] and "lable" in said[0]


def test_match_by_name_then_by_embedding(folder):
    entries = scan([folder])
    hits = match_mesh("Office-Chair", entries)
    assert [h[0].path.name for h in hits] == ["office_chair.obj"] and hits[0][1] == "mesh-dir name"
    hits = match_mesh("reading light", entries)  # a sidecar synonym
    assert {h[0].path.name for h in hits} == {"lamp.ply"}
    hits = match_mesh("table lamp", entries)  # no name: the text embedding
    assert hits and hits[0][0].label == "desk lamp" and hits[0][1] == "mesh-dir embedding" and hits[0][2] >= 0.7
    assert match_mesh("flux capacitor", entries) == []
    assert match_mesh("table lamp", entries, by_embedding=False) == []


def test_mesh_dirs_checks_given_folders_and_reads_the_environment(folder, tmp_path, monkeypatch):
    with pytest.raises(InputError, match="no such folder"):
        mesh_dirs([tmp_path / "missing"])
    monkeypatch.setenv("HOIRECON_MESH_DIRS", str(folder))
    assert mesh_dirs([]) == [folder]


def test_load_user_mesh_with_size_and_z_up(folder):
    from hoirecon.objects import load_user_mesh

    m = load_user_mesh(folder / "lamp.ply", "proxy", size_m=0.6, up="+z")
    ext = m.vertices.max(0) - m.vertices.min(0)
    assert abs(float(ext.max()) - 0.6) < 1e-4 and ext[1] == pytest.approx(0.6, abs=1e-4)  # Z-up: tall along y
    assert m.part_names == ("grip", "top", "bottom") and m.source == "user:lamp.ply"


def test_reconstruct_takes_the_folder_mesh_and_skips_the_broken_one(folder, tmp_path):
    from typer.testing import CliRunner

    from hoirecon.cli.main import app

    root = Path(__file__).resolve().parents[1]
    box = json.loads((root / "examples" / "camera.png.json").read_text())["object_box"]
    out = tmp_path / "out"
    r = CliRunner().invoke(app, ["reconstruct", str(root / "examples" / "camera.png"), "--object", "desk lamp",
                                 "--object-box", ",".join(str(v) for v in box), "--mesh-dir", str(folder),
                                 "--out", str(out)])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "skipped a_lamp.obj" in r.output and "lamp.ply" in r.output
    p = json.loads((out / "params.json").read_text())
    assert p["object"]["mesh_source"] == "user:lamp.ply"
    assert p["object"]["label_match"]["how"] == "mesh-dir name" and p["object"]["label_match"]["matched"].endswith("lamp.ply")
    assert abs(p["object"]["size_m"] / p["object"]["scale"] - 0.6) < 0.01


def test_objects_lists_the_folder(folder):
    from typer.testing import CliRunner

    from hoirecon.cli.main import app

    r = CliRunner().invoke(app, ["objects", "--mesh-dir", str(folder)], env={"COLUMNS": "200"})
    assert r.exit_code == 0, r.output
    assert "office_chair.obj" in r.output and "desk lamp" in r.output and "skipped" in r.output
    r = CliRunner().invoke(app, ["objects", "--mesh-dir", str(folder / "nope")])
    assert r.exit_code == 2 and "no such folder" in r.output


def _box_with_handle(path: Path) -> None:
    """A 0.3 x 0.5 x 0.3 m box ("Body") with a 3 cm thick, 40 cm long bar standing on it ("Handle_bar")."""
    import numpy as np

    body = trimesh.creation.box((0.3, 0.5, 0.3))
    body.apply_translation((0, 0.25, 0))
    bar = trimesh.creation.cylinder(radius=0.015, height=0.4)
    bar.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, (1, 0, 0)))
    bar.apply_translation((0, 0.7, 0))
    scene = trimesh.Scene()
    scene.add_geometry(body, node_name="Body", geom_name="Body")
    scene.add_geometry(bar, node_name="Handle_bar", geom_name="Handle_bar")
    scene.export(path)


@pytest.mark.parametrize("suffix", [".obj", ".glb"])
def test_sidecar_parts_by_the_files_group_names(tmp_path, suffix):
    import numpy as np

    from hoirecon.objects import load_user_mesh
    from hoirecon.objects.library import read_mesh_groups

    d = tmp_path / "m"
    d.mkdir()
    _box_with_handle(d / f"crate{suffix}")
    v, f, gof, names = read_mesh_groups(d / f"crate{suffix}")
    assert set(names) == {"Body", "Handle_bar"} and len(gof) == len(f)
    bar_faces = gof == names.index("Handle_bar")
    assert v[f[bar_faces]].reshape(-1, 3)[:, 1].min() > 0.49  # the bar's faces are the bar's
    (d / "crate.json").write_text(json.dumps({"category": "suitcase", "size_m": 0.9, "parts": {"handle": ["handle*"]}}))
    (entry,) = scan([d])
    assert entry.parts == {"handle": ["handle*"]}
    m = load_user_mesh(entry.path, "suitcase", size_m=entry.size_m, parts=entry.parts)
    height = -m.vertices[:, 1]  # canonical frame: y down, base at 0
    handle = m.part_vertices("handle")
    assert len(handle) and height[handle].min() > 0.5 * 0.9 / 0.9 - 0.01  # the bar, above the 0.5 m box
    assert set(m.part_names) >= {"handle", "body"}  # the rest keeps the suitcase's parts
    assert not np.isin(np.flatnonzero(height < 0.45), handle).any()
    g = load_user_mesh(entry.path, "proxy", size_m=0.9, parts="groups")
    assert set(g.part_names) == {"body", "handle_bar"}
    with pytest.raises(InputError, match="match no group"):
        load_user_mesh(entry.path, "suitcase", parts={"seat": ["cushion"]})
    from typer.testing import CliRunner

    from hoirecon.cli.main import app

    r = CliRunner().invoke(app, ["objects", "--mesh-dir", str(d)], env={"COLUMNS": "250"})
    assert r.exit_code == 0 and "crate" in r.output and "handle" in r.output, r.output
    (d / "crate.json").write_text(json.dumps({"parts": ["handle"]}))
    said = []
    assert scan([d], said.append) == [] and "parts must be" in said[0]


def test_generic_parts_find_thin_graspable_regions(tmp_path):
    """No sidecar, no category: the 3 cm bar is the grip (thin enough to close a hand around), the
    box is top / body / bottom; a fat cylinder has no thin region and keeps the parts by height."""
    import numpy as np

    from hoirecon.objects import load_user_mesh

    _box_with_handle(tmp_path / "thing.glb")
    m = load_user_mesh(tmp_path / "thing.glb", "proxy", size_m=0.9)
    assert m.part_names == ("grip", "top", "bottom", "body")
    height = -m.vertices[:, 1]
    grip = m.part_vertices("grip")
    # the bar and only the bar (not its end caps: along their normals the bar is 40 cm long)
    assert height[grip].min() > 0.49 and len(grip) > 0.7 * np.sum(height > 0.51)
    assert len(m.part_vertices("body")) and len(m.part_vertices("bottom"))
