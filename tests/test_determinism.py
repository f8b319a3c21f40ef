"""The same photo and options give the same result: alone (the console script, --quiet, whose stderr
must stay empty), third in a batch after other photos, with --jobs 2, and on Ray. Real pipeline (Anny,
MediaPipe, GrabCut) on the CPU; about two minutes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from hoirecon.batch import run_batch

from .conftest import EXAMPLES


def _inputs(folder: Path) -> Path:
    """a_astronaut.png, b_flipped.png (the camera photo mirrored), c_camera.png: the target is third."""
    folder.mkdir()
    shutil.copy(EXAMPLES / "astronaut.png", folder / "a_astronaut.png")
    shutil.copy(EXAMPLES / "astronaut.png.json", folder / "a_astronaut.png.json")
    img = Image.open(EXAMPLES / "camera.png")
    img.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(folder / "b_flipped.png")
    side = json.loads((EXAMPLES / "camera.png.json").read_text())
    x0, y0, x1, y1 = side["object_box"]
    side["object_box"] = [img.width - x1, y0, img.width - x0, y1]
    (folder / "b_flipped.png.json").write_text(json.dumps(side))
    shutil.copy(EXAMPLES / "camera.png", folder / "c_camera.png")
    shutil.copy(EXAMPLES / "camera.png.json", folder / "c_camera.png.json")
    return folder / "c_camera.png"


def _numbers(params: dict) -> dict[str, np.ndarray]:
    o, b = params["object"], params["body"]["params"]
    out = {
        "object.rotation": np.asarray(o["rotation"], float),
        "object.translation": np.asarray(o["translation"], float),
        "object.scale": np.asarray([o["scale"]], float),
        "body.global_orient": np.asarray(b["global_orient"], float),
        "body.transl": np.asarray(b["transl"], float),
        "body.phenotypes": np.asarray(sorted(b["phenotypes"].items()))[:, 1].astype(float),
        "body.pose": np.asarray([v for _, v in sorted(b["bone_axis_angle"].items())], float),
        "losses.total": np.asarray([params["losses"]["total"]], float),
    }
    return out


def _same(a: dict, b: dict, what: str) -> None:
    na, nb = _numbers(a), _numbers(b)
    for k in na:
        diff = float(np.abs(na[k] - nb[k]).max())
        assert diff <= 1e-6, (what, k, diff)
    assert a["contacts"]["pairs"] == b["contacts"]["pairs"], what
    assert a["contacts"]["human_vertices"] == b["contacts"]["human_vertices"], what
    assert a["detections"]["object"]["box"] == b["detections"]["object"]["box"], what


def test_same_answer_alone_in_a_batch_with_jobs_and_on_ray(tmp_path, anny_body):
    target = _inputs(tmp_path / "photos")
    # alone, as a user runs it: the console script with --quiet prints nothing at all on stderr
    env = dict(os.environ)
    env.pop("HOIRECON_DEBUG", None)
    p = subprocess.run([sys.executable, "-c", "from hoirecon.cli.main import run; run()", "reconstruct", str(target),
                        "--out", str(tmp_path / "alone"), "--quiet"], capture_output=True, text=True, env=env,
                       timeout=600)  # fmt: skip
    assert p.returncode == 0, p.stderr[-2000:]
    assert p.stderr == "" and p.stdout == ""
    alone = json.loads((tmp_path / "alone" / "params.json").read_text())

    runs = {}
    for label, kwargs in [("third in a batch", dict(jobs=1)), ("--jobs 2", dict(jobs=2)),
                          ("ray --jobs 2", dict(jobs=2, engine="ray"))]:  # fmt: skip
        out = tmp_path / label.replace(" ", "_").replace("-", "")
        res = run_batch(tmp_path / "photos", out, turntable=False, index=False, **kwargs)
        assert res.counts["ok"] == 3, (label, [r.get("error") for r in res.rows])
        runs[label] = json.loads((out / "c_camera" / "params.json").read_text())
    for label, params in runs.items():
        _same(alone, params, label)
