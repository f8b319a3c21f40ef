"""Object mesh library: category table, label resolution, procedural meshes, user meshes.

Canonical object frame (every ``ObjectMesh`` this module returns, library or user mesh):

* units are metres at real-world size (the largest bounding-box extent equals the category's
  ``size_m`` from ``hoirecon/data/objects.json``);
* y points DOWN (gravity along +y); the object rests on the floor plane y = 0 with its lowest point
  there, so it occupies y <= 0 (its top is at y = -height);
* the bounding box is centred on x and z (centre x = 0, z = 0);
* the object's front faces -z (towards a camera placed at -z looking along +z); the frame is
  right-handed like the OpenCV camera frame (x right, y down, z forward as seen by that camera):
  - chair / bench: open seat side toward -z, backrest at +z;
  - bicycle / motorcycle / skateboard / surfboard / skis: long axis along z, nose toward -z;
  - laptop: hinge on the +z side of the base, the open screen (~105 deg) faces -z;
  - suitcase: carry handle on top; backpack: straps (the side against the wearer's back) on +z;
  - tennis racket / baseball bat / umbrella: standing vertical, grip / handle at the bottom
    (near y = 0), head / barrel / canopy up (towards -y); the racket head lies in the x-y plane;
  - camera_tripod: tripod feet on the floor, camera on top, lens toward -z;
  - helmet: opening down (rim on the floor), dome up; cup handle on +x;
  - cup, bottle, bat, umbrella are rotationally symmetric about y (``symmetry="rot_y"``), the ball
    is ``"sphere"``, the rest ``"mirror_x"`` (symmetric under x -> -x).

Procedural meshes are modelled in a y-up, front-toward-+z frame (glTF's convention) and turned into
the canonical frame by a 180 degree rotation about x: ``(x, y, z) -> (x, -y, -z)``. User mesh files
are assumed glTF-style (+Y up, front toward +Z) and go through the same rotation (a rotation, not a
mirror, so face winding and handedness survive).

Every procedural piece is a closed surface wound counter-clockwise seen from outside, so every
library mesh is watertight with consistent outward winding (pieces overlap; they are not unioned).
"""

from __future__ import annotations

import copy
import functools
import json
import logging
import math
import os
import re
from importlib import resources
from pathlib import Path
from typing import Callable

import numpy as np

from hoirecon.errors import InputError, shown
from hoirecon.objects import shapes as S
from hoirecon.types import ObjectMesh

__all__ = ["categories", "resolve_label", "resolve_label_verbose", "build_mesh", "load_user_mesh", "size_prior",
           "MAX_USER_VERTICES"]

_SYMMETRIES = ("none", "mirror_x", "rot_y", "sphere")
MAX_USER_VERTICES = 6000
"""User meshes with more vertices than this are decimated (quadric) to about this many."""


# --------------------------------------------------------------------------------- category table


def _read_table_text() -> str:
    try:
        return (resources.files("hoirecon") / "data" / "objects.json").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, TypeError, AttributeError, NotADirectoryError):
        return (Path(__file__).resolve().parent.parent / "data" / "objects.json").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def _table() -> dict[str, dict]:
    table = json.loads(_read_table_text())
    for key, entry in table.items():
        missing = {"synonyms", "size_m", "scale_sigma", "symmetry", "parts"} - set(entry)
        if missing:
            raise ValueError(f"objects.json: category '{key}' lacks {sorted(missing)}")
        if entry["symmetry"] not in _SYMMETRIES:
            raise ValueError(f"objects.json: category '{key}' has unknown symmetry '{entry['symmetry']}'")
        if not (float(entry["size_m"]) > 0 and float(entry["scale_sigma"]) > 0) or not entry["parts"]:
            raise ValueError(f"objects.json: category '{key}' needs size_m > 0, scale_sigma > 0, parts")
    return table


def categories() -> dict[str, dict]:
    """The category table: ``{key: {"synonyms", "size_m", "scale_sigma", "symmetry", "parts"}}``
    (a copy; the file is read once)."""
    return copy.deepcopy(_table())


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[_\-]+", " ", str(text).strip().lower())).strip()


@functools.lru_cache(maxsize=1)
def _lookup() -> tuple[dict[str, str], dict[str, str]]:
    """(normalised name -> key, name without spaces -> key)."""
    exact: dict[str, str] = {}
    for key, entry in _table().items():
        for name in [key, *entry["synonyms"]]:
            exact.setdefault(_norm(name), key)
    compact = {name.replace(" ", ""): key for name, key in exact.items()}
    return exact, compact


