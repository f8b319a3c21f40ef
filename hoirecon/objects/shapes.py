"""Closed triangle-mesh primitives for the procedural object library.

Every builder returns ``(vertices, faces)``: ``(V, 3)`` float64 and ``(F, 3)`` int64. Each result is
one closed (watertight) surface whose faces wind counter-clockwise seen from outside (outward
normals, positive signed volume). Builders take a ``spacing`` (metres) that bounds the distance
between neighbouring vertices along the surface, so that contact code working per vertex finds
enough vertices on the parts people touch.

``merge`` concatenates named pieces into one mesh plus a per-vertex part index. The pieces are not
booleaned together (they may overlap); every piece stays closed, so the merged mesh is watertight
as a whole.
"""

from __future__ import annotations

import math
from typing import Callable, Iterable, Sequence

import numpy as np

from hoirecon.geometry.mesh import signed_volume

Mesh = tuple[np.ndarray, np.ndarray]

__all__ = [
    "Mesh",
    "signed_volume",
    "box",
    "superellipsoid",
    "ellipsoid",
    "sphere",
    "lathe",
    "tube",
    "cylinder",
    "capsule",
    "torus",
    "board",
    "prism",
    "rotation_x",
    "rotation_y",
    "rotation_z",
    "transform",
    "merge",
]


# ----------------------------------------------------------------------------------------- helpers


def _outward(vertices: np.ndarray, faces: np.ndarray) -> Mesh:
    """Flip all faces if the (consistently wound) closed surface points inwards."""
    faces = np.ascontiguousarray(faces, dtype=np.int64)
    if signed_volume(vertices, faces) < 0:
        faces = np.ascontiguousarray(faces[:, ::-1])
    return np.asarray(vertices, dtype=np.float64), faces


def _count(length: float, spacing: float, minimum: int = 1) -> int:
    if spacing <= 0:
        raise ValueError("spacing must be positive")
    return max(minimum, int(math.ceil(float(length) / spacing - 1e-9)))


def rotation_x(angle: float) -> np.ndarray:
    """(3, 3) rotation about +x by ``angle`` radians (right hand: +y turns towards +z)."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def rotation_y(angle: float) -> np.ndarray:
    """(3, 3) rotation about +y by ``angle`` radians (right hand: +z turns towards +x)."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def rotation_z(angle: float) -> np.ndarray:
    """(3, 3) rotation about +z by ``angle`` radians (right hand: +x turns towards +y)."""
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def transform(mesh: Mesh, rotation: np.ndarray | None = None, translation: Sequence[float] = (0, 0, 0)) -> Mesh:
    """Apply ``x -> R @ x + t`` (R a proper rotation, so winding stays outward)."""
    v, f = mesh
    v = np.asarray(v, dtype=np.float64)
    if rotation is not None:
        v = v @ np.asarray(rotation, dtype=np.float64).T
    return v + np.asarray(translation, dtype=np.float64), f


def _perpendicular(d: np.ndarray) -> np.ndarray:
    """A unit vector perpendicular to unit vector ``d``."""
    helper = np.eye(3)[int(np.argmin(np.abs(d)))]
    n = np.cross(d, helper)
    return n / np.linalg.norm(n)


def _rings_mesh(
    rings: np.ndarray,
    start: np.ndarray | None = None,
    end: np.ndarray | None = None,
    closed: bool = False,
) -> Mesh:
    """Stitch ``(N, M, 3)`` rings (each a closed loop of M points) into a surface.

    ``start``/``end``: pole points closing the first/last ring with a triangle fan; ``closed``: also
    stitch the last ring back to the first (a torus-like loop). The result is made outward-facing.
    """
    rings = np.asarray(rings, dtype=np.float64)
    n, m, _ = rings.shape
    if m < 3:
        raise ValueError("rings need at least 3 points")
    verts = [rings.reshape(-1, 3)]
    idx = np.arange(n * m, dtype=np.int64).reshape(n, m)
    nxt = np.roll(idx, -1, axis=1)
    faces = []
    bands = n if closed else n - 1
    for i in range(bands):
        j = (i + 1) % n
        a, b, c, d = idx[i], nxt[i], nxt[j], idx[j]
        faces.append(np.stack([a, b, c], 1))
        faces.append(np.stack([a, c, d], 1))
    count = n * m
    if start is not None:
        verts.append(np.asarray(start, dtype=np.float64).reshape(1, 3))
        faces.append(np.stack([np.full(m, count), nxt[0], idx[0]], 1))
        count += 1
    if end is not None:
        verts.append(np.asarray(end, dtype=np.float64).reshape(1, 3))
        faces.append(np.stack([np.full(m, count), idx[n - 1], nxt[n - 1]], 1))
        count += 1
    return _outward(np.concatenate(verts, 0), np.concatenate(faces, 0))


