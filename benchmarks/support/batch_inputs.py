"""Inputs for batch demos and tests: real examples, synthetic renders, and deliberately bad files.

``write_batch_inputs(folder, n_synthetic=22)`` fills ``folder`` with (names are stable):

* the two example photos with their sidecars (``camera.png``, ``astronaut.png``), a JPEG copy of the
  astronaut (``astronaut.jpg``: same stem as ``astronaut.png``, so the batch must give it another output
  folder), a grayscale copy of it (``gray_astronaut.png``) and an RGBA copy of the astronaut
  with a transparent border (``rgba_astronaut.png``), each with a sidecar;
* ``n_synthetic`` renders of benchmark scenes (:mod:`benchmarks.support.scenes`: a posed Anny body using a
  library object, true masks): the body is shaded with skin, shirt, trousers and shoe colours, the
  object in one colour, over a wall/floor background (open3d ray casting, no GL); each has a sidecar
  with the object label, the object's box from its true mask, and the true focal length;
* bad files: ``truncated.png`` (the first 40 % of a PNG), ``not_an_image.jpg`` (text), ``tiny_16x16.png``
  (below the 32 px minimum) and ``huge_8000x6000.jpg`` (48 megapixels, above the 40 MP limit).

``manifest.json`` lists every image with ``expect`` ``"ok"`` or ``"error"`` (and why). The files are
deterministic in ``seed``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from hoirecon import fsutil

__all__ = ["write_batch_inputs", "render_photo", "BAD_FILES"]

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

BAD_FILES = {
    "truncated.png": "corrupt or truncated",
    "not_an_image.jpg": "not an image file",
    "tiny_16x16.png": "too small",
    "huge_8000x6000.jpg": "too large",
}

_SKIN = (224, 172, 140)
_TROUSERS = (45, 55, 90)
_SHOES = (35, 35, 35)
_SKIN_PARTS = {"head", "neck", "left_hand", "right_hand", "left_forearm", "right_forearm"}
_SHIRT_PARTS = {"chest", "back", "belly", "lower_back", "left_upper_arm", "right_upper_arm"}
_FEET = {"left_foot", "right_foot"}


def _body_colors(part_of_vertex: np.ndarray, part_names, shirt: tuple[int, int, int]) -> np.ndarray:
    colors = np.empty((len(part_of_vertex), 3), np.float32)
    colors[:] = np.asarray(_TROUSERS, np.float32) / 255.0
    for k, name in enumerate(part_names):
        sel = part_of_vertex == k
        if name in _SKIN_PARTS:
            colors[sel] = np.asarray(_SKIN, np.float32) / 255.0
        elif name in _SHIRT_PARTS:
            colors[sel] = np.asarray(shirt, np.float32) / 255.0
        elif name in _FEET:
            colors[sel] = np.asarray(_SHOES, np.float32) / 255.0
    return colors


def _background(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    wall = rng.uniform(150, 225, 3)
    floor = rng.uniform(70, 140, 3)
    horizon = int(h * rng.uniform(0.55, 0.75))
    y = np.arange(h, dtype=np.float32)[:, None, None]
    img = np.where(y < horizon, wall * (0.85 + 0.15 * y / max(horizon, 1)), floor * (1.0 - 0.2 * (y - horizon) / h))
    img = np.broadcast_to(img, (h, w, 3)).astype(np.float32)
    img = img + rng.normal(0.0, 4.0, (h, w, 3))
    return np.clip(img, 0, 255)


def render_photo(scene, seed: int = 0) -> np.ndarray:
    """A shaded (H, W, 3) uint8 "photo" of a benchmark scene (camera frame and intrinsics of the scene)."""
    from hoirecon.export.overlay import render_layers

    rng = np.random.default_rng(seed)
    shirt = tuple(int(x) for x in rng.integers(40, 230, 3))
    body = scene.body
    bc = _body_colors(np.asarray(body.part_of_vertex), body.part_names, shirt)
    oc = np.broadcast_to(rng.uniform(0.2, 0.9, 3).astype(np.float32), (len(scene.object_vertices), 3))
    layers = render_layers(scene.camera, [(body.vertices, body.faces, bc), (scene.object_vertices, scene.mesh.faces, oc)])
    h, w = layers.mask.shape
    img = _background(h, w, rng)
    img[layers.mask] = layers.color[layers.mask] * 255.0
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def _copy_with_sidecar(src: Path, dst: Path, sidecar: dict | None = None) -> None:
    shutil.copyfile(src, dst)
    side = sidecar if sidecar is not None else json.loads((src.parent / (src.name + ".json")).read_text())
    fsutil.write_json(dst.parent / (dst.name + ".json"), side)


def write_batch_inputs(folder: str | Path, n_synthetic: int = 22, seed: int = 0, model=None) -> list[dict[str, Any]]:
    """Write the batch inputs into ``folder`` (see the module docstring); returns the manifest rows."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []

    def ok(name: str, what: str) -> None:
        rows.append({"image": name, "expect": "ok", "what": what})

    for name in ("camera.png", "astronaut.png"):
        _copy_with_sidecar(EXAMPLES / name, folder / name)
        ok(name, "example photo")
    astro_side = json.loads((EXAMPLES / "astronaut.png.json").read_text())
    with Image.open(EXAMPLES / "astronaut.png") as im:
        im.convert("RGB").save(folder / "astronaut.jpg", quality=92)
        fsutil.write_json(folder / "astronaut.jpg.json", astro_side)
        ok("astronaut.jpg", "JPEG copy; same stem as astronaut.png")
        rgba = im.convert("RGBA")
        a = np.asarray(rgba).copy()
        a[:12, :, 3] = 0
        a[-12:, :, 3] = 0
        a[:, :12, 3] = 0
        a[:, -12:, 3] = 128
        Image.fromarray(a, "RGBA").save(folder / "rgba_astronaut.png")
        fsutil.write_json(folder / "rgba_astronaut.png.json", astro_side)
        ok("rgba_astronaut.png", "RGBA with a transparent border")
        im.convert("L").save(folder / "gray_astronaut.png")
        fsutil.write_json(folder / "gray_astronaut.png.json", astro_side)
        ok("gray_astronaut.png", "grayscale")

    if n_synthetic > 0:
        from benchmarks.support.scenes import generate_scene, sample_categories

        if model is None:
            from hoirecon.body.anny_model import AnnyBody

            model = AnnyBody()
        for i, cat in enumerate(sample_categories(n_synthetic, seed)):
            scene = generate_scene(cat, seed=seed, index=i, model=model)
            name = f"synthetic_{i:03d}_{cat}.png"
            Image.fromarray(render_photo(scene, seed=seed * 1000 + i)).save(folder / name)
            box = [round(float(x), 1) for x in scene.object.box.as_list()]
            side = {"object": cat.replace("_", " "), "object_box": box, "focal_px": round(float(scene.camera.fx), 3)}
            fsutil.write_json(folder / (name + ".json"), side)
            ok(name, f"synthetic render of a '{cat}' benchmark scene")

    png = (EXAMPLES / "camera.png").read_bytes()
    (folder / "truncated.png").write_bytes(png[: int(len(png) * 0.4)])
    (folder / "not_an_image.jpg").write_text("this is a text file with an image extension\n")
    Image.new("RGB", (16, 16), (120, 120, 120)).save(folder / "tiny_16x16.png")
    Image.new("RGB", (8000, 6000), (90, 120, 150)).save(folder / "huge_8000x6000.jpg", quality=50)
    for name, why in BAD_FILES.items():
        rows.append({"image": name, "expect": "error", "what": why})

    rows.sort(key=lambda r: r["image"])
    fsutil.write_json(folder / "manifest.json", {"seed": seed, "images": rows})
    return rows