def _embeddings_disabled() -> bool:
    return os.environ.get("HOIRECON_NO_EMBEDDINGS", "").strip().lower() not in ("", "0", "false", "no", "off")


_EMBEDDING_FAILED: list[str] = []  # the first load / inference failure, logged once


def _nearest_by_embedding(name: str) -> tuple[str | None, float, list[tuple[str, float]]] | None:
    """``embedding.nearest_category(name)``, or None when the step is disabled
    (``HOIRECON_NO_EMBEDDINGS=1``), the model package is not installed, or the model fails."""
    if not name or _embeddings_disabled() or _EMBEDDING_FAILED:
        return None
    from hoirecon.objects import embedding

    if not embedding.available():
        return None
    try:
        return embedding.nearest_category(name)
    except Exception as err:  # a broken model install must not break exact label resolution
        _EMBEDDING_FAILED.append(_one_line(err))
        logging.getLogger(__name__).warning("label embedding disabled: %s", _EMBEDDING_FAILED[0])
        return None


def match_label(label: str) -> tuple[str, str] | None:
    """``(category, "name" | "synonym")`` when ``label`` names a category or one of its synonyms
    (see :func:`resolve_label_verbose`), else None. Needs no model: the input check uses it."""
    exact, compact = _lookup()
    name = _norm(label) if isinstance(label, str) else ""
    candidates = [name]
    if name.endswith("es"):
        candidates.append(name[:-2])
    if name.endswith("s"):
        candidates.append(name[:-1])
    if name:
        candidates.append(name + "s")
    for cand in candidates:
        if cand in exact:
            key = exact[cand]
            return key, ("name" if cand == _norm(key) else "synonym")
    for cand in candidates:
        if cand.replace(" ", "") in compact:
            key = compact[cand.replace(" ", "")]
            return key, ("name" if cand.replace(" ", "") == _norm(key).replace(" ", "") else "synonym")
    return None


def resolve_label_verbose(label: str) -> tuple[str, str, float | None]:
    """``(category, how, score)``: how the label was resolved. ``how`` is ``"name"`` (the category
    key itself, up to case, ``_``/``-``/spaces and a plural ``s``/``es``), ``"synonym"`` (one of its
    synonyms in ``objects.json``) or ``"embedding"`` (text-embedding similarity, see
    ``hoirecon.objects.embedding``; ``score`` is the cosine, ``None`` otherwise). Raises
    ``InputError`` listing the known categories, plus the closest one and its score when the
    embedding step ran."""
    hit = match_label(label)
    if hit is not None:
        return hit[0], hit[1], None
    name = _norm(label) if isinstance(label, str) else ""
    known = ", ".join(_table())
    nearest = _nearest_by_embedding(name)
    if nearest is not None:
        key, score, top = nearest
        if key is not None:
            return key, "embedding", score
        raise InputError(f"unknown object label '{shown(label)}'; known: {known}; closest: {top[0][0]} ({top[0][1]:.2f})")
    raise InputError(f"unknown object label '{shown(label)}'; known: {known}")


def resolve_label(label: str) -> str:
    """Map a user / detector label to a category key (``"Tennis-Racket"`` -> ``"tennis_racket"``,
    ``"bikes"`` -> ``"bicycle"``, ``"rocking chair"`` -> ``"chair"`` by text embedding). Raises
    ``InputError`` listing the known categories (and the closest one). See ``resolve_label_verbose``."""
    return resolve_label_verbose(label)[0]


def size_prior(category: str) -> tuple[float, float]:
    """``(size_m, scale_sigma)``: typical largest extent in metres and the log-scale std."""
    entry = _table()[resolve_label(category)]
    return float(entry["size_m"]), float(entry["scale_sigma"])


# ------------------------------------------------------------------------------ procedural models
# Modelled y-up, floor at y = 0, front toward +z (see module docstring); metres.

Piece = tuple[str, np.ndarray, np.ndarray]
_DEG = math.pi / 180.0


def _piece(name: str, mesh: S.Mesh) -> Piece:
    return name, mesh[0], mesh[1]


def _chair() -> list[Piece]:
    seat_top, seat_t, w, d = 0.45, 0.04, 0.46, 0.44
    out = [_piece("seat", S.box((w, seat_t, d), (0, seat_top - seat_t / 2, 0), spacing=0.025))]
    for sx in (-1, 1):
        for sz in (-1, 1):
            x, z = sx * (w / 2 - 0.03), sz * (d / 2 - 0.03)
            out.append(_piece("legs", S.cylinder((x, 0, z), (x, seat_top - seat_t + 0.005, z), 0.015,
                                                 segments=10, spacing=0.04)))
    # backrest panel, hinged at the back of the seat and leaning 8 deg backwards (towards -z)
    rot = S.rotation_x(-8 * _DEG)
    panel = (w, 0.45, 0.03)
    hinge = np.array([0.0, seat_top - 0.01, -d / 2 + 0.015])
    centre = hinge + rot @ np.array([0.0, panel[1] / 2, 0.0])
    out.append(_piece("backrest", S.box(panel, centre, spacing=0.03, rotation=rot)))
    return out


