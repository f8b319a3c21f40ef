"""Helpers shared by the batch, view and client tests.

* ``fake_factory``: a cheap stand-in for the pipeline (``run_batch(pipeline_factory=...)``): it reads the
  image with the real loader (so corrupt files fail as they would), and returns a small
  Reconstruction (a box "body" and a sphere "object") at once; ``HOIRECON_FAKE_SLEEP`` seconds of sleep
  per image, ``HOIRECON_FAKE_FAIL`` a substring of image names that raise a RuntimeError. Importable
  by spawned worker processes (they get the parent's ``sys.path``).
* ``real_batch_output()``: one real ``hoirecon batch`` run (CLI, --jobs 1) on the two example photos
  plus a truncated PNG, made once per test session and shared by test_batch and test_clients.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def write_small_inputs(folder: Path, good: int = 2, bad: bool = True) -> list[str]:
    """``good`` 64x48 PNGs with sidecars, plus (bad) a truncated PNG and a text file named .jpg."""
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for i in range(good):
        name = f"good_{i}.png"
        rgb = np.full((48, 64, 3), (40 + 25 * i) % 256, np.uint8)
        Image.fromarray(rgb).save(folder / name)
        (folder / (name + ".json")).write_text(json.dumps({"object": "cup", "object_box": [30, 10, 50, 30]}))
        names.append(name)
    if bad:
        data = (folder / names[0]).read_bytes() if names else b"\x89PNG\r\n\x1a\n"
        (folder / "broken.png").write_bytes(data[: max(16, len(data) // 3)])
        (folder / "notes.jpg").write_text("not an image\n")
        names += ["broken.png", "notes.jpg"]
    return sorted(names)


class FakePipeline:
    body_model = None  # the real pipeline's property; None: the writer draws the fitted body

    def run(self, image_path, options=None, on_stage=None):
        from hoirecon import photo as hio
        from hoirecon.objects import resolve_label

        image = hio.load_image(image_path)
        side = hio.read_sidecar(image_path)
        label = (options.object_label if options is not None else None) or (side.object if side else None) or "cup"
        category = resolve_label(label)
        if os.environ.get("HOIRECON_FAKE_FAIL") and os.environ["HOIRECON_FAKE_FAIL"] in Path(image_path).name:
            raise RuntimeError("fake failure\nsecond line")
        delay = float(os.environ.get("HOIRECON_FAKE_SLEEP", "0") or 0)
        if delay:
            time.sleep(delay)
        return fake_recon(image, category, label)


def fake_factory(kwargs: dict):
    from hoirecon.errors import MissingModelError

    if kwargs.get("body_model") == "missing":
        raise MissingModelError("SMPL-X model files not found (fake)")
    return FakePipeline()


def fake_recon(image, category: str = "cup", label: str = "cup"):
    """A small Reconstruction on ``image``: a 1.7 m box body 3 m away and a sphere at its right hand."""
    import trimesh

    from hoirecon.types import (BodyFit, Box, ContactSet, Detections, FitResult, ObjectDetection, ObjectFit,
                                ObjectMesh, PersonDetection, Reconstruction)  # fmt: skip

    h, w = image.rgb.shape[:2]
    box = trimesh.creation.box(extents=(0.4, 1.7, 0.25)).subdivide()
    bv = (np.asarray(box.vertices) + np.array([0.0, 0.0, 3.0])).astype(np.float32)
    bf = np.asarray(box.faces, np.int64)
    ico = trimesh.creation.icosphere(subdivisions=1, radius=0.1)
    canon = np.asarray(ico.vertices, np.float32)
    mesh = ObjectMesh(category=category, vertices=canon, faces=np.asarray(ico.faces, np.int64),
                      part_of_vertex=np.zeros(len(canon), np.int16), part_names=("body",), source="primitive")  # fmt: skip
    t = np.array([0.3, 0.0, 3.0], np.float32)
    obj = ObjectFit(mesh=mesh, rotation=np.eye(3, dtype=np.float32), translation=t, scale=1.0, vertices=canon + t)
    mask = np.zeros((h, w), bool)
    mask[h // 4 : 3 * h // 4, w // 4 : w // 2] = True
    person = PersonDetection(box=Box.from_mask(mask), mask=mask, keypoints=np.zeros((33, 2), np.float32),
                             visibility=np.ones(33, np.float32), world_keypoints=np.zeros((33, 3), np.float32),
                             backend="fake")  # fmt: skip
    odet = ObjectDetection(label=label, box=Box.from_mask(mask), mask=mask, backend="fake")
    body = BodyFit(model_name="box", vertices=bv, faces=bf, keypoints3d=np.zeros((1, 3), np.float32),
                   keypoint_names=("pelvis",), part_of_vertex=np.zeros(len(bv), np.int16), part_names=("torso",),
                   params={})  # fmt: skip
    hv = np.flatnonzero(bv[:, 0] > 0.19)[:5].astype(np.int64)
    contacts = ContactSet(human_vertices=hv, object_vertices=np.array([0, 1], np.int64), pairs=(("right_hand", "body"),),
                          pair_of_human_vertex=np.zeros(len(hv), np.int16),
                          pair_of_object_vertex=np.zeros(2, np.int16), source="fake")  # fmt: skip
    fit = FitResult(body=body, object=obj, losses={"total": 1.0, "contact_distance_m": 0.004,
                                                   "penetration_max_m": 0.001, "silhouette_iou": 0.5},
                    body_translation=np.zeros(3, np.float32))  # fmt: skip
    return Reconstruction(image=image, detections=Detections(person=person, object=odet), fit=fit, contacts=contacts,
                          config={"fake": True}, timings={"load": 0.01, "fitting": 0.02})  # fmt: skip


def no_temporaries(root: Path) -> list[Path]:
    """Every leftover temporary (``*.part*`` / ``.*.old``) under ``root``."""
    return [p for p in root.rglob("*") if ".part" in p.name or p.name.endswith(".old")]


@functools.lru_cache(maxsize=1)
def real_batch_output() -> tuple[Path, int, str]:
    """(out_dir, exit code, output) of ``hoirecon batch`` on camera.png, astronaut.png, truncated.png."""
    from typer.testing import CliRunner

    from hoirecon.cli.main import app

    work = Path(tempfile.mkdtemp(prefix="hoirecon-batch-e2e-"))
    src = work / "photos"
    src.mkdir()
    for name in ("camera.png", "camera.png.json", "astronaut.png", "astronaut.png.json"):
        shutil.copy(EXAMPLES / name, src / name)
    data = (EXAMPLES / "camera.png").read_bytes()
    (src / "truncated.png").write_bytes(data[: len(data) // 3])
    out = work / "out"
    res = CliRunner().invoke(app, ["batch", str(src), "--out", str(out), "--jobs", "1", "--quiet"])
    return out, res.exit_code, res.output