def _grid_box_surface(counts: Sequence[int]) -> Mesh:
    """Surface of the cube [-1, 1]^3 cut into ``counts[a]`` cells along axis a (shared edge vertices)."""
    axes = [np.linspace(-1.0, 1.0, int(k) + 1) for k in counts]
    shape = tuple(len(a) for a in axes)
    boundary = np.zeros(shape, dtype=bool)
    boundary[0, :, :] = boundary[-1, :, :] = True
    boundary[:, 0, :] = boundary[:, -1, :] = True
    boundary[:, :, 0] = boundary[:, :, -1] = True
    idx = np.full(shape, -1, dtype=np.int64)
    idx[boundary] = np.arange(int(boundary.sum()), dtype=np.int64)
    ii, jj, kk = np.nonzero(boundary)
    verts = np.stack([axes[0][ii], axes[1][jj], axes[2][kk]], 1)
    faces = []
    for a in range(3):
        b, c = (a + 1) % 3, (a + 2) % 3
        grid = idx.transpose(a, b, c)
        for side in (0, -1):
            g = grid[side]
            q00, q10, q11, q01 = g[:-1, :-1], g[1:, :-1], g[1:, 1:], g[:-1, 1:]
            tris = np.concatenate(
                [np.stack([q00, q10, q11], -1).reshape(-1, 3), np.stack([q00, q11, q01], -1).reshape(-1, 3)]
            )
            if side == 0:  # counter-clockwise seen from -a
                tris = tris[:, ::-1]
            faces.append(tris)
    return verts, np.concatenate(faces, 0).astype(np.int64)


# -------------------------------------------------------------------------------------- primitives


def box(
    size: Sequence[float],
    center: Sequence[float] = (0.0, 0.0, 0.0),
    *,
    spacing: float = 0.05,
    rotation: np.ndarray | None = None,
) -> Mesh:
    """Box of edge lengths ``size`` (x, y, z), gridded so no edge is longer than ``spacing``;
    optionally rotated (about its centre) then moved to ``center``."""
    size = np.asarray(size, dtype=np.float64)
    if np.any(size <= 0):
        raise ValueError("box size must be positive")
    v, f = _grid_box_surface([_count(s, spacing) for s in size])
    v = v * (size / 2.0)
    return transform(_outward(v, f), rotation, center)


def superellipsoid(
    size: Sequence[float],
    center: Sequence[float] = (0.0, 0.0, 0.0),
    *,
    exponent: float = 2.0,
    spacing: float = 0.03,
    rotation: np.ndarray | None = None,
) -> Mesh:
    """``|x/a|^p + |y/b|^p + |z/c|^p = 1`` with full extents ``size`` = (2a, 2b, 2c).

    p = 2 is an ellipsoid; larger p gives a rounded box. Built by projecting a gridded cube onto the
    surface, so the vertex density is fairly uniform (no poles)."""
    size = np.asarray(size, dtype=np.float64)
    if np.any(size <= 0):
        raise ValueError("superellipsoid size must be positive")
    # one cube face maps onto a quarter arc (~ pi/2 * half-extent = 0.79 * extent for a sphere)
    counts = [max(2, _count(s * 0.8, spacing)) for s in size]
    v, f = _grid_box_surface(counts)
    p = float(exponent)
    norm = np.sum(np.abs(v) ** p, axis=1) ** (1.0 / p)
    v = v / norm[:, None] * (size / 2.0)
    return transform(_outward(v, f), rotation, center)


def ellipsoid(size: Sequence[float], center: Sequence[float] = (0.0, 0.0, 0.0), *, spacing: float = 0.03,
              rotation: np.ndarray | None = None) -> Mesh:
    """Ellipsoid with full extents ``size``."""
    return superellipsoid(size, center, exponent=2.0, spacing=spacing, rotation=rotation)


def sphere(center: Sequence[float], radius: float, *, spacing: float = 0.03) -> Mesh:
    """Sphere (a projected cube grid: uniform vertices, no poles)."""
    return superellipsoid((2 * radius,) * 3, center, exponent=2.0, spacing=spacing)


def _densify_polyline(points: np.ndarray, spacing: float, closed: bool = False) -> np.ndarray:
    pts = np.asarray(points, dtype=np.float64)
    if closed:
        pts = np.concatenate([pts, pts[:1]], 0)
    out = [pts[:1]]
    for p, q in zip(pts[:-1], pts[1:]):
        k = _count(np.linalg.norm(q - p), spacing)
        t = np.linspace(0.0, 1.0, k + 1)[1:, None]
        out.append(p + t * (q - p))
    res = np.concatenate(out, 0)
    return res[:-1] if closed else res