def _bench() -> list[Piece]:
    out = [_piece("seat", S.box((1.5, 0.05, 0.42), (0, 0.425, 0), spacing=0.04))]
    for x in (-0.68, 0.68):
        for z in (-0.16, 0.16):
            out.append(_piece("legs", S.box((0.05, 0.41, 0.05), (x, 0.205, z), spacing=0.06)))
        out.append(_piece("backrest", S.box((0.05, 0.45, 0.04), (x, 0.625, -0.19), spacing=0.05)))
    out.append(_piece("backrest", S.box((1.5, 0.28, 0.035), (0, 0.71, -0.19), spacing=0.04)))
    return out


def _bicycle() -> list[Piece]:
    out: list[Piece] = []
    r_wheel, y_hub, z_hub = 0.35, 0.35, 0.525
    for z in (-z_hub, z_hub):
        c = (0.0, y_hub, z)
        out.append(_piece("wheels", S.torus(c, r_wheel - 0.02, 0.02, axis=(1, 0, 0), spacing=0.035, minor_segments=8)))
        out.append(_piece("wheels", S.cylinder((-0.05, y_hub, z), (0.05, y_hub, z), 0.022, segments=10)))
        for k in range(8):
            a = 2 * math.pi * k / 8
            rim = np.array([0.0, y_hub + 0.315 * math.cos(a), z + 0.315 * math.sin(a)])
            hub = np.array([0.04 * (1 if k % 2 else -1), y_hub, z])
            out.append(_piece("wheels", S.capsule(hub, rim, 0.003, segments=5, spacing=0.1)))
    bb = (0.0, 0.28, -0.08)
    st_top, ht_top, ht_bot = (0.0, 0.82, -0.25), (0.0, 0.84, 0.36), (0.0, 0.70, 0.40)
    tubes = [(bb, st_top, 0.016), (st_top, ht_top, 0.015), (ht_bot, bb, 0.019),
             ((0, 0.68, 0.41), (0, 0.86, 0.355), 0.021), (st_top, (0, 0.90, -0.27), 0.013)]
    for sx in (-1, 1):
        tubes += [((sx * 0.02, 0.28, -0.08), (sx * 0.05, y_hub, -z_hub), 0.011),
                  ((sx * 0.015, 0.81, -0.25), (sx * 0.05, y_hub, -z_hub), 0.010),
                  ((sx * 0.03, 0.70, 0.40), (sx * 0.05, y_hub, z_hub), 0.013)]
    for p0, p1, r in tubes:
        out.append(_piece("frame", S.capsule(p0, p1, r, segments=10, spacing=0.04)))
    out.append(_piece("saddle", S.superellipsoid((0.14, 0.06, 0.27), (0, 0.925, -0.26), exponent=2.5, spacing=0.02)))
    out.append(_piece("handlebar", S.capsule(ht_top, (0, 1.0, 0.32), 0.015, segments=10, spacing=0.03)))
    bar = [(-0.29, 1.03, 0.27), (-0.12, 1.03, 0.31), (0.12, 1.03, 0.31), (0.29, 1.03, 0.27)]
    out.append(_piece("handlebar", S.tube(bar, 0.014, segments=12, spacing=0.02)))
    out.append(_piece("pedals", S.cylinder((-0.085, 0.28, -0.08), (0.085, 0.28, -0.08), 0.022, segments=12)))
    for sx, dz in ((1, 0.17), (-1, -0.17)):
        out.append(_piece("pedals", S.capsule((sx * 0.08, 0.28, -0.08), (sx * 0.09, 0.28, -0.08 + dz), 0.011,
                                              segments=8, spacing=0.03)))
        out.append(_piece("pedals", S.box((0.09, 0.022, 0.07), (sx * 0.14, 0.28, -0.08 + dz), spacing=0.02)))
    return out


