"""The detection chain: fallback when weights are absent, the interacting-object choice, overrides."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from hoirecon.cli.main import app
from hoirecon.errors import InputError
from hoirecon.config import DetectorConfig
from hoirecon.perception.chain import DetectionChain, choose_object, interaction_score
from hoirecon.types import Box, CameraIntrinsics, ImageInput, Instance, PersonDetection

from .conftest import EXAMPLES

runner = CliRunner()


def _image(w=400, h=300):
    cam = CameraIntrinsics(300, 300, w / 2, h / 2, w, h)
    return ImageInput(path=__import__("pathlib").Path("synthetic.png"), rgb=np.zeros((h, w, 3), np.uint8), camera=cam)


def _person(img):
    """A person standing at x 150-250 with the right wrist at (250, 150) and feet at y 280."""
    mask = np.zeros((img.height, img.width), bool)
    mask[40:290, 150:250] = True
    kp = np.zeros((33, 2), np.float32)
    vis = np.zeros(33, np.float32)
    for i, xy in {16: (250, 150), 15: (150, 150), 23: (215, 160), 24: (185, 160), 27: (210, 280), 28: (190, 280)}.items():
        kp[i], vis[i] = xy, 1.0
    return PersonDetection(Box(150, 40, 250, 290), mask, kp, vis, np.zeros((33, 3), np.float32), "synthetic")


def _inst(label, box, score=0.9):
    return Instance(label=label, box=Box(*box), score=score, backend="fake", weights={"name": "fake", "sha256": "0"})


def test_the_object_in_hand_beats_a_far_one_and_index_overrides():
    img = _image()
    person = _person(img)
    near = _inst("tennis racket", (245, 120, 300, 200), 0.5)
    far = _inst("tennis racket", (340, 20, 395, 90), 0.99)
    assert interaction_score(near, person, img) > interaction_score(far, person, img)
    inst, label = choose_object(img, [far, near, _inst("person", (150, 40, 250, 290))], person, None, None)
    assert inst is near and label == "tennis racket"
    inst, _ = choose_object(img, [far, near], person, None, 1)
    assert inst is far
    with pytest.raises(InputError, match="out of range"):
        choose_object(img, [far, near], person, None, 5)


def test_label_filters_candidates_and_unknown_classes_are_skipped():
    img = _image()
    person = _person(img)
    chair = _inst("chair", (100, 150, 260, 295))
    racket = _inst("tennis racket", (245, 120, 300, 200))
    zebra = _inst("zebra", (240, 120, 300, 200))
    inst, label = choose_object(img, [chair, racket, zebra], person, "chair", None)
    assert inst is chair and label == "chair"
    with pytest.raises(InputError, match="no 'bicycle' detected.*found: chair, tennis racket, zebra"):
        choose_object(img, [chair, racket, zebra], person, "bicycle", None)


def test_invalid_backend_names_are_input_errors():
    with pytest.raises(InputError, match="--detector"):
        DetectionChain(DetectorConfig(detector="detr"))
    with pytest.raises(InputError, match="--segmenter"):
        DetectionChain(DetectorConfig(segmenter="magic"))


def test_auto_falls_back_without_weights_and_the_pipeline_completes(tmp_path, monkeypatch, anny_body):
    """Empty cache + offline: YOLO and SAM are absent, the chain says so once, the run completes."""
    monkeypatch.setenv("HOIRECON_HOME", str(tmp_path / "empty-cache"))
    # Anny's data stays where the session fixture built it: the body model is already loaded.
    for name in ("astronaut.png", "astronaut.png.json"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    out = tmp_path / "out"
    res = runner.invoke(app, ["reconstruct", str(tmp_path / "astronaut.png"), "--out", str(out), "--offline"])
    assert res.exit_code == 0, res.output
    assert res.output.count("notice: YOLO not available") == 1
    assert "notice: SAM skipped on CPU" in res.output
    prov = json.loads((out / "params.json").read_text())["detections"]["provenance"]
    assert prov["detector"] == "mediapipe" and prov["object"]["box"] == "user"
    assert prov["object"]["mask"] == "grabcut"
    assert any("YOLO not available" in n for n in prov["notices"])


def test_forced_yolo_without_weights_is_one_line_exit_3(tmp_path, monkeypatch):
    monkeypatch.setenv("HOIRECON_HOME", str(tmp_path / "empty-cache"))
    res = runner.invoke(app, ["reconstruct", str(EXAMPLES / "camera.png"), "--out", str(tmp_path / "o"),
                              "--detector", "yolo", "--offline", "--quiet"])  # fmt: skip
    assert res.exit_code == 3, res.output
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "--detector yolo" in lines[0] and "yolo11n-seg" in lines[0]
    assert not (tmp_path / "o").exists()


class _FakeYolo:
    """Stands in for YoloSegmenter: a helmet where the astronaut's helmet is, and a person."""

    backend = "yolo:fake.pt"

    def detect(self, image):
        m = np.zeros((image.height, image.width), bool)
        m[350:512, 285:505] = True
        return [
            Instance("person", Box(20, 10, 370, 512), 0.95, self.backend, None, {"name": "fake", "sha256": "abc"}),
            Instance("helmet", Box(285, 350, 505, 512), 0.8, self.backend, m, {"name": "fake", "sha256": "abc"}),
        ]


def test_detected_object_needs_no_label_or_box_and_is_recorded(tmp_path, monkeypatch, anny_body):
    shutil.copy(EXAMPLES / "astronaut.png", tmp_path / "astronaut.png")  # no sidecar
    monkeypatch.setattr(DetectionChain, "yolo", lambda self, needed=False: _FakeYolo())
    monkeypatch.setattr(DetectionChain, "sam", lambda self: None)
    out = tmp_path / "out"
    # without a box the input check wants a detector that can run: YOLO weights given (the fake ignores them)
    (tmp_path / "fake.pt").write_bytes(b"weights")
    res = runner.invoke(app, ["reconstruct", str(tmp_path / "astronaut.png"), "--out", str(out), "--quiet",
                              "--yolo-weights", str(tmp_path / "fake.pt")])  # fmt: skip
    assert res.exit_code == 0, res.output
    params = json.loads((out / "params.json").read_text())
    assert params["object"]["category"] == "helmet"
    prov = params["detections"]["provenance"]
    assert prov["detector"] == "yolo" and prov["object"]["box"] == "yolo:fake.pt"
    assert prov["object"]["mask"] == "yolo:fake.pt" and prov["object"]["weights"] == [{"name": "fake", "sha256": "abc"}]
    assert prov["person"]["landmarks"] == "mediapipe-pose"