def lathe(
    profile: Sequence[Sequence[float]],
    *,
    segments: int = 24,
    origin: Sequence[float] = (0.0, 0.0, 0.0),
    axis: Sequence[float] = (0.0, 1.0, 0.0),
    spacing: float | None = None,
) -> Mesh:
    """Surface of revolution of ``profile`` rows ``(axial, radius)`` about ``axis`` through ``origin``.

    The first and last rows must have radius 0 (the poles that close the surface); interior rows
    must have radius > 0. The profile may turn back on itself (e.g. a cup wall going up outside and
    down inside, or a thin shell). ``spacing`` densifies the profile polyline."""
    prof = np.asarray(profile, dtype=np.float64)
    if prof.ndim != 2 or prof.shape[1] != 2 or len(prof) < 3:
        raise ValueError("profile must be (N >= 3, 2)")
    if prof[0, 1] != 0 or prof[-1, 1] != 0 or np.any(prof[1:-1, 1] <= 0):
        raise ValueError("profile needs radius 0 at both ends and > 0 inside")
    if spacing is not None:
        prof = _densify_polyline(prof, spacing)
    ax = np.asarray(axis, dtype=np.float64)
    ax = ax / np.linalg.norm(ax)
    e1 = _perpendicular(ax)
    e2 = np.cross(ax, e1)
    o = np.asarray(origin, dtype=np.float64)
    theta = np.linspace(0.0, 2 * math.pi, int(segments), endpoint=False)
    circle = np.cos(theta)[:, None] * e1 + np.sin(theta)[:, None] * e2  # (M, 3)
    inner = prof[1:-1]
    rings = o + inner[:, 0, None, None] * ax + inner[:, 1, None, None] * circle[None]
    return _rings_mesh(rings, o + prof[0, 0] * ax, o + prof[-1, 0] * ax)