def _motorcycle() -> list[Piece]:
    out: list[Piece] = []
    for z in (-0.72, 0.72):
        out.append(_piece("wheels", S.torus((0, 0.33, z), 0.25, 0.08, axis=(1, 0, 0), spacing=0.04, minor_segments=12)))
        out.append(_piece("wheels", S.cylinder((-0.045, 0.33, z), (0.045, 0.33, z), 0.19, segments=32, spacing=0.04)))
    body = [
        S.superellipsoid((0.32, 0.34, 0.5), (0, 0.45, -0.02), exponent=6, spacing=0.05),
        S.superellipsoid((0.36, 0.24, 0.55), (0, 0.83, 0.22), exponent=3, spacing=0.04),
        S.superellipsoid((0.24, 0.2, 0.55), (0, 0.66, -0.55), exponent=3, spacing=0.05),
        S.capsule((0, 0.95, 0.5), (0, 0.75, -0.3), 0.035, spacing=0.06),
        S.sphere((0, 0.9, 0.62), 0.09, spacing=0.04),
        S.capsule((0.16, 0.35, 0.1), (0.18, 0.45, -0.7), 0.04, spacing=0.06),
        S.box((0.36, 0.22, 0.01), (0, 1.045, 0.58), spacing=0.06, rotation=S.rotation_x(-20 * _DEG)),
    ]
    for sx in (-1, 1):
        body.append(S.capsule((sx * 0.09, 0.33, 0.72), (sx * 0.09, 0.98, 0.5), 0.025, spacing=0.06))
        body.append(S.capsule((sx * 0.09, 0.33, -0.72), (sx * 0.09, 0.42, -0.15), 0.025, spacing=0.06))
    out += [_piece("body", m) for m in body]
    out.append(_piece("seat", S.superellipsoid((0.3, 0.1, 0.6), (0, 0.75, -0.28), exponent=4, spacing=0.03)))
    bar = [(-0.38, 1.06, 0.40), (-0.15, 1.03, 0.46), (0.15, 1.03, 0.46), (0.38, 1.06, 0.40)]
    out.append(_piece("handlebar", S.tube(bar, 0.016, segments=12, spacing=0.02)))
    out.append(_piece("handlebar", S.capsule((0, 0.96, 0.5), (0, 1.03, 0.46), 0.02, spacing=0.03)))
    for sx in (-1, 1):
        out.append(_piece("handlebar", S.capsule((sx * 0.28, 1.05, 0.42), (sx * 0.3, 1.11, 0.42), 0.006,
                                                 segments=6, spacing=0.03)))
        out.append(_piece("handlebar", S.ellipsoid((0.08, 0.05, 0.02), (sx * 0.3, 1.125, 0.42), spacing=0.03)))
        out.append(_piece("footrests", S.capsule((sx * 0.12, 0.36, -0.05), (sx * 0.24, 0.36, -0.05), 0.015,
                                                 segments=10, spacing=0.02)))
    return out


def _skateboard() -> list[Piece]:
    def kick(u: np.ndarray) -> np.ndarray:
        return 0.094 + 0.035 * np.clip((np.abs(u) - 0.75) / 0.25, 0.0, 1.0) ** 2

    out = [_piece("deck", S.board(0.8, 0.2, 0.012, spacing=0.02, around=28, plan_exponent=(3, 3),
                                  section_exponent=6, thickness_exponent=0.2, lift=kick))]
    for z in (-0.28, 0.28):
        for sx in (-1, 1):
            out.append(_piece("wheels", S.cylinder((sx * 0.068, 0.027, z), (sx * 0.102, 0.027, z), 0.027,
                                                   segments=16, spacing=0.015)))
        out.append(_piece("wheels", S.cylinder((-0.075, 0.027, z), (0.075, 0.027, z), 0.007, segments=8)))
        out.append(_piece("wheels", S.box((0.1, 0.035, 0.03), (0, 0.05, z), spacing=0.03)))
        out.append(_piece("wheels", S.box((0.06, 0.012, 0.08), (0, 0.0835, z), spacing=0.03)))
    return out


def _surfboard() -> list[Piece]:
    def rocker(u: np.ndarray) -> np.ndarray:
        return 0.035 + 0.09 * np.clip(u, 0, None) ** 3 + 0.03 * np.clip(-u, 0, None) ** 3

    return [_piece("deck", S.board(2.0, 0.55, 0.07, spacing=0.03, around=32, plan_exponent=(3.0, 1.8),
                                   section_exponent=3, thickness_exponent=0.5, lift=rocker))]


