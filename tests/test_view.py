"""``hoirecon view`` (index.html, turntables) and ``hoirecon export`` (PLY, USD)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import trimesh
from typer.testing import CliRunner

from hoirecon import batch as B
from hoirecon.cli.main import app
from hoirecon.export.report import render_turntable, result_folders, write_index

from ._batch_support import write_small_inputs

runner = CliRunner()


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("view")
    src = root / "in"
    write_small_inputs(src, good=2)
    out = root / "out"
    B.run_batch(src, out, pipeline_factory="tests._batch_support:fake_factory", turntable=False)
    return out


def _sphere(centre, radius, color):
    s = trimesh.creation.icosphere(subdivisions=2, radius=radius)
    v = (np.asarray(s.vertices) + centre).astype(np.float32)
    return v, np.asarray(s.faces, np.int64), np.tile(np.asarray(color, np.float32), (len(v), 1))


def test_turntable_frames_are_upright_and_not_mirrored():
    """Frame 0 looks from +Z (the photo's camera side): +X is on the right, +Y at the top."""
    red = ("red", *_sphere([0.5, 0.0, 0.0], 0.15, [1, 0, 0]))
    green = ("green", *_sphere([0.0, 0.5, 0.0], 0.15, [0, 1, 0]))
    blue = ("blue", *_sphere([0.0, 0.0, 0.0], 0.1, [0, 0, 1]))
    frames = render_turntable([red, green, blue], views=4, size=96)
    assert len(frames) == 4 and frames[0].shape == (96, 96, 3) and frames[0].dtype == np.uint8

    def centroid(img, ch):
        m = (img[..., ch] > 120) & (img[..., (ch + 1) % 3] < 60) & (img[..., (ch + 2) % 3] < 60)
        ys, xs = np.nonzero(m)
        return xs.mean(), ys.mean(), m.sum()

    rx, ry, rn = centroid(frames[0], 0)
    gx, gy, gn = centroid(frames[0], 1)
    bx, by, _ = centroid(frames[0], 2)
    assert rn > 20 and gn > 20
    assert rx > bx + 10 and abs(ry - by) < 5  # +X right
    assert gy < by - 10 and abs(gx - bx) < 5  # +Y up
    rx2, _, _ = centroid(frames[2], 0)  # from behind, +X is on the left
    bx2, _, _ = centroid(frames[2], 2)
    assert rx2 < bx2 - 10


def test_index_for_a_batch_and_for_one_result(batch_dir):
    assert [p.name for p in result_folders(batch_dir)] == ["broken", "good_0", "good_1", "notes"]
    html = (batch_dir / "index.html").read_text()  # written by the batch
    assert html.count('class="card ok"') == 2 and html.count('class="card failed"') == 2
    assert "summary.json" in html and "images per minute" in html and "0.4 cm" in html
    res = runner.invoke(app, ["view", str(batch_dir)])
    assert res.exit_code == 0, res.output
    assert (batch_dir / "good_0" / "turntable.gif").is_file() and (batch_dir / "good_0" / "turntable.png").is_file()
    html = (batch_dir / "index.html").read_text()
    assert 'src="good_0/turntable.gif"' in html and 'href="good_0/scene.glb"' in html
    # one result folder: links are relative to it
    path = write_index(batch_dir / "good_1")
    one = path.read_text()
    assert 'src="overlay.png"' in one and 'href="params.json"' in one and "cup" in one


def test_index_escapes_text(batch_dir, tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "error.txt").write_text("<script>alert(1)</script> & more\n")
    html = write_index(folder, turntables=False).read_text()
    assert "<script>alert" not in html and "&lt;script&gt;" in html and "&amp; more" in html


def test_view_and_export_errors(tmp_path):
    res = runner.invoke(app, ["view", str(tmp_path / "none")])
    assert res.exit_code == 2 and "not a folder" in res.output
    res = runner.invoke(app, ["view", str(tmp_path)])
    assert res.exit_code == 2 and "no reconstruction folders" in res.output
    res = runner.invoke(app, ["export", str(tmp_path), "--format", "ply"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["view", "--help"])
    assert res.exit_code == 0 and "Examples:" in res.output
    res = runner.invoke(app, ["export", "--help"])
    assert res.exit_code == 0 and "Examples:" in res.output and "FBX" in res.output


def test_export_ply_keeps_meshes_and_colours(batch_dir):
    res = runner.invoke(app, ["export", str(batch_dir), "--format", "ply"])
    assert res.exit_code == 0, res.output
    folder = batch_dir / "good_0"
    glb = trimesh.load(folder / "scene.glb", process=False)
    human = glb.geometry["human"]
    ply = trimesh.load(folder / "human.ply", process=False)
    assert np.allclose(ply.vertices, human.vertices, atol=1e-6) and len(ply.faces) == len(human.faces)
    assert np.array_equal(ply.visual.vertex_colors[:, :3], human.visual.vertex_attributes["color"][:, :3])
    scene = trimesh.load(folder / "scene.ply", process=False)
    assert len(scene.vertices) == sum(len(g.vertices) for g in glb.geometry.values())
    assert (folder / "object.ply").is_file() and not (batch_dir / "broken" / "scene.ply").exists()


def test_export_usd(batch_dir):
    pytest.importorskip("pxr")
    from pxr import Usd, UsdGeom

    res = runner.invoke(app, ["export", str(batch_dir / "good_1"), "--format", "usd"])
    assert res.exit_code == 0, res.output
    stage = Usd.Stage.Open(str(batch_dir / "good_1" / "scene.usda"))
    assert UsdGeom.GetStageUpAxis(stage) == UsdGeom.Tokens.y and UsdGeom.GetStageMetersPerUnit(stage) == 1.0
    glb = trimesh.load(batch_dir / "good_1" / "scene.glb", process=False)
    human = UsdGeom.Mesh(stage.GetPrimAtPath("/hoirecon/human"))
    pts = np.asarray(human.GetPointsAttr().Get())
    assert np.allclose(pts, glb.geometry["human"].vertices, atol=1e-6)
    col = np.asarray(UsdGeom.PrimvarsAPI(human).GetPrimvar("displayColor").Get())
    assert col.shape == (len(pts), 3) and np.allclose(col, glb.geometry["human"].visual.vertex_attributes["color"][:, :3] / 255, atol=1e-6)
    assert stage.GetPrimAtPath("/hoirecon/object_cup").IsValid()
    assert not list((batch_dir / "good_1").glob(".*part*"))
    assert json.loads((batch_dir / "good_1" / "done").read_text())["status"] == "ok"
