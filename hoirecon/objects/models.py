"""The procedural object models. Most categories are data: the ``shape`` of their ``objects.json``
entry (named pieces made of primitives with metric sizes and placements; the schema is in
:mod:`hoirecon.objects.catalog`), built by the one generic builder :func:`shape_pieces`. The shapes
that data describe badly (the first 19 categories: bicycle spokes, a skateboard's kick tails, a
racket's head, an umbrella's spherical canopy) keep a Python builder registered under the category's
key with ``@builder("key")``; :func:`builder_for` gives either.

A builder takes no argument and returns the category's pieces ``[(part name, vertices, faces), ...]``
(``shapes.merge`` joins them, in the part order of ``objects.json``). Builders model in a y-up frame,
floor at y = 0, front toward +z (glTF's convention), in metres at about real-world size;
``hoirecon.objects.library`` turns the result into the canonical object frame (180 degrees about x,
centred, base on y = 0) and scales its largest extent to the category's ``size_m``. Every piece is a
closed surface wound counter-clockwise seen from outside (``hoirecon.objects.shapes``).

Adding a category: an entry in ``hoirecon/data/objects.json`` with a ``shape`` (or, for a shape the
primitives cannot describe, a function here decorated with ``@builder("<key>")``) whose piece names
are the entry's ``parts``, and its interaction modes in ``contacts.json``. ``tests/test_objects.py``
checks that every category builds, is watertight, has its parts and is as big as its ``size_m``.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import numpy as np

from hoirecon.objects import catalog
from hoirecon.objects import shapes as S

__all__ = ["Piece", "Builder", "PRIMITIVES", "builder", "builders", "builder_for", "shape_pieces"]

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
    """The builder of category ``key``: its registered Python builder, else the generic builder of
    its ``shape`` data (:func:`shape_pieces`), else None (an unknown key, or no geometry)."""
    if key in _REGISTRY:
        return _REGISTRY[key]
    if key not in catalog.category_keys() or catalog.shape_spec(key) is None:
        return None

    def build() -> list[Piece]:
        return shape_pieces(key)

    build.__name__ = f"shape_of_{key}"
    return build


# ------------------------------------------------------------------ categories described as data

#: per primitive of a ``shape`` piece: (required fields, optional fields) besides the common ones
PRIMITIVES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "box": (("size",), ()),
    "rounded_box": (("size",), ("exponent",)),
    "ellipsoid": (("size",), ()),
    "sphere": (("radius",), ()),
    "cylinder": (("from", "to", "radius"), ()),
    "capsule": (("from", "to", "radius"), ()),
    "cone": (("from", "to", "radius"), ()),
    "tube": (("path", "radius"), ("caps", "closed")),
    "arc": (("arc_radius", "radius", "from_deg", "to_deg"), ()),
    "torus": (("major", "minor"), ("axis",)),  # minor: r, or [along the axis, radial]
    "lathe": (("profile",), ()),
    "vessel": (("outer", "wall", "floor"), ()),
    "board": (("length", "width", "thickness"), ("plan_exponent", "section_exponent", "thickness_exponent", "lift")),
    "prism": (("outline", "depth"), ()),
}
_COMMON = ("part", "prim", "at", "rot_deg", "mirror", "spacing", "segments")
_AXES = {"x": 0, "y": 1, "z": 2}


class _SpecError(ValueError):
    """A fault in one piece's fields (the caller adds the category and the piece)."""


def _vec(piece: dict, name: str, n: int = 3, default: Sequence[float] | None = None) -> np.ndarray:
    value = piece.get(name, default)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _SpecError(f"'{name}' must be {n} numbers, got {value!r}") from None
    if arr.shape != (n,) or not np.all(np.isfinite(arr)):
        raise _SpecError(f"'{name}' must be {n} numbers, got {value!r}")
    return arr