def _skis() -> list[Piece]:
    def tip(u: np.ndarray) -> np.ndarray:
        return 0.01 + 0.06 * np.clip((u - 0.8) / 0.2, 0, 1) ** 2 + 0.015 * np.clip((-u - 0.9) / 0.1, 0, 1) ** 2

    out: list[Piece] = []
    for x in (-0.125, 0.125):
        out.append(_piece("skis", S.board(1.7, 0.1, 0.02, center=(x, 0, 0), spacing=0.03, around=16,
                                          plan_exponent=(8, 6), section_exponent=6, thickness_exponent=0.2, lift=tip)))
        out.append(_piece("bindings", S.box((0.07, 0.012, 0.4), (x, 0.025, -0.03), spacing=0.03)))
        out.append(_piece("bindings", S.box((0.08, 0.04, 0.12), (x, 0.05, 0.1), spacing=0.03)))
        out.append(_piece("bindings", S.box((0.08, 0.05, 0.1), (x, 0.055, -0.18), spacing=0.03)))
    return out


def _laptop() -> list[Piece]:
    w, depth, t_base = 0.34, 0.235, 0.018
    out = [_piece("base", S.box((w, t_base, depth), (0, t_base / 2, 0), spacing=0.025))]
    rot = S.rotation_x(-15 * _DEG)  # 105 deg from the base: the screen leans 15 deg back (-z)
    panel = (w, 0.225, 0.007)
    hinge = np.array([0.0, t_base - 0.002, -depth / 2 + 0.0035])
    out.append(_piece("screen", S.box(panel, hinge + rot @ np.array([0, panel[1] / 2, 0]), spacing=0.025, rotation=rot)))
    return out


def _cup() -> list[Piece]:
    r, h, wall, floor = 0.035, 0.1, 0.004, 0.008
    prof = [(0, 0), (0, 0.012), (0, 0.024), (0, r - 0.003), (0.003, r), (h, r), (h, r - wall),
            (floor, r - wall), (floor, 0.02), (floor, 0.01), (floor, 0)]
    out = [_piece("body", S.lathe(prof, segments=32, spacing=0.01))]
    th = np.linspace(0.5 * math.pi, -0.5 * math.pi, 13)
    path = np.stack([r - 0.002 + 0.022 * np.cos(th), 0.052 + 0.022 * np.sin(th), np.zeros_like(th)], 1)
    out.append(_piece("handle", S.tube(path, 0.005, segments=10, spacing=0.008)))
    return out


def _bottle() -> list[Piece]:
    body = [(0, 0), (0, 0.02), (0, 0.031), (0.004, 0.035), (0.16, 0.035), (0.17, 0.033), (0.18, 0.027),
            (0.19, 0.019), (0.198, 0.014), (0.2, 0)]
    return [
        _piece("body", S.lathe(body, segments=28, spacing=0.012)),
        _piece("neck", S.cylinder((0, 0.192, 0), (0, 0.226, 0), 0.0135, segments=20, spacing=0.01)),
        _piece("cap", S.cylinder((0, 0.222, 0), (0, 0.25, 0), 0.016, segments=20, spacing=0.01)),
    ]


def _tennis_racket() -> list[Piece]:
    out = [_piece("grip", S.cylinder((0, 0, 0), (0, 0.2, 0), 0.016, segments=12, spacing=0.015))]
    out.append(_piece("throat", S.capsule((0, 0.19, 0), (0, 0.25, 0), 0.013, segments=10, spacing=0.02)))
    for sx in (-1, 1):
        out.append(_piece("throat", S.capsule((0, 0.24, 0), (sx * 0.062, 0.37, 0), 0.009, segments=8, spacing=0.02)))
    th = np.linspace(0.0, 2 * math.pi, 48, endpoint=False)
    ring = np.stack([0.125 * np.cos(th), 0.515 + 0.155 * np.sin(th), np.zeros_like(th)], 1)
    out.append(_piece("head", S.tube(ring, (0.01, 0.01), segments=8, spacing=0.02, closed=True)))
    out.append(_piece("head", S.ellipsoid((0.235, 0.295, 0.005), (0, 0.515, 0), spacing=0.03)))
    return out


def _baseball_bat() -> list[Piece]:
    grip = [(0, 0), (0, 0.015), (0, 0.024), (0.004, 0.027), (0.012, 0.027), (0.02, 0.015), (0.03, 0.0125),
            (0.36, 0.0125), (0.36, 0)]
    barrel = [(0.33, 0), (0.33, 0.0135), (0.4, 0.015), (0.5, 0.021), (0.6, 0.029), (0.68, 0.032), (0.8, 0.033),
              (0.825, 0.03), (0.835, 0.024), (0.8395, 0.014), (0.84, 0)]
    return [_piece("grip", S.lathe(grip, segments=16, spacing=0.02)),
            _piece("barrel", S.lathe(barrel, segments=20, spacing=0.025))]


