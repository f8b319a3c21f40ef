"""YOLO and SAM backends: wiring, shapes, offline loading and error paths, with untrained models.

These tests check plumbing only (what comes out, in which shapes and types), never accuracy: no trained
weights exist offline. The YOLO models are built from the configs shipped inside ultralytics; SAM is a tiny
custom ``Sam`` (ViT encoder with embed dim 32, depth 2) because an untrained vit_b takes several seconds per
image on two CPU cores; the vit_b registry path is only built, not run.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from hoirecon.errors import MissingModelError
from hoirecon.types import Box, CameraIntrinsics, ImageInput


def _image(rgb: np.ndarray) -> ImageInput:
    h, w = rgb.shape[:2]
    cam = CameraIntrinsics(fx=float(max(h, w)), fy=float(max(h, w)), cx=w / 2, cy=h / 2, width=w, height=h)
    return ImageInput(path=Path("astronaut.png"), rgb=rgb, camera=cam)


@pytest.fixture(scope="module")
def astronaut() -> ImageInput:
    from skimage import data

    return _image(np.ascontiguousarray(data.astronaut()))


def _save_untrained_yolo(cfg: str, path: Path) -> Path:
    """Untrained model from a shipped config, with COCO class names, saved as an ultralytics checkpoint."""
    import torch

    from hoirecon.perception.yolo import coco_names, offline_ultralytics

    torch.manual_seed(0)
    model = offline_ultralytics().YOLO(cfg)
    # Untrained class logits sit near -9 (ultralytics' prior bias), so whether any score clears the
    # threshold depends on the random init; lift the class biases so instances always come out.
    head = model.model.model[-1]
    with torch.no_grad():
        for branch in head.cv3:
            branch[-1].bias.fill_(0.0)
    model.model.names = coco_names()
    model.save(str(path))  # {"model": half-precision module, "date", "version", ...}: loadable by YOLO(path)
    return path


@pytest.fixture(scope="module")
def yolo_seg_pt(tmp_path_factory) -> Path:
    return _save_untrained_yolo("yolo11n-seg.yaml", tmp_path_factory.mktemp("yolo") / "untrained-seg.pt")


def test_untrained_yolo_seg_wiring_and_shapes(yolo_seg_pt, astronaut):
    from hoirecon.perception.yolo import YoloSegmenter, coco_names

    # Untrained heads score ~1e-4 (ultralytics' prior bias), so a threshold of 0 lets instances through.
    seg = YoloSegmenter(yolo_seg_pt, conf=0.0, weights_name="test-seg", sha256="abc")
    assert seg.has_masks and seg.task == "segment" and seg.loaded_restricted
    assert seg.class_names == tuple(coco_names()[i] for i in range(80))
    assert seg.backend == "yolo:untrained-seg.pt"

    insts = seg.detect(astronaut)
    assert isinstance(insts, list) and len(insts) > 0
    H, W = astronaut.height, astronaut.width
    for inst in insts:
        assert inst.label in seg.class_names
        assert 0.0 <= inst.score <= 1.0
        b = inst.box
        assert 0.0 <= b.x0 < b.x1 <= W and 0.0 <= b.y0 < b.y1 <= H
        assert inst.mask is not None and inst.mask.shape == (H, W) and inst.mask.dtype == bool
        assert inst.backend == "yolo:untrained-seg.pt"
        assert inst.weights == {"name": "test-seg", "sha256": "abc"}
    assert [i.score for i in insts] == sorted((i.score for i in insts), reverse=True)
    # masks come from the crop of each box: nothing far outside it
    inst = max(insts, key=lambda i: i.mask.sum())
    ys, xs = np.nonzero(inst.mask)
    if len(xs):
        assert xs.min() >= inst.box.x0 - 2 and xs.max() <= inst.box.x1 + 2
        assert ys.min() >= inst.box.y0 - 2 and ys.max() <= inst.box.y1 + 2


def test_untrained_yolo_seg_wiring_non_square_image(yolo_seg_pt, astronaut):
    """Letterbox padding is removed: masks and boxes are in the original (non-square) image's pixels."""
    from hoirecon.perception.yolo import YoloSegmenter

    rgb = np.ascontiguousarray(astronaut.rgb[:300, :])  # 300 x 512
    seg = YoloSegmenter(yolo_seg_pt, conf=0.0, imgsz=320)
    insts = seg.detect(_image(rgb))
    assert len(insts) > 0
    for inst in insts:
        assert inst.mask.shape == (300, 512)
        assert inst.box.y1 <= 300 and inst.box.x1 <= 512


def test_untrained_yolo_detect_only_wiring_gives_no_masks(tmp_path, astronaut):
    from hoirecon.perception.yolo import YoloSegmenter

    pt = _save_untrained_yolo("yolo11n.yaml", tmp_path / "untrained-det.pt")
    det = YoloSegmenter(pt, conf=0.0, imgsz=320)
    assert not det.has_masks
    insts = det.detect(astronaut)
    assert len(insts) > 0 and all(i.mask is None for i in insts)
    assert det.weights == {"name": "untrained-det.pt", "sha256": ""}


def test_yolo_yaml_config_wiring_gets_coco_names():
    from hoirecon.perception.yolo import YoloSegmenter

    seg = YoloSegmenter("yolo11n-seg.yaml")  # shipped inside ultralytics: untrained, no file needed
    assert seg.class_names[0] == "person" and len(seg.class_names) == 80


