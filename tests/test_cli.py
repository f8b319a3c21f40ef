"""The CLI through typer's CliRunner: help, version, the example end to end, and the error paths."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import trimesh
from PIL import Image
from typer.testing import CliRunner

from hoirecon.cli.main import app

from .conftest import EXAMPLES

runner = CliRunner()


def test_help_shows_examples_and_version():
    res = runner.invoke(app, ["reconstruct", "--help"])
    assert res.exit_code == 0
    assert "Examples:" in res.output and "hoirecon reconstruct photo.jpg --object chair" in res.output
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and res.output.startswith("hoirecon 0.")


def test_objects_and_doctor_commands():
    res = runner.invoke(app, ["objects"])
    assert res.exit_code == 0 and "tennis_racket" in res.output and "camera_tripod" in res.output
    assert "camp_stool" in res.output and "makes" in res.output
    res = runner.invoke(app, ["doctor"])
    assert res.exit_code == 0 and "mediapipe" in res.output and "torch" in res.output


def test_mediapipe_without_solutions_is_a_missing_model_error(monkeypatch):
    """mediapipe 0.10.30 and later have no mp.solutions: a clear exit-3 message, and doctor says so."""
    import sys
    import types

    from hoirecon.cli import doctor
    from hoirecon.errors import MissingModelError
    from hoirecon.perception import person

    monkeypatch.setitem(sys.modules, "mediapipe", types.SimpleNamespace(__version__="0.10.35"))
    person._pose.cache_clear()
    try:
        with pytest.raises(MissingModelError, match=r"mediapipe 0.10.35 has no mp.solutions.*<0.10.30") as err:
            person._pose()
        assert err.value.exit_code == 3
    finally:
        person._pose.cache_clear()
    assert doctor._release("0.10.21") == (0, 10, 21) and doctor._release("1.2.3rc1") == (1, 2, 3)
    monkeypatch.setattr(doctor, "_version", lambda pkg: "0.10.35" if pkg == "mediapipe" else None)
    assert doctor.report()["packages"]["mediapipe"]["usable"] is False
    res = runner.invoke(app, ["doctor"])
    assert res.exit_code == 0 and "0.10.35: has no mp.solutions" in res.output


@pytest.fixture(scope="module")
def camera_result(tmp_path_factory, anny_body):
    """The example photo end to end through the CLI (sidecar box), once for the module."""
    work = tmp_path_factory.mktemp("cli")
    for name in ("camera.png", "camera.png.json"):
        shutil.copy(EXAMPLES / name, work / name)
    out = work / "out"
    res = runner.invoke(app, ["reconstruct", str(work / "camera.png"), "--out", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    return out


def test_example_end_to_end_writes_every_output(camera_result):
    names = {p.name for p in camera_result.iterdir()}
    assert names == {"scene.glb", "scene.obj", "scene.mtl", "human.obj", "human.mtl", "object.obj", "object.mtl",
                     "params.json", "overlay.png", "config.json", "human_contacts.png", "object_contacts.png", ".hoirecon"}
    params = json.loads((camera_result / "params.json").read_text())
    assert params["object"]["category"] == "camera_tripod"
    assert params["camera"]["source"] == "default_fov"
    assert set(params["timings_s"]) >= {"perception", "body", "contacts", "fitting"}
    assert params["contacts"]["human_vertices"] and params["contacts"]["object_vertices"]
    assert params["losses"]["contact_distance_m"] < 0.05
    # Render-Localize-Lift: per-vertex probabilities on both meshes, the localizer's provenance.
    con = params["contacts"]
    assert con["source"] == "prior" and len(con["human_prob"]) == params["body"]["num_vertices"]
    assert max(con["human_prob"]) > 0.5 and max(con["object_prob"]) > 0.3
    grid = np.asarray(Image.open(camera_result / "human_contacts.png").convert("RGB")).astype(int)
    red = (grid[..., 0] > 200) & (grid[..., 1] < 90) & (grid[..., 2] < 90)
    assert grid.shape[0] == grid.shape[1] and red.sum() > 50, "contact drawn in red on the body views"


def test_contacts_from_checks_its_inputs(tmp_path):
    res = runner.invoke(app, ["reconstruct", str(EXAMPLES / "camera.png"), "--contacts-from", "magic", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "'magic' is not one of 'prior', 'interactvlm-import'" in res.output
    res = runner.invoke(app, ["reconstruct", str(EXAMPLES / "camera.png"), "--contacts-from", "interactvlm-import",
                              "--contacts", str(tmp_path / "missing"), "--out", str(tmp_path / "o")])  # fmt: skip
    assert res.exit_code == 2 and "missing" in res.output and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_example_glb_has_two_named_metric_upright_meshes(camera_result):
    scene = trimesh.load(camera_result / "scene.glb", process=False)
    assert set(scene.geometry) == {"human", "object_camera_tripod"}
    human = scene.geometry["human"]
    height = human.vertices[:, 1].max() - human.vertices[:, 1].min()
    assert 1.2 < height < 2.1  # the man bends over the camera: his Y extent is a little under his height
    ext = human.vertices.max(0) - human.vertices.min(0)
    assert np.argmax(ext) == 1, "the body's longest axis is +Y (upright in Blender)"
    head = human.vertices[:, 1].argmax()
    assert human.vertices[head, 1] > np.median(human.vertices[:, 1])
    obj = scene.geometry["object_camera_tripod"]
    assert 1.1 < (obj.vertices.max(0) - obj.vertices.min(0)).max() < 2.0


def test_example_overlay_covers_person_and_object(camera_result):
    overlay = np.asarray(Image.open(camera_result / "overlay.png").convert("RGB")).astype(int)
    photo = np.asarray(Image.open(EXAMPLES / "camera.png").convert("RGB")).astype(int)
    changed = np.abs(overlay - photo).sum(-1) > 30
    box = json.loads((EXAMPLES / "camera.png.json").read_text())["object_box"]
    x0, y0, x1, y1 = box
    assert changed[y0:y1, x0:x1].mean() > 0.05, "object drawn in its box"
    assert changed[150:450, 20:200].mean() > 0.3, "person drawn where the man is"
    assert changed[0:60, 380:512].mean() < 0.01, "sky untouched"


def _run_fails(args, tmp_path):
    out = tmp_path / "out"
    res = runner.invoke(app, ["reconstruct", *map(str, args), "--out", str(out), "--quiet"])
    assert res.exit_code == 2, res.output
    lines = [line for line in res.output.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), res.output
    assert not out.exists(), "no partial output"
    return lines[0]


def test_error_unreadable_image(tmp_path):
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not a jpeg at all")
    msg = _run_fails([bad, "--object", "chair", "--object-box", "1,1,20,20"], tmp_path)
    assert "broken.jpg" in msg


def test_error_no_person(tmp_path):
    img = tmp_path / "empty.png"
    Image.fromarray(np.full((256, 256, 3), 127, np.uint8)).save(img)
    msg = _run_fails([img, "--object", "chair", "--object-box", "10,10,100,100"], tmp_path)
    assert "no person" in msg and "empty.png" in msg


def test_unknown_label_is_no_error_but_its_bad_box_is(tmp_path):
    """An unknown label gets a proxy (tests/test_proxy.py runs one end to end); the inputs around it
    are still checked before any model loads."""
    shutil.copy(EXAMPLES / "camera.png", tmp_path / "c.png")
    msg = _run_fails([tmp_path / "c.png", "--object", "giraffe", "--object-box", "1,2,3"], tmp_path)
    assert "--object-box" in msg and "giraffe" not in msg


@pytest.mark.parametrize("box", ["1,2,3", "300,10,200,50", "600,600,700,700", "a,b,c,d"])
def test_error_bad_box(tmp_path, box):
    shutil.copy(EXAMPLES / "camera.png", tmp_path / "c.png")
    msg = _run_fails([tmp_path / "c.png", "--object", "tripod", "--object-box", box], tmp_path)
    assert "--object-box" in msg


def test_error_missing_box_names_the_sidecar(tmp_path):
    shutil.copy(EXAMPLES / "camera.png", tmp_path / "c.png")
    msg = _run_fails([tmp_path / "c.png", "--object", "tripod"], tmp_path)
    assert "c.png.json" in msg


def test_debug_env_gives_the_traceback(tmp_path, monkeypatch):
    from hoirecon.errors import InputError

    monkeypatch.setenv("HOIRECON_DEBUG", "1")
    res = runner.invoke(app, ["reconstruct", str(tmp_path / "missing.jpg"), "--object", "chair", "--object-box", "1,1,9,9"])
    assert isinstance(res.exception, InputError)


def test_config_json_reads_back_and_repeats_the_run(camera_result, tmp_path):
    """config.json is the run's config tree: --config FILE gives the same config and the same result."""
    from hoirecon.config import RunOptions, build_config, load_config

    cfg_file = camera_result / "config.json"
    assert load_config(cfg_file) == build_config(RunOptions())
    work = tmp_path / "again"
    work.mkdir()
    for name in ("camera.png", "camera.png.json"):
        shutil.copy(EXAMPLES / name, work / name)
    res = runner.invoke(app, ["reconstruct", str(work / "camera.png"), "--out", str(work / "out"), "--quiet",
                              "--config", str(cfg_file)])  # fmt: skip
    assert res.exit_code == 0, res.output
    a = json.loads((camera_result / "params.json").read_text())
    b = json.loads((work / "out" / "params.json").read_text())
    assert a["object"] == b["object"] and a["body"] == b["body"] and a["contacts"] == b["contacts"]