def _umbrella() -> list[Piece]:
    out = [_piece("handle", S.capsule((0, 0.016, 0), (0, 0.15, 0), 0.016, segments=12, spacing=0.015))]
    out.append(_piece("shaft", S.capsule((0, 0.14, 0), (0, 0.894, 0), 0.006, segments=8, spacing=0.05)))
    rs, yc, rim, thick = 0.625, 0.25, 0.5, 0.008
    radii = np.linspace(0.0, rim, 14)[1:]
    outer = [(yc + math.sqrt(rs**2 - r**2), r) for r in radii]
    inner = [(yc + math.sqrt(rs**2 - r**2) - thick, r) for r in radii[::-1]]
    prof = [(yc + rs, 0.0), *outer, *inner, (yc + rs - thick, 0.0)]
    out.append(_piece("canopy", S.lathe(prof, segments=40)))
    return out


def _backpack() -> list[Piece]:
    out = [_piece("body", S.superellipsoid((0.32, 0.46, 0.2), (0, 0.23, 0), exponent=4, spacing=0.035)),
           _piece("body", S.superellipsoid((0.24, 0.2, 0.06), (0, 0.15, 0.1), exponent=4, spacing=0.04))]
    for sx in (-1, 1):  # shoulder straps on the back side (-z here, +z canonical)
        path = [(sx * 0.07, 0.41, -0.085), (sx * 0.08, 0.39, -0.125), (sx * 0.095, 0.28, -0.135),
                (sx * 0.11, 0.15, -0.125), (sx * 0.12, 0.06, -0.09)]
        out.append(_piece("straps", S.tube(path, 0.01, segments=8, spacing=0.02)))
    grab = [(-0.04, 0.45, -0.04), (-0.03, 0.474, -0.04), (0.03, 0.474, -0.04), (0.04, 0.45, -0.04)]
    out.append(_piece("straps", S.tube(grab, 0.006, segments=8, spacing=0.015)))
    return out


def _suitcase() -> list[Piece]:
    out = [_piece("body", S.superellipsoid((0.42, 0.6, 0.25), (0, 0.345, 0), exponent=8, spacing=0.04))]
    handle = [(-0.075, 0.63, 0), (-0.07, 0.66, 0), (-0.055, 0.672, 0), (0.055, 0.672, 0), (0.07, 0.66, 0),
              (0.075, 0.63, 0)]
    out.append(_piece("handle", S.tube(handle, 0.011, segments=10, spacing=0.015)))
    for sx in (-1, 1):
        for sz in (-1, 1):
            x, z = sx * 0.17, sz * 0.09
            out.append(_piece("wheels", S.cylinder((x - 0.01, 0.025, z), (x + 0.01, 0.025, z), 0.025, segments=12)))
            out.append(_piece("wheels", S.box((0.03, 0.04, 0.035), (x, 0.055, z), spacing=0.03)))
    return out


def _sports_ball() -> list[Piece]:
    return [_piece("surface", S.sphere((0, 0.11, 0), 0.11, spacing=0.02))]


def _furniture_table() -> list[Piece]:
    out = [_piece("top", S.box((1.2, 0.04, 0.8), (0, 0.73, 0), spacing=0.04))]
    for sx in (-1, 1):
        for sz in (-1, 1):
            out.append(_piece("legs", S.box((0.05, 0.715, 0.05), (sx * 0.55, 0.3575, sz * 0.35), spacing=0.06)))
    return out


def _helmet() -> list[Piece]:
    h_out, h_in, inner_r = 0.19, 0.165, 0.81
    rho = np.linspace(0.0, 1.0, 12)[1:]
    outer = [(h_out * math.sqrt(max(0.0, 1 - r**2)), r) for r in rho]
    inner = [(h_in * math.sqrt(max(0.0, 1 - (r / inner_r) ** 2)), r) for r in (inner_r * rho)[::-1]]
    prof = [(h_out, 0.0), *outer, *inner, (h_in, 0.0)]
    v, f = S.lathe(prof, segments=40)
    return [_piece("shell", (v * np.array([0.115, 1.0, 0.15]), f))]


def _camera_tripod() -> list[Piece]:
    out = [_piece("legs", S.cylinder((0, 1.32, 0), (0, 1.38, 0), 0.04, segments=16)),
           _piece("legs", S.capsule((0, 1.1, 0), (0, 1.42, 0), 0.014, segments=8, spacing=0.04))]
    for a in (math.pi, math.pi / 3, -math.pi / 3):  # one leg at the back (-z here), two in front
        foot = (0.42 * math.sin(a), 0.013, 0.42 * math.cos(a))
        top = (0.03 * math.sin(a), 1.34, 0.03 * math.cos(a))
        out.append(_piece("legs", S.capsule(top, foot, 0.013, segments=8, spacing=0.04)))
    out.append(_piece("head", S.sphere((0, 1.44, 0), 0.03, spacing=0.02)))
    out.append(_piece("head", S.box((0.06, 0.012, 0.06), (0, 1.474, 0), spacing=0.02)))
    out.append(_piece("camera", S.box((0.13, 0.07, 0.075), (0, 1.515, 0), spacing=0.02)))
    out.append(_piece("camera", S.cylinder((0, 1.512, 0.03), (0, 1.512, 0.12), 0.032, segments=20, spacing=0.02)))
    return out


