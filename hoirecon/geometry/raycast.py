"""Ray casting with open3d's ``RaycastingScene`` (Embree; CPU, no window, no GL context)."""

from __future__ import annotations

import numpy as np


def raycasting_scene(vertices: np.ndarray, faces: np.ndarray, *more: tuple[np.ndarray, np.ndarray]):
    """An open3d ``RaycastingScene`` holding one triangle mesh (geometry id 0), then each of ``more``
    ((vertices, faces) pairs, ids 1, 2, ...). vertices: (V, 3) any float, faces: (F, 3) any int."""
    import open3d as o3d

    scene = o3d.t.geometry.RaycastingScene()
    for v, f in ((vertices, faces), *more):
        scene.add_triangles(
            o3d.core.Tensor(np.ascontiguousarray(v, np.float32)),
            o3d.core.Tensor(np.ascontiguousarray(f, np.uint32)),
        )
    return scene


def depth_map(vertices: np.ndarray, faces: np.ndarray, K: np.ndarray, width: int, height: int) -> np.ndarray:
    """(height, width) float32 depth (z, metres) of the mesh seen by a pinhole camera at the origin looking
    down +z; inf where no hit. ``K`` at this resolution."""
    import open3d as o3d

    scene = raycasting_scene(vertices, faces)
    u, v = np.meshgrid(np.arange(width, dtype=np.float32) + 0.5, np.arange(height, dtype=np.float32) + 0.5)
    d = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1)
    rays = np.concatenate([np.zeros_like(d), d], -1).reshape(-1, 6)
    t = scene.cast_rays(o3d.core.Tensor(rays.astype(np.float32)))["t_hit"].numpy()
    return t.reshape(height, width).astype(np.float32)  # z = t because the direction's z is 1


def inward_thickness(vertices: np.ndarray, faces: np.ndarray, normals: np.ndarray, eps: float = 1e-4) -> np.ndarray:
    """(V,) float32 thickness of a closed mesh at each vertex: the distance from the vertex to the first
    surface hit along its inward normal (``-normals``, unit (V, 3) outward normals), the ray starting
    ``eps`` inside; inf where the ray leaves without a hit (an open mesh). Units of ``vertices``."""
    import open3d as o3d

    scene = raycasting_scene(vertices, faces)
    d = -np.asarray(normals, np.float64)
    o = np.asarray(vertices, np.float64) + eps * d
    rays = np.concatenate([o, d], 1).astype(np.float32)
    t = scene.cast_rays(o3d.core.Tensor(np.ascontiguousarray(rays)))["t_hit"].numpy()
    return (t + eps).astype(np.float32)


def parts_within(points: np.ndarray, part_of_point: np.ndarray, part_names, vertices: np.ndarray, faces: np.ndarray,
                 tol: float, min_points: int = 3) -> frozenset[str]:  # fmt: skip
    """The names of the parts with at least ``min_points`` of their ``points`` (N, 3) within ``tol`` of
    the mesh's surface (exact unsigned distance). ``part_of_point``: (N,) index into ``part_names``;
    the same units for every argument (metres)."""
    import open3d as o3d

    pts = np.asarray(points, np.float64)
    lo, hi = np.asarray(vertices).min(0) - tol, np.asarray(vertices).max(0) + tol
    near = np.flatnonzero(np.all((pts >= lo) & (pts <= hi), axis=1))  # only points by the mesh can touch it
    if not len(near):
        return frozenset()
    q = o3d.core.Tensor(np.ascontiguousarray(pts[near], np.float32))
    d = raycasting_scene(vertices, faces).compute_distance(q).numpy()
    hit = np.asarray(part_of_point)[near[d <= tol]]
    counts = np.bincount(hit.astype(np.int64), minlength=len(part_names))
    return frozenset(str(part_names[i]) for i in np.flatnonzero(counts >= min_points))