class _Evil:
    """Unpickling this would create ``marker`` (stands in for arbitrary code)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_yolo_bad_checkpoints_raise_missing_model_naming_the_file(tmp_path):
    import torch

    from hoirecon.perception.yolo import YoloSegmenter

    garbage = tmp_path / "garbage.pt"
    garbage.write_bytes(b"this is not a checkpoint" * 10)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    evil = tmp_path / "evil.pt"
    marker = tmp_path / "pwned"
    torch.save({"model": _Evil(marker)}, evil, pickle_protocol=pickle.DEFAULT_PROTOCOL)
    # a missing file with an official asset name: ultralytics would download it; we refuse
    missing = tmp_path / "yolo11n-seg.pt"

    for path in (garbage, foreign, evil, missing):
        with pytest.raises(MissingModelError) as err:
            YoloSegmenter(path)
        msg = str(err.value)
        assert str(path) in msg and "\n" not in msg
    assert not marker.exists()  # restricted load never ran the pickle's payload
    with pytest.raises(MissingModelError):
        YoloSegmenter("https://example.com/yolo11n-seg.pt")
    with pytest.raises(MissingModelError):
        YoloSegmenter("yolo11n-seg")  # no suffix: ultralytics would resolve it to a download


# --- SAM -------------------------------------------------------------------------------------------------


def _tiny_sam():
    """A very small Sam (same prompt encoder / mask decoder, tiny ViT image encoder), random init."""
    import torch
    from segment_anything.build_sam import _build_sam

    torch.manual_seed(0)
    return _build_sam(encoder_embed_dim=32, encoder_depth=2, encoder_num_heads=2, encoder_global_attn_indexes=[1])


@pytest.fixture(scope="module")
def small_image(astronaut) -> ImageInput:
    import cv2

    return _image(np.ascontiguousarray(cv2.resize(astronaut.rgb, (256, 192), interpolation=cv2.INTER_AREA)))


def test_untrained_tiny_sam_wiring_and_shapes(small_image):
    from hoirecon.perception.sam import SamRefiner

    sam = SamRefiner(None, model=_tiny_sam(), model_type="tiny-test")
    assert sam.backend == "sam:tiny-test" and sam.weights is None
    H, W = small_image.height, small_image.width
    m1 = sam.refine(small_image, Box(40, 30, 200, 180))
    m2 = sam.refine(small_image, Box(-10, -5, 100, 500))  # clipped to the image
    for m in (m1, m2):
        assert m.shape == (H, W) and m.dtype == bool
    assert sam.encoder_runs == 1  # embedding cached across boxes on the same image
    other = _image(np.ascontiguousarray(small_image.rgb[::-1]))
    assert sam.refine(other, Box(10, 10, 50, 50)).shape == (H, W)
    assert sam.encoder_runs == 2
    from hoirecon.errors import InputError

    with pytest.raises(InputError):
        sam.refine(small_image, Box(300, 10, 400, 50))  # entirely outside


def test_sam_state_dict_wiring_loads_weights_only(tmp_path, small_image):
    import torch

    from hoirecon.perception.sam import SamRefiner

    src = _tiny_sam()
    with torch.no_grad():
        for p in src.parameters():
            p.add_(0.01)
    ckpt = tmp_path / "tiny_sam.pth"
    torch.save(src.state_dict(), ckpt)

    dst = _tiny_sam()
    sam = SamRefiner(ckpt, model=dst, model_type="tiny-test", sha256="deadbeef")
    for (k, a), b in zip(src.state_dict().items(), dst.state_dict().values()):
        assert torch.equal(a, b), k
    assert sam.weights == {"name": "tiny_sam.pth", "sha256": "deadbeef"}
    assert sam.refine(small_image, Box(40, 30, 200, 180)).shape == small_image.rgb.shape[:2]


def test_sam_bad_checkpoints_raise_missing_model_naming_the_file(tmp_path):
    import torch

    from hoirecon.perception.sam import SamRefiner

    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"\x00\x01not a checkpoint" * 50)
    evil = tmp_path / "evil.pth"
    marker = tmp_path / "pwned"
    torch.save({"x": _Evil(marker)}, evil)
    wrong = tmp_path / "wrong.pth"
    torch.save({"foo": torch.zeros(2)}, wrong)
    for path in (garbage, evil, wrong, tmp_path / "missing.pth"):
        with pytest.raises(MissingModelError) as err:
            SamRefiner(path, model=_tiny_sam())
        assert str(path) in str(err.value) and "\n" not in str(err.value)
    assert not marker.exists()
    with pytest.raises(MissingModelError):  # registry path: file checked before vit_b is built
        SamRefiner(garbage, model_type="vit_b")


def test_importing_ultralytics_keeps_torch_on_every_core():
    """ultralytics sets OMP_NUM_THREADS=1 at import; our import must not leave torch on one thread."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}

    def run(code: str) -> list[str]:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout.split()

    plain = run("import torch; print(torch.get_num_threads())")
    after = run(
        "from hoirecon.perception.yolo import offline_ultralytics; offline_ultralytics()\n"
        "import os, torch; print(torch.get_num_threads(), os.environ.get('OMP_NUM_THREADS'))\n"
    )
    assert after == [plain[0], "None"]