_BUILDERS: dict[str, Callable[[], list[Piece]]] = {
    "chair": _chair,
    "bench": _bench,
    "bicycle": _bicycle,
    "motorcycle": _motorcycle,
    "skateboard": _skateboard,
    "surfboard": _surfboard,
    "skis": _skis,
    "laptop": _laptop,
    "cup": _cup,
    "bottle": _bottle,
    "tennis_racket": _tennis_racket,
    "baseball_bat": _baseball_bat,
    "umbrella": _umbrella,
    "backpack": _backpack,
    "suitcase": _suitcase,
    "sports_ball": _sports_ball,
    "table": _furniture_table,
    "helmet": _helmet,
    "camera_tripod": _camera_tripod,
}

_TO_CANONICAL = np.array([1.0, -1.0, -1.0])  # 180 deg about x: y-up/front+z -> y-down/front-z


def _canonicalise(vertices: np.ndarray, size_m: float | None) -> np.ndarray:
    """y-up / front +z vertices -> canonical frame (rotate, centre x/z, base at y = 0, scale)."""
    v = np.asarray(vertices, dtype=np.float64) * _TO_CANONICAL
    lo, hi = v.min(0), v.max(0)
    v = v - np.array([(lo[0] + hi[0]) / 2, hi[1], (lo[2] + hi[2]) / 2])
    if size_m is not None:
        extent = float((hi - lo).max())
        if extent <= 0:
            raise ValueError("degenerate mesh")
        v = v * (size_m / extent)
    return v


def _readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def _make(category: str, vertices: np.ndarray, faces: np.ndarray, part_of_vertex: np.ndarray,
          part_names: tuple[str, ...], source: str) -> ObjectMesh:
    return ObjectMesh(
        category=category,
        vertices=_readonly(vertices.astype(np.float32)),
        faces=_readonly(faces.astype(np.int64)),
        part_of_vertex=_readonly(part_of_vertex.astype(np.int16)),
        part_names=tuple(part_names),
        source=source,
        symmetry=str(_table()[category]["symmetry"]),
    )


@functools.lru_cache(maxsize=None)
def _build_cached(category: str) -> ObjectMesh:
    entry = _table()[category]
    v, f, pov, names = S.merge(_BUILDERS[category](), part_names=entry["parts"])
    v = _canonicalise(v, float(entry["size_m"]))
    return _make(category, v, f, pov, names, f"library:{category}")


def build_mesh(category: str) -> ObjectMesh:
    """The procedural library mesh of ``category`` (a key or any label ``resolve_label`` accepts) in
    the canonical frame, at the category's typical size. Cached; arrays are read-only."""
    key = resolve_label(category)
    if key not in _BUILDERS:  # a category in the table without a builder
        raise InputError(f"no procedural mesh for object category '{key}'")
    return _build_cached(key)


# -------------------------------------------------------------------------------------- user mesh


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _decimate(vertices: np.ndarray, faces: np.ndarray, max_vertices: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        import open3d as o3d
    except Exception:  # open3d missing / broken: keep the full mesh
        return vertices, faces
    mesh = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(vertices.astype(np.float64)),
                                     o3d.utility.Vector3iVector(faces.astype(np.int32)))
    mesh = mesh.simplify_quadric_decimation(target_number_of_triangles=int(2 * max_vertices))
    mesh.remove_unreferenced_vertices()
    mesh.remove_degenerate_triangles()
    v, f = np.asarray(mesh.vertices), np.asarray(mesh.triangles, dtype=np.int64)
    if len(v) == 0 or len(f) == 0:
        return vertices, faces
    return v, f


MAX_MESH_BYTES = 512 * 1024 * 1024