def test_json_reports_for_scripts(tmp_path):
    """doctor, models list and objects print one JSON document on stdout with --json."""
    import json as _json

    from typer.testing import CliRunner

    from hoirecon.cli.main import app

    r = CliRunner().invoke(app, ["doctor", "--json"])
    assert r.exit_code == 0, r.output
    doc = _json.loads(r.stdout)
    assert {"python", "torch", "cache", "offline", "packages", "body_models", "weights"} <= set(doc)
    assert doc["packages"]["trimesh"]["version"] and doc["body_models"]["anny"]["usable"] in (True, False)
    r = CliRunner().invoke(app, ["models", "list", "--json"])
    assert r.exit_code == 0, r.output
    rows = _json.loads(r.stdout)
    assert {"yolo11n-seg", "sam_vit_b"} <= {w["name"] for w in rows}
    assert all({"kind", "present", "size_bytes", "licence", "path"} <= set(w) for w in rows)
    d = tmp_path / "meshes"
    d.mkdir()
    import trimesh

    trimesh.creation.box((0.3, 0.3, 0.3)).export(d / "crate.obj")
    (d / "crate.json").write_text(_json.dumps({"label": "wooden crate", "size_m": 0.4}))
    r = CliRunner().invoke(app, ["objects", "--json", "--mesh-dir", str(d)])
    assert r.exit_code == 0, r.output
    doc = _json.loads(r.stdout)
    cats = {c["category"]: c for c in doc["categories"]}
    assert len(cats) >= 60 and [m["name"] for m in cats["chair"]["modes"]][0] == "sit"
    assert {"office", "camp_stool"} <= {m["name"] for m in cats["chair"]["makes"]} and cats["bench"]["makes"] == []
    assert doc["meshes"] == [{"file": str(d / "crate.obj"), "label": "wooden crate", "synonyms": [], "category": None,
                              "size_m": 0.4, "up": "+y", "parts": None}]  # fmt: skip


def test_blender_command_checks_its_inputs_before_running_blender(tmp_path):
    from typer.testing import CliRunner

    from hoirecon.cli.main import app

    r = CliRunner().invoke(app, ["blender", str(tmp_path)])
    assert r.exit_code == 2 and "no scene.glb" in r.output and len(r.output.strip().splitlines()) == 1
    (tmp_path / "scene.glb").write_bytes(b"x")
    (tmp_path / "params.json").write_text("{}")
    r = CliRunner().invoke(app, ["blender", str(tmp_path), "--blend", str(tmp_path / "x.txt")])
    assert r.exit_code == 2 and "must end in .blend" in r.output
    r = CliRunner().invoke(app, ["blender", str(tmp_path), "--blender", str(tmp_path / "no-blender")])
    assert r.exit_code == 3 and "no such executable" in r.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.json", "scene.glb"]  # nothing written