def tube(
    path: Sequence[Sequence[float]],
    radius: float | tuple[float, float],
    *,
    segments: int = 12,
    spacing: float = 0.03,
    caps: str = "round",
    closed: bool = False,
) -> Mesh:
    """A tube of circular (or, with ``radius=(r1, r2)``, elliptical) cross-section swept along a
    polyline ``path`` (parallel-transport frames). ``caps``: ``"round"`` (hemispherical ends),
    ``"flat"``; ``closed=True`` joins the path into a loop (no caps)."""
    pts = np.asarray(path, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 3 or len(pts) < 2:
        raise ValueError("path must be (N >= 2, 3)")
    if caps not in ("round", "flat"):
        raise ValueError("caps must be 'round' or 'flat'")
    r1, r2 = (float(radius), float(radius)) if np.isscalar(radius) else (float(radius[0]), float(radius[1]))
    pts = _densify_polyline(pts, spacing, closed=closed)
    n = len(pts)
    if closed:
        tang = np.roll(pts, -1, 0) - np.roll(pts, 1, 0)
    else:
        tang = np.empty_like(pts)
        tang[1:-1] = pts[2:] - pts[:-2]
        tang[0] = pts[1] - pts[0]
        tang[-1] = pts[-1] - pts[-2]
    tang /= np.linalg.norm(tang, axis=1, keepdims=True)
    # initial normal: for a closed (planar) loop the plane normal, which transport keeps unchanged
    if closed:
        centred = pts - pts.mean(0)
        normal = np.linalg.svd(centred, full_matrices=False)[2][-1]
        normal = normal - normal.dot(tang[0]) * tang[0]
        normal = normal / np.linalg.norm(normal) if np.linalg.norm(normal) > 1e-6 else _perpendicular(tang[0])
    else:
        normal = _perpendicular(tang[0])
    normals = np.empty_like(pts)
    for i in range(n):
        nv = normal - normal.dot(tang[i]) * tang[i]
        ln = np.linalg.norm(nv)
        normal = nv / ln if ln > 1e-9 else _perpendicular(tang[i])
        normals[i] = normal
    binormals = np.cross(tang, normals)
    theta = np.linspace(0.0, 2 * math.pi, int(segments), endpoint=False)
    cs, sn = np.cos(theta), np.sin(theta)

    def ring(i: int, scale: float = 1.0, shift: float = 0.0) -> np.ndarray:
        c = pts[i] + shift * tang[i]
        return c + scale * (r1 * cs[:, None] * normals[i] + r2 * sn[:, None] * binormals[i])

    rings = [ring(i) for i in range(n)]
    if closed:
        return _rings_mesh(np.stack(rings), closed=True)
    rc = 0.5 * (r1 + r2)
    n_cap = max(1, _count(rc * math.pi / 2, spacing))
    head, tail = [], []
    if caps == "round":
        for k in range(n_cap - 1, 0, -1):
            phi = 0.5 * math.pi * k / n_cap
            head.append(ring(0, math.cos(phi), -rc * math.sin(phi)))
            tail.append(ring(n - 1, math.cos(phi), rc * math.sin(phi)))
        start, end = pts[0] - rc * tang[0], pts[-1] + rc * tang[-1]
    else:
        n_cap = max(1, _count(rc, spacing))
        for k in range(1, n_cap):
            s = k / n_cap
            head.append(ring(0, s))
            tail.append(ring(n - 1, s))
        start, end = pts[0], pts[-1]
    all_rings = head + rings + tail[::-1]
    return _rings_mesh(np.stack(all_rings), start, end)


def cylinder(p0: Sequence[float], p1: Sequence[float], radius: float, *, segments: int = 16,
             spacing: float = 0.03) -> Mesh:
    """Solid cylinder between two points (flat ends)."""
    return tube([p0, p1], radius, segments=segments, spacing=spacing, caps="flat")


def capsule(p0: Sequence[float], p1: Sequence[float], radius: float, *, segments: int = 12,
            spacing: float = 0.03) -> Mesh:
    """Cylinder with hemispherical ends between two points (the ends extend ``radius`` beyond)."""
    return tube([p0, p1], radius, segments=segments, spacing=spacing, caps="round")


def torus(
    center: Sequence[float],
    major: float,
    minor: float,
    *,
    axis: Sequence[float] = (1.0, 0.0, 0.0),
    segments: int | None = None,
    minor_segments: int = 10,
    spacing: float = 0.03,
) -> Mesh:
    """Torus (e.g. a tyre) around ``axis`` through ``center``."""
    ax = np.asarray(axis, dtype=np.float64)
    ax = ax / np.linalg.norm(ax)
    e1 = _perpendicular(ax)
    e2 = np.cross(ax, e1)
    k = int(segments) if segments else max(12, _count(2 * math.pi * major, spacing))
    th = np.linspace(0.0, 2 * math.pi, k, endpoint=False)
    path = np.asarray(center, dtype=np.float64) + major * (np.cos(th)[:, None] * e1 + np.sin(th)[:, None] * e2)
    return tube(path, minor, segments=minor_segments, spacing=10.0 * major + 1.0, closed=True)


def board(
    length: float,
    width: float,
    thickness: float,
    *,
    center: Sequence[float] = (0.0, 0.0, 0.0),
    spacing: float = 0.03,
    around: int = 24,
    plan_exponent: tuple[float, float] = (2.0, 2.0),
    section_exponent: float = 4.0,
    thickness_exponent: float = 0.5,
    lift: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Mesh:
    """A flat board (deck, surfboard, ski) lying along z, width along x, thickness along y.

    Outline (plan view) is a superellipse ``|2x/W|^p + |u|^p = 1`` with ``u = 2z/L`` in [-1, 1] and
    ``p = plan_exponent[0]`` on the tail half (z < 0), ``plan_exponent[1]`` on the nose half (z > 0).
    The cross-section is a superellipse of exponent ``section_exponent``; its half-thickness is
    ``T/2 * (local width / W) ** thickness_exponent``. ``lift(u)`` raises the centre line (rocker,
    kick-tails). ``center`` is the centre of the board's middle cross-section."""
    L, W, T = float(length), float(width), float(thickness)
    n = _count(L, spacing, minimum=4)
    du = 2.0 / n
    u = np.linspace(-1.0, 1.0, n + 1)[1:-1]
    extra = np.array([-1 + 0.15 * du, -1 + 0.45 * du, 1 - 0.45 * du, 1 - 0.15 * du])
    u = np.unique(np.concatenate([u, extra]))
    p = np.where(u < 0, plan_exponent[0], plan_exponent[1])
    hw = 0.5 * W * np.clip(1.0 - np.abs(u) ** p, 1e-9, None) ** (1.0 / p)
    ht = 0.5 * T * (hw / (0.5 * W)) ** thickness_exponent
    yc = np.zeros_like(u) if lift is None else np.asarray(lift(u), dtype=np.float64)
    theta = np.linspace(0.0, 2 * math.pi, int(around), endpoint=False)
    c, s = np.cos(theta), np.sin(theta)
    e = 2.0 / section_exponent
    sx = np.sign(c) * np.abs(c) ** e
    sy = np.sign(s) * np.abs(s) ** e
    rings = np.stack(
        [hw[:, None] * sx[None], yc[:, None] + ht[:, None] * sy[None], np.broadcast_to((0.5 * L * u)[:, None], (len(u), len(theta)))],
        -1,
    )
    ends = np.array([-1.0, 1.0])
    ye = np.zeros(2) if lift is None else np.asarray(lift(ends), dtype=np.float64)
    v, f = _rings_mesh(rings, np.array([0.0, ye[0], -0.5 * L]), np.array([0.0, ye[1], 0.5 * L]))
    return v + np.asarray(center, dtype=np.float64), f


def prism(
    outline: Sequence[Sequence[float]],
    depth: float,
    *,
    center: Sequence[float] = (0.0, 0.0, 0.0),
    spacing: float = 0.03,
) -> Mesh:
    """A flat slab: the polygon ``outline`` (N >= 3 ``(x, y)`` points in order, either direction) in the
    x-y plane, extruded along z over ``depth`` (centred on z = 0), then moved by ``center``.

    The polygon must be star-shaped about its area centroid (every point seen from the centroid
    without crossing the outline: convex shapes, a guitar's waisted body, a knife blade); the two
    faces are filled with concentric copies of the outline shrunk toward the centroid, so that they
    carry vertices about ``spacing`` apart like the side wall."""
    pts = np.asarray(outline, dtype=np.float64)
    if pts.ndim != 2 or pts.shape[1] != 2 or len(pts) < 3:
        raise ValueError("prism outline must be (N >= 3, 2)")
    if not float(depth) > 0:
        raise ValueError("prism depth must be positive")
    x, y = pts[:, 0], pts[:, 1]
    xn, yn = np.roll(x, -1), np.roll(y, -1)
    cross = x * yn - xn * y
    area = 0.5 * cross.sum()
    if abs(area) < 1e-12:
        raise ValueError("prism outline has no area")
    c = np.array([((x + xn) * cross).sum(), ((y + yn) * cross).sum()]) / (6.0 * area)
    ring = _densify_polyline(np.c_[pts, np.zeros(len(pts))], spacing, closed=True)[:, :2]
    rel = ring - c
    turn = rel[:, 0] * np.roll(rel[:, 1], -1) - np.roll(rel[:, 0], -1) * rel[:, 1]
    if not (np.all(turn > 0) or np.all(turn < 0)):
        raise ValueError("prism outline must be star-shaped about its centroid")
    h = 0.5 * float(depth)
    n_cap = _count(float(np.linalg.norm(rel, axis=1).max()), spacing)
    n_side = _count(float(depth), spacing)

    def at(scale: float, z: float) -> np.ndarray:
        xy = c + scale * rel
        return np.c_[xy, np.full(len(xy), z)]

    rings = [at(k / n_cap, h) for k in range(1, n_cap + 1)]
    rings += [at(1.0, h - 2 * h * j / n_side) for j in range(1, n_side)]
    rings += [at(k / n_cap, -h) for k in range(n_cap, 0, -1)]
    v, f = _rings_mesh(np.stack(rings), np.array([c[0], c[1], h]), np.array([c[0], c[1], -h]))
    return v + np.asarray(center, dtype=np.float64), f


# ------------------------------------------------------------------------------------------- merge


def merge(
    parts: Iterable[tuple[str, np.ndarray, np.ndarray]],
    part_names: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """Concatenate named pieces ``(name, V, F)`` into one mesh.

    Several pieces may share a name (four legs -> "legs"). ``part_names`` fixes the order of the
    part table (every piece's name must be in it); otherwise names are ordered by first
    appearance. Returns ``(vertices (V,3) float64, faces (F,3) int64, part_of_vertex (V,) int16,
    part_names tuple)``."""
    names: list[str] = list(part_names) if part_names is not None else []
    fixed = part_names is not None
    verts, faces, labels = [], [], []
    offset = 0
    for name, v, f in parts:
        if name not in names:
            if fixed:
                raise ValueError(f"part '{name}' is not in part_names {tuple(names)}")
            names.append(name)
        v = np.asarray(v, dtype=np.float64).reshape(-1, 3)
        f = np.asarray(f, dtype=np.int64).reshape(-1, 3)
        verts.append(v)
        faces.append(f + offset)
        labels.append(np.full(len(v), names.index(name), dtype=np.int16))
        offset += len(v)
    if not verts:
        raise ValueError("merge needs at least one part")
    return np.concatenate(verts, 0), np.concatenate(faces, 0), np.concatenate(labels, 0), tuple(names)
