"""Signed distance to a triangle mesh (metres, negative inside): exact (open3d) and on a regular grid
sampled once and read trilinearly (torch, differentiable in the query points)."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from hoirecon.geometry.raycast import raycasting_scene


@dataclass(frozen=True)
class SDFGrid:
    """Signed distance of a mesh sampled on a regular grid (negative inside), metres.
    values: (D, H, W) tensor over z, y, x; lo/hi: (3,) grid corners (x, y, z)."""

    values: torch.Tensor
    lo: torch.Tensor
    hi: torch.Tensor

    def __call__(self, points: torch.Tensor) -> torch.Tensor:
        """Trilinear SDF at (..., 3) points; points outside the grid get the border value."""
        g = (points - self.lo) / (self.hi - self.lo) * 2 - 1
        shp = g.shape[:-1]
        g = g.reshape(1, 1, 1, -1, 3)
        v = F.grid_sample(self.values[None, None], g, mode="bilinear", padding_mode="border", align_corners=True)
        return v.reshape(shp)


_SDF_CACHE: dict[tuple, SDFGrid] = {}
_SDF_KEEP = 8  # grids kept (about 1 MB each at 2 cm): a body and the object grids of fits side by side
_SDF_LOCK = threading.Lock()  # fits may run side by side in threads (hoirecon.pipeline.fit_pool)


def body_sdf_grid(vertices: np.ndarray, faces: np.ndarray, spacing: float = 0.02, margin: float = 0.1,
                  device: str | torch.device = "cpu") -> SDFGrid:
    """Signed distance grid around a mesh with open3d (sign by ray parity, robust to small holes).
    The last ``_SDF_KEEP`` grids used are kept: fits that share a body (several objectives, several
    contact inputs, a re-fit, the makes of a category each followed by its limb phase's object grid,
    fits side by side in threads) reuse its grid instead of ray casting ~10^5 points again."""
    import hashlib

    key = (hashlib.sha1(np.ascontiguousarray(vertices, np.float32).tobytes() + np.ascontiguousarray(faces).tobytes()).hexdigest(),
           float(spacing), float(margin), str(device))  # fmt: skip
    with _SDF_LOCK:
        if key in _SDF_CACHE:  # least recently used first: a hit moves to the end
            _SDF_CACHE[key] = _SDF_CACHE.pop(key)
            return _SDF_CACHE[key]
    grid = _compute_sdf_grid(vertices, faces, spacing, margin, device)  # outside the lock: grids compute side by side
    with _SDF_LOCK:
        _SDF_CACHE.pop(key, None)
        while len(_SDF_CACHE) >= _SDF_KEEP:
            _SDF_CACHE.pop(next(iter(_SDF_CACHE)))
        _SDF_CACHE[key] = grid
    return grid


def _compute_sdf_grid(vertices: np.ndarray, faces: np.ndarray, spacing: float, margin: float, device) -> SDFGrid:
    import open3d as o3d

    scene = raycasting_scene(vertices, faces)
    lo = vertices.min(0) - margin
    hi = vertices.max(0) + margin
    n = np.maximum(np.ceil((hi - lo) / spacing).astype(int) + 1, 2)
    xs, ys, zs = (np.linspace(lo[i], hi[i], n[i], dtype=np.float32) for i in range(3))
    Z, Y, X = np.meshgrid(zs, ys, xs, indexing="ij")
    pts = np.stack([X, Y, Z], -1).reshape(-1, 3)
    sdf = scene.compute_signed_distance(o3d.core.Tensor(pts), nsamples=3).numpy().reshape(Z.shape)
    return SDFGrid(
        values=torch.as_tensor(sdf, dtype=torch.float32, device=device),
        lo=torch.as_tensor(lo, dtype=torch.float32, device=device),
        hi=torch.as_tensor(hi, dtype=torch.float32, device=device),
    )


def signed_distance(vertices: np.ndarray, faces: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N,) signed distance (metres, negative inside) of ``points`` (N, 3) to the mesh, exact (open3d)."""
    import open3d as o3d

    scene = raycasting_scene(vertices, faces)
    return scene.compute_signed_distance(o3d.core.Tensor(np.ascontiguousarray(points, np.float32)), nsamples=3).numpy()
