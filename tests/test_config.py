"""The config tree: its dict form and back, config.json read back (``--config``), the one builder from
command-line options, and ``batch`` getting every per-run option ``reconstruct`` has."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hoirecon import config as C
from hoirecon.cli.main import app
from hoirecon.errors import InputError

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
runner = CliRunner()


def test_dict_round_trip_and_every_stage_in_the_tree():
    cfg = C.PipelineConfig()
    d = C.config_to_dict(cfg)
    assert {"detection", "body_fit", "contact", "fit"} <= set(d)
    assert {"source", "contacts_dir", "interactvlm_repo", "rll", "prior"} <= set(d["contact"])
    json.dumps(d)  # plain JSON values
    assert C.config_from_dict(d) == cfg
    changed = C.config_from_dict({"fit": {"steps_refine": 7}, "contact": {"rll": {"human_threshold": 0.4}}})
    assert changed.fit.steps_refine == 7 and changed.contact.rll.human_threshold == 0.4
    assert changed.body_fit == cfg.body_fit  # the rest keeps its defaults


@pytest.mark.parametrize("data, must", [
    ({"fit": {"stepz_refine": 3}}, "stepz_refine"),
    ({"device": 3}, "device"),
    ({"fit": 5}, "fit"),
    ({"seed": "zero"}, "seed"),
])  # fmt: skip
def test_bad_settings_are_input_errors(data, must):
    with pytest.raises(InputError, match=must):
        C.config_from_dict(data)


def test_build_config_puts_the_command_line_in():
    run = C.RunOptions(device="cpu", body_model="smplx", gender="female", detector="mediapipe", segmenter="grabcut",
                       person_index=1, object_index=2, contacts_from="interactvlm-import", contacts_dir="/x",
                       offline=True, max_side=640)  # fmt: skip
    cfg = C.build_config(run)
    assert (cfg.body_model, cfg.gender, cfg.working_max_side) == ("smplx", "female", 640)
    assert (cfg.detection.detector, cfg.detection.segmenter, cfg.detection.person_index, cfg.detection.object_index,
            cfg.detection.offline) == ("mediapipe", "grabcut", 1, 2, True)  # fmt: skip
    assert (cfg.contact.source, cfg.contact.contacts_dir) == ("interactvlm-import", "/x")
    assert C.run_options_of(cfg) == run
    base = dataclasses.replace(C.PipelineConfig(), seed=5)
    assert C.build_config(run, base=base).seed == 5  # what the command line does not set comes from the base


def test_load_config_reads_what_the_pipeline_writes(tmp_path):
    cfg = C.build_config(C.RunOptions(body_model="smplx", max_side=900))
    written = {"config_version": C.CONFIG_VERSION, "image": "a.png", "object_label": "chair", "camera": {"focal_px": 1.0},
               **C.config_to_dict(cfg)}  # fmt: skip
    p = tmp_path / "config.json"
    p.write_text(json.dumps(written))
    assert C.load_config(p) == cfg
    p.write_text(json.dumps({**written, "config_version": 99}))
    with pytest.raises(InputError, match="config_version"):
        C.load_config(p)
    p.write_text("{not json")
    with pytest.raises(InputError, match="not valid JSON"):
        C.load_config(p)
    with pytest.raises(InputError, match="file not found"):
        C.load_config(tmp_path / "missing.json")


def _captured(monkeypatch, module: str, name: str, result=None):
    seen = {}

    def fake(*args, **kwargs):
        seen["args"], seen["kwargs"] = args, kwargs
        return result

    monkeypatch.setattr(f"{module}.{name}", fake)
    return seen


def test_reconstruct_config_file_then_command_line_wins(tmp_path, monkeypatch):
    for name in ("camera.png", "camera.png.json"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    cfg_file = tmp_path / "mine.json"
    cfg_file.write_text(json.dumps({"gender": "female", "fit": {"steps_refine": 11}, "working_max_side": 700,
                                    "detection": {"detector": "mediapipe"}}))  # fmt: skip
    seen = _captured(monkeypatch, "hoirecon.cli.reconstruct", "_reconstruct")
    res = runner.invoke(app, ["reconstruct", str(tmp_path / "camera.png"), "--out", str(tmp_path / "o"),
                              "--config", str(cfg_file), "--max-side", "800"])  # fmt: skip
    assert res.exit_code == 0, res.output
    run = seen["args"][2]
    cfg = run.pipeline_config()
    assert cfg.gender == "female" and cfg.fit.steps_refine == 11 and cfg.detection.detector == "mediapipe"
    assert cfg.working_max_side == 800  # given on the command line: wins over the file


def test_reconstruct_bad_config_file_is_one_line(tmp_path):
    shutil.copy(EXAMPLES / "camera.png", tmp_path / "camera.png")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"fit": {"nope": 1}}))
    res = runner.invoke(app, ["reconstruct", str(tmp_path / "camera.png"), "--object-box", "1,1,50,50", "--config", str(bad)])
    assert res.exit_code == 2
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "nope" in lines[0] and "bad.json" in lines[0], lines


def test_batch_gets_every_per_run_option(tmp_path, monkeypatch):
    src = tmp_path / "in"
    src.mkdir()
    shutil.copy(EXAMPLES / "camera.png", src / "camera.png")
    contacts = tmp_path / "ivlm"
    contacts.mkdir()
    mesh = tmp_path / "m.obj"
    mesh.write_text("v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n")
    from types import SimpleNamespace

    seen = _captured(monkeypatch, "hoirecon.batch", "run_batch", SimpleNamespace(exit_code=0))
    res = runner.invoke(app, [
        "batch", str(src), "--out", str(tmp_path / "out"), "--quiet", "--object", "chair", "--focal-px", "900",
        "--person-index", "1", "--object-index", "2", "--contacts-from", "interactvlm-import", "--contacts", str(contacts),
        "--mesh", str(mesh), "--detector", "mediapipe", "--segmenter", "grabcut", "--max-side", "640",
        "--interaction", "sit",
    ])  # fmt: skip
    assert res.exit_code == 0, res.output
    kw = seen["kwargs"]
    cfg = C.config_from_dict(kw["pipeline"])
    assert (cfg.detection.person_index, cfg.detection.object_index) == (1, 2)
    assert (cfg.contact.source, cfg.contact.contacts_dir) == ("interactvlm-import", str(contacts))
    assert cfg.working_max_side == 640 and cfg.detection.detector == "mediapipe"
    assert kw["image_options"] == {"object_label": "chair", "mesh": str(mesh), "focal_px": 900.0, "interaction": "sit",
                                   "object_size": None, "mesh_dirs": []}
    assert kw["object_label"] == "chair"


def test_batch_per_image_options_reach_the_pipeline(tmp_path):
    """``--mesh`` and ``--focal-px`` become every image's ReconstructOptions (the sidecar's label wins)."""
    from hoirecon.batch import options_for

    img = tmp_path / "a.png"
    shutil.copy(EXAMPLES / "camera.png", img)
    (tmp_path / "a.png.json").write_text(json.dumps({"object": "tripod"}))
    o = options_for(img, "chair", {"mesh": "/m.obj", "focal_px": 900.0})
    assert o.object_label is None and o.mesh == Path("/m.obj") and o.focal_px == 900.0
    assert options_for(tmp_path / "b.png", "chair", {}).object_label == "chair"
    # --interaction: for the photos whose sidecar names none
    assert options_for(img, None, {"interaction": "sit"}).interaction == "sit"
    (tmp_path / "a.png.json").write_text(json.dumps({"object": "chair", "interaction": "stand_on"}))
    assert options_for(img, None, {"interaction": "sit"}).interaction is None  # the pipeline reads the sidecar's