def read_mesh_file(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """A user mesh file that trimesh reads as triangles with finite vertices, valid face indices and a
    non-zero area, read without trimesh's clean-up (which would hide NaN vertices): ``(vertices (V, 3)
    float64, faces (F, 3) int64)``. Every fault is a one-line InputError naming the file."""
    import trimesh  # a geometry library, not a model

    p = Path(path)
    where = shown(p)
    if not p.exists():
        raise InputError(f"{where}: mesh file not found")
    if not p.is_file():
        raise InputError(f"{where}: mesh path is not a file")
    size = p.stat().st_size
    if size == 0:
        raise InputError(f"{where}: mesh file is empty")
    if size > MAX_MESH_BYTES:
        raise InputError(f"{where}: mesh file is {size / 1e6:.0f} MB (limit {MAX_MESH_BYTES / 1e6:.0f} MB)")
    if not os.access(p, os.R_OK):
        raise InputError(f"{where}: permission denied")
    ext = p.suffix.lower().lstrip(".")
    if ext not in ("obj", "glb", "gltf", "ply", "stl", "off"):
        raise InputError(f"{where}: mesh must be .obj, .glb, .gltf, .ply, .stl or .off, got '{shown(p.suffix, 20)}'")
    try:
        loaded = trimesh.load(str(p), force="mesh", process=False)
    except Exception as err:  # noqa: BLE001 - trimesh's readers raise many types for a bad file; this is the reader's verdict
        msg = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise InputError(f"{where}: cannot read the mesh ({shown(msg, 120)})") from None
    if isinstance(loaded, trimesh.Scene):
        geoms = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh)]
        loaded = trimesh.util.concatenate(geoms) if geoms else None
    if not isinstance(loaded, trimesh.Trimesh):
        raise InputError(f"{where}: the file holds no triangle mesh")
    v = np.asarray(loaded.vertices, dtype=np.float64)
    f = np.asarray(loaded.faces, dtype=np.int64)
    if len(v) == 0 or len(f) == 0:
        raise InputError(f"{where}: mesh is empty (no faces)")
    if not np.all(np.isfinite(v)):
        bad = int((~np.isfinite(v)).any(axis=1).sum())
        raise InputError(f"{where}: mesh has {bad} vertices with NaN or infinite coordinates")
    if f.min() < 0 or f.max() >= len(v):
        raise InputError(f"{where}: mesh faces index vertices that do not exist")
    tri = v[f]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    if not float(area.sum()) > 0.0 or float((v.max(0) - v.min(0)).max()) <= 0.0:
        raise InputError(f"{where}: mesh is degenerate (zero area)")
    return v, f


def load_user_mesh(path: str | Path, category: str, *, max_vertices: int | None = MAX_USER_VERTICES) -> ObjectMesh:
    """Read a user's OBJ / GLB / GLTF / PLY / STL mesh for ``category`` into the canonical frame.

    The file is assumed glTF-style (+Y up, front toward +Z): it is turned upside down by the
    rotation ``(x, y, z) -> (x, -y, -z)``, centred on x/z with its base at y = 0, and scaled
    uniformly so that its largest extent equals the category's ``size_m``. Meshes with more than
    ``max_vertices`` vertices are decimated. Every vertex gets the part of the nearest vertex of the
    category's library mesh after both bounding boxes are aligned, so part-based contacts work.
    Errors (missing, unreadable or empty file) raise a one-line ``InputError`` naming the file."""
    import trimesh

    key = resolve_label(category)
    p = Path(path)
    vertices, faces = read_mesh_file(p)  # checked as stored: finite, valid faces, non-zero area
    cleaned = trimesh.Trimesh(vertices, faces, process=True)  # then merged as trimesh.load(process=True) does
    vertices = np.asarray(cleaned.vertices, dtype=np.float64)
    faces = np.asarray(cleaned.faces, dtype=np.int64)
    used = np.unique(faces)
    if len(used) < len(vertices):  # drop unreferenced vertices
        remap = np.full(len(vertices), -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        vertices, faces = vertices[used], remap[faces]
    if float((vertices.max(0) - vertices.min(0)).max()) <= 0:
        raise InputError(f"object mesh '{p}' is degenerate (zero size)")
    if max_vertices is not None and len(vertices) > max_vertices:
        vertices, faces = _decimate(vertices, faces, max_vertices)

    size_m = float(_table()[key]["size_m"])
    v = _canonicalise(vertices, size_m)

    # parts: nearest vertex of the library mesh after mapping its bounding box onto this mesh's
    lib = build_mesh(key)
    lv = lib.vertices.astype(np.float64)
    llo, lhi = lv.min(0), lv.max(0)
    ulo, uhi = v.min(0), v.max(0)
    mapped = (lv - llo) / np.maximum(lhi - llo, 1e-9) * (uhi - ulo) + ulo
    from scipy.spatial import cKDTree

    _, nearest = cKDTree(mapped).query(v, k=1)
    part_of_vertex = lib.part_of_vertex[nearest]
    return _make(key, v, faces, part_of_vertex, lib.part_names, f"user:{p.name}")
