"""The procedural object models: one builder per category of ``objects.json``, registered under the
category's key with ``@builder("key")``.

A builder takes no argument and returns the category's pieces ``[(part name, vertices, faces), ...]``
(``shapes.merge`` joins them, in the part order of ``objects.json``). Builders model in a y-up frame,
floor at y = 0, front toward +z (glTF's convention), in metres at about real-world size;
``hoirecon.objects.library`` turns the result into the canonical object frame (180 degrees about x,
centred, base on y = 0) and scales its largest extent to the category's ``size_m``. Every piece is a
closed surface wound counter-clockwise seen from outside (``hoirecon.objects.shapes``).

Adding a category: an entry in ``hoirecon/data/objects.json`` plus a function here decorated with
``@builder("<key>")`` whose piece names are the entry's ``parts`` (and, for contacts, pairs in
``contacts.json``). ``tests/test_objects.py`` checks that the table and the builders match.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from hoirecon.objects import shapes as S

__all__ = ["Piece", "Builder", "builder", "builders", "builder_for"]

Piece = tuple[str, np.ndarray, np.ndarray]
Builder = Callable[[], list[Piece]]
_DEG = math.pi / 180.0
_REGISTRY: dict[str, Builder] = {}


def builder(key: str) -> Callable[[Builder], Builder]:
    """Decorator: register the function as the procedural model of category ``key``."""

    def register(fn: Builder) -> Builder:
        if key in _REGISTRY:
            raise ValueError(f"two builders for object category '{key}': {_REGISTRY[key].__name__}, {fn.__name__}")
        _REGISTRY[key] = fn
        return fn

    return register


def builders() -> dict[str, Builder]:
    """``{category key: builder}`` for every registered model (a copy), in definition order."""
    return dict(_REGISTRY)


def builder_for(key: str) -> Builder | None:
    """The builder of category ``key``, or None when it has none."""
    return _REGISTRY.get(key)


def _piece(name: str, mesh: S.Mesh) -> Piece:
    return name, mesh[0], mesh[1]


@builder("chair")
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


@builder("bench")
def _bench() -> list[Piece]:
    out = [_piece("seat", S.box((1.5, 0.05, 0.42), (0, 0.425, 0), spacing=0.04))]
    for x in (-0.68, 0.68):
        for z in (-0.16, 0.16):
            out.append(_piece("legs", S.box((0.05, 0.41, 0.05), (x, 0.205, z), spacing=0.06)))
        out.append(_piece("backrest", S.box((0.05, 0.45, 0.04), (x, 0.625, -0.19), spacing=0.05)))
    out.append(_piece("backrest", S.box((1.5, 0.28, 0.035), (0, 0.71, -0.19), spacing=0.04)))
    return out


@builder("bicycle")
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


@builder("motorcycle")
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


@builder("skateboard")
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


@builder("surfboard")
def _surfboard() -> list[Piece]:
    def rocker(u: np.ndarray) -> np.ndarray:
        return 0.035 + 0.09 * np.clip(u, 0, None) ** 3 + 0.03 * np.clip(-u, 0, None) ** 3

    return [_piece("deck", S.board(2.0, 0.55, 0.07, spacing=0.03, around=32, plan_exponent=(3.0, 1.8),
                                   section_exponent=3, thickness_exponent=0.5, lift=rocker))]


@builder("skis")
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


@builder("laptop")
def _laptop() -> list[Piece]:
    w, depth, t_base = 0.34, 0.235, 0.018
    out = [_piece("base", S.box((w, t_base, depth), (0, t_base / 2, 0), spacing=0.025))]
    rot = S.rotation_x(-15 * _DEG)  # 105 deg from the base: the screen leans 15 deg back (-z)
    panel = (w, 0.225, 0.007)
    hinge = np.array([0.0, t_base - 0.002, -depth / 2 + 0.0035])
    out.append(_piece("screen", S.box(panel, hinge + rot @ np.array([0, panel[1] / 2, 0]), spacing=0.025, rotation=rot)))
    return out


@builder("cup")
def _cup() -> list[Piece]:
    r, h, wall, floor = 0.035, 0.1, 0.004, 0.008
    prof = [(0, 0), (0, 0.012), (0, 0.024), (0, r - 0.003), (0.003, r), (h, r), (h, r - wall),
            (floor, r - wall), (floor, 0.02), (floor, 0.01), (floor, 0)]
    out = [_piece("body", S.lathe(prof, segments=32, spacing=0.01))]
    th = np.linspace(0.5 * math.pi, -0.5 * math.pi, 13)
    path = np.stack([r - 0.002 + 0.022 * np.cos(th), 0.052 + 0.022 * np.sin(th), np.zeros_like(th)], 1)
    out.append(_piece("handle", S.tube(path, 0.005, segments=10, spacing=0.008)))
    return out


@builder("bottle")
def _bottle() -> list[Piece]:
    body = [(0, 0), (0, 0.02), (0, 0.031), (0.004, 0.035), (0.16, 0.035), (0.17, 0.033), (0.18, 0.027),
            (0.19, 0.019), (0.198, 0.014), (0.2, 0)]
    return [
        _piece("body", S.lathe(body, segments=28, spacing=0.012)),
        _piece("neck", S.cylinder((0, 0.192, 0), (0, 0.226, 0), 0.0135, segments=20, spacing=0.01)),
        _piece("cap", S.cylinder((0, 0.222, 0), (0, 0.25, 0), 0.016, segments=20, spacing=0.01)),
    ]


@builder("tennis_racket")
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


@builder("baseball_bat")
def _baseball_bat() -> list[Piece]:
    grip = [(0, 0), (0, 0.015), (0, 0.024), (0.004, 0.027), (0.012, 0.027), (0.02, 0.015), (0.03, 0.0125),
            (0.36, 0.0125), (0.36, 0)]
    barrel = [(0.33, 0), (0.33, 0.0135), (0.4, 0.015), (0.5, 0.021), (0.6, 0.029), (0.68, 0.032), (0.8, 0.033),
              (0.825, 0.03), (0.835, 0.024), (0.8395, 0.014), (0.84, 0)]
    return [_piece("grip", S.lathe(grip, segments=16, spacing=0.02)),
            _piece("barrel", S.lathe(barrel, segments=20, spacing=0.025))]


@builder("umbrella")
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


@builder("backpack")
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


@builder("suitcase")
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


@builder("sports_ball")
def _sports_ball() -> list[Piece]:
    return [_piece("surface", S.sphere((0, 0.11, 0), 0.11, spacing=0.02))]


@builder("table")
def _furniture_table() -> list[Piece]:
    out = [_piece("top", S.box((1.2, 0.04, 0.8), (0, 0.73, 0), spacing=0.04))]
    for sx in (-1, 1):
        for sz in (-1, 1):
            out.append(_piece("legs", S.box((0.05, 0.715, 0.05), (sx * 0.55, 0.3575, sz * 0.35), spacing=0.06)))
    return out


@builder("helmet")
def _helmet() -> list[Piece]:
    h_out, h_in, inner_r = 0.19, 0.165, 0.81
    rho = np.linspace(0.0, 1.0, 12)[1:]
    outer = [(h_out * math.sqrt(max(0.0, 1 - r**2)), r) for r in rho]
    inner = [(h_in * math.sqrt(max(0.0, 1 - (r / inner_r) ** 2)), r) for r in (inner_r * rho)[::-1]]
    prof = [(h_out, 0.0), *outer, *inner, (h_in, 0.0)]
    v, f = S.lathe(prof, segments=40)
    return [_piece("shell", (v * np.array([0.115, 1.0, 0.15]), f))]


@builder("camera_tripod")
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
