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