def _rows(piece: dict, name: str, width: int, minimum: int) -> np.ndarray:
    value = piece[name]
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _SpecError(f"'{name}' must be a list of [{width} numbers]") from None
    if arr.ndim != 2 or arr.shape[1] != width or len(arr) < minimum or not np.all(np.isfinite(arr)):
        raise _SpecError(f"'{name}' must be a list of at least {minimum} rows of {width} numbers")
    return arr


def _positive(piece: dict, name: str, default: float | None = None) -> float:
    value = piece.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise _SpecError(f"'{name}' must be a positive number, got {value!r}")
    return float(value)


def _number(piece: dict, name: str) -> float:
    value = piece[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _SpecError(f"'{name}' must be a number, got {value!r}")
    return float(value)


def _around(piece: dict, radius: float, spacing: float) -> int:
    """Vertices around a round prim: ``segments`` or the circumference over the spacing, 8 to 32."""
    if "segments" in piece:
        k = piece["segments"]
        if isinstance(k, bool) or not isinstance(k, int) or not 3 <= k <= 128:
            raise _SpecError(f"'segments' must be an integer in 3..128, got {k!r}")
        return k
    return int(min(32, max(8, math.ceil(2 * math.pi * radius / spacing))))


def _rotation(piece: dict) -> np.ndarray | None:
    if "rot_deg" not in piece:
        return None
    rx, ry, rz = _vec(piece, "rot_deg") * _DEG
    return S.rotation_z(rz) @ S.rotation_y(ry) @ S.rotation_x(rx)


def _vessel_profile(outer: np.ndarray, wall: float, floor: float) -> np.ndarray:
    """Lathe profile of an open-topped hollow: up the outside, over the rim, down the inside."""
    if np.any(outer[:, 1] <= 0) or np.any(np.diff(outer[:, 0]) <= 0):
        raise _SpecError("'outer' needs r > 0 and y rising from the bottom to the rim")
    y0, y_top = outer[0, 0], outer[-1, 0]
    y_floor = y0 + floor
    if y_floor >= y_top:
        raise _SpecError("'floor' is thicker than the vessel is tall")
    inner_y = np.concatenate([[y_floor], outer[outer[:, 0] > y_floor, 0]])
    inner_r = np.interp(inner_y, outer[:, 0], outer[:, 1]) - wall
    if np.any(inner_r <= 0):
        raise _SpecError("'wall' is thicker than the vessel's radius")
    out = [(y0, 0.0), *map(tuple, outer)]
    out += list(zip(inner_y[::-1], inner_r[::-1]))
    out.append((y_floor, 0.0))
    return np.asarray(out, dtype=np.float64)


def _primitive(piece: dict, spacing: float) -> S.Mesh:
    """One piece in its local frame (before ``rot_deg`` / ``at`` / ``mirror``)."""
    prim = piece["prim"]
    if prim in ("box", "rounded_box", "ellipsoid"):
        size = _vec(piece, "size")
        if np.any(size <= 0):
            raise _SpecError(f"'size' must be positive, got {piece['size']!r}")
        if prim == "box":
            return S.box(size, spacing=spacing)
        exponent = _positive(piece, "exponent", 6.0) if prim == "rounded_box" else 2.0
        return S.superellipsoid(size, exponent=exponent, spacing=spacing)
    if prim == "sphere":
        return S.sphere((0.0, 0.0, 0.0), _positive(piece, "radius"), spacing=spacing)
    if prim in ("cylinder", "capsule", "cone"):
        p0, p1 = _vec(piece, "from"), _vec(piece, "to")
        length = float(np.linalg.norm(p1 - p0))
        if length <= 0:
            raise _SpecError("'from' and 'to' are the same point")
        if prim == "cone":
            r = _vec(piece, "radius", 2)
            if np.any(r < 0) or r.max() <= 0:
                raise _SpecError(f"'radius' must be [r_from, r_to] >= 0, not both 0, got {piece['radius']!r}")
            prof = [(0.0, 0.0), *([(0.0, r[0])] if r[0] > 0 else []), *([(length, r[1])] if r[1] > 0 else []),
                    (length, 0.0)]
            return S.lathe(prof, segments=_around(piece, r.max(), spacing), origin=p0, axis=p1 - p0, spacing=spacing)
        r = _positive(piece, "radius")
        fn = S.cylinder if prim == "cylinder" else S.capsule
        return fn(p0, p1, r, segments=_around(piece, r, spacing), spacing=spacing)
    if prim in ("tube", "arc"):
        radius = piece["radius"]
        if isinstance(radius, (list, tuple)):
            radii = _vec(piece, "radius", 2)
            if np.any(radii <= 0):
                raise _SpecError(f"'radius' must be positive, got {radius!r}")
            r: float | tuple[float, float] = (float(radii[0]), float(radii[1]))
            r_max = float(radii.max())
        else:
            r = r_max = _positive(piece, "radius")
        if prim == "tube":
            path = _rows(piece, "path", 3, 2)
            caps = piece.get("caps", "round")
            closed = piece.get("closed", False)
            if caps not in ("round", "flat") or not isinstance(closed, bool):
                raise _SpecError("'caps' must be 'round' or 'flat' and 'closed' true or false")
        else:
            a0, a1 = _number(piece, "from_deg") * _DEG, _number(piece, "to_deg") * _DEG
            big = _positive(piece, "arc_radius")
            if not 0 < abs(a1 - a0) < 2 * math.pi:
                raise _SpecError("an arc spans more than 0 and less than 360 degrees (a full ring is a torus)")
            n = max(4, math.ceil(abs(a1 - a0) * big / spacing))
            t = np.linspace(a0, a1, n + 1)
            path = np.stack([big * np.cos(t), big * np.sin(t), np.zeros_like(t)], 1)
            caps, closed = "round", False
        return S.tube(path, r, segments=_around(piece, r_max, spacing), spacing=spacing, caps=caps, closed=closed)
    if prim == "torus":
        major = _positive(piece, "major")
        if isinstance(piece["minor"], (list, tuple)):
            along, across = _vec(piece, "minor", 2)
            if min(along, across) <= 0:
                raise _SpecError(f"'minor' must be positive, got {piece['minor']!r}")
        else:
            along = across = _positive(piece, "minor")
        axis = _vec(piece, "axis", 3, (0.0, 1.0, 0.0))
        if across >= major or np.linalg.norm(axis) == 0:
            raise _SpecError("a torus needs its radial minor radius < major and a non-zero axis")
        ax = axis / np.linalg.norm(axis)
        e1 = np.cross(ax, np.eye(3)[int(np.argmin(np.abs(ax)))])
        e1 /= np.linalg.norm(e1)
        e2 = np.cross(ax, e1)
        th = np.linspace(0.0, 2 * math.pi, max(12, math.ceil(2 * math.pi * major / spacing)), endpoint=False)
        ring = major * (np.cos(th)[:, None] * e1 + np.sin(th)[:, None] * e2)
        # a closed planar loop's tube frame: first radius along the loop's axis, second radial
        around = min(16, _around(piece, max(along, across), spacing))
        return S.tube(ring, (float(along), float(across)), segments=around, spacing=10.0 * major + 1.0, closed=True)
    if prim in ("lathe", "vessel"):
        if prim == "lathe":
            prof = _rows(piece, "profile", 2, 3)
        else:
            prof = _vessel_profile(_rows(piece, "outer", 2, 2), _positive(piece, "wall"), _positive(piece, "floor"))
        return S.lathe(prof, segments=_around(piece, float(prof[:, 1].max()), spacing), spacing=spacing)
    if prim == "board":
        lift = None
        if "lift" in piece:
            table = _rows(piece, "lift", 2, 2)
            if np.any(np.diff(table[:, 0]) <= 0):
                raise _SpecError("'lift' rows need u rising")

            def lift(u: np.ndarray, table: np.ndarray = table) -> np.ndarray:
                return np.interp(u, table[:, 0], table[:, 1])

        plan = _vec(piece, "plan_exponent", 2, (2.0, 2.0))
        return S.board(_positive(piece, "length"), _positive(piece, "width"), _positive(piece, "thickness"),
                       spacing=spacing, around=_around(piece, _positive(piece, "width") / 2, spacing),
                       plan_exponent=(float(plan[0]), float(plan[1])),
                       section_exponent=_positive(piece, "section_exponent", 4.0),
                       thickness_exponent=_positive(piece, "thickness_exponent", 0.5), lift=lift)
    # prism
    return S.prism(_rows(piece, "outline", 2, 3), _positive(piece, "depth"), spacing=spacing)


def _mirrors(piece: dict) -> list[np.ndarray]:
    """The sign vectors of the copies ``mirror`` asks for (the piece itself first)."""
    axes = piece.get("mirror", [])
    if not isinstance(axes, list) or any(a not in _AXES for a in axes) or len(set(axes)) != len(axes):
        raise _SpecError(f"'mirror' must list distinct axes among x, y, z, got {axes!r}")
    signs = [np.ones(3)]
    for a in axes:
        flipped = [s.copy() for s in signs]
        for s in flipped:
            s[_AXES[a]] = -1.0
        signs += flipped
    return signs


def shape_pieces(key: str, shape: list | None = None, *, parts: Sequence[str] | None = None,
                 size_m: float | None = None) -> list[Piece]:
    """Build a ``shape`` (default: category ``key``'s, from ``objects.json``; the schema is in
    :mod:`hoirecon.objects.catalog`) into pieces ``[(part, vertices, faces), ...]`` in the builders'
    frame. ``parts`` / ``size_m`` default to the entry's (the default spacing is ``size_m / 30``).

    The spec is checked as it is built: a ``ValueError`` names the category, the piece (its index,
    part and primitive) and the fault (an unknown primitive or field, a missing field, a wrong value,
    a part that is not the entry's, a part no piece builds)."""
    where = f"objects.json: category '{key}'"
    if shape is None or parts is None or size_m is None:
        props = catalog.entry(key)
        shape = catalog.shape_spec(key) if shape is None else shape
        parts = props.parts if parts is None else parts
        size_m = props.size_m if size_m is None else size_m
    if not isinstance(shape, list) or not shape:
        raise ValueError(f"{where}: 'shape' must be a non-empty list of pieces")
    default_spacing = float(size_m) / 30.0
    out: list[Piece] = []
    for i, piece in enumerate(shape):
        if not isinstance(piece, dict):
            raise ValueError(f"{where}, shape piece {i}: must be an object, got {piece!r}")
        label = f"{where}, shape piece {i} (part '{piece.get('part')}', prim '{piece.get('prim')}')"
        if piece.get("part") not in parts:
            raise ValueError(f"{label}: part must be one of the entry's parts {list(parts)}")
        prim = piece.get("prim")
        if prim not in PRIMITIVES:
            raise ValueError(f"{label}: unknown primitive; use one of {', '.join(PRIMITIVES)}")
        required, optional = PRIMITIVES[prim]
        missing = [f for f in required if f not in piece]
        if missing:
            raise ValueError(f"{label}: lacks {missing}")
        unknown = sorted(set(piece) - set(_COMMON) - set(required) - set(optional))
        if unknown:
            raise ValueError(f"{label}: unknown fields {unknown}; {prim} takes {list(required + optional)} "
                             f"and {list(_COMMON[2:])}")
        try:
            spacing = _positive(piece, "spacing", default_spacing)
            mesh = S.transform(_primitive(piece, spacing), _rotation(piece), _vec(piece, "at", 3, (0.0, 0.0, 0.0)))
            for sign in _mirrors(piece):
                v, f = mesh[0] * sign, mesh[1]
                if np.prod(sign) < 0:  # a reflection turns the winding inside out
                    f = np.ascontiguousarray(f[:, ::-1])
                out.append((piece["part"], v, f))
        except ValueError as err:
            raise ValueError(f"{label}: {err}") from None
    unbuilt = [p for p in parts if p not in {name for name, _, _ in out}]
    if unbuilt:
        raise ValueError(f"{where}: no shape piece builds part(s) {unbuilt}")
    return out


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
