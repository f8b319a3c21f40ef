"""Geometry helpers for fitting: rotations, body SDF grid and depth map via open3d ray casting."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F


def rot6d_to_matrix(x: torch.Tensor) -> torch.Tensor:
    """(..., 6) -> (..., 3, 3), Gram-Schmidt on the two columns (Zhou et al. 2019)."""
    a, b = x[..., :3], x[..., 3:]
    c1 = F.normalize(a, dim=-1)
    c2 = F.normalize(b - (c1 * b).sum(-1, keepdim=True) * c1, dim=-1)
    c3 = torch.cross(c1, c2, dim=-1)
    return torch.stack([c1, c2, c3], dim=-1)


def matrix_to_rot6d(R: torch.Tensor) -> torch.Tensor:
    return torch.cat([R[..., :, 0], R[..., :, 1]], dim=-1)


def rot_y(angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]], np.float64)


def cube_rotations() -> np.ndarray:
    """The 24 proper rotations of the cube: (24, 3, 3), an even cover of orientations for starts."""
    import itertools

    out = []
    for perm in itertools.permutations(range(3)):
        for signs in itertools.product((-1, 1), repeat=3):
            R = np.zeros((3, 3))
            for i, (p, s) in enumerate(zip(perm, signs)):
                R[i, p] = s
            if np.linalg.det(R) > 0:
                out.append(R)
    return np.stack(out)


def _scene(vertices: np.ndarray, faces: np.ndarray):
    import open3d as o3d

    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(
        o3d.core.Tensor(np.ascontiguousarray(vertices, np.float32)),
        o3d.core.Tensor(np.ascontiguousarray(faces, np.uint32)),
    )
    return scene


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


def body_sdf_grid(vertices: np.ndarray, faces: np.ndarray, spacing: float = 0.02, margin: float = 0.1,
                  device: str | torch.device = "cpu") -> SDFGrid:
    """Signed distance grid around a mesh with open3d (sign by ray parity, robust to small holes).
    The last two grids are kept: fits that share a body (several objectives, several contact inputs, a
    re-fit) reuse its grid instead of ray casting ~10^5 points again."""
    import hashlib

    key = (hashlib.sha1(np.ascontiguousarray(vertices, np.float32).tobytes() + np.ascontiguousarray(faces).tobytes()).hexdigest(),
           float(spacing), float(margin), str(device))  # fmt: skip
    if key not in _SDF_CACHE:
        if len(_SDF_CACHE) >= 2:
            _SDF_CACHE.pop(next(iter(_SDF_CACHE)))
        _SDF_CACHE[key] = _compute_sdf_grid(vertices, faces, spacing, margin, device)
    return _SDF_CACHE[key]


def _compute_sdf_grid(vertices: np.ndarray, faces: np.ndarray, spacing: float, margin: float, device) -> SDFGrid:
    import open3d as o3d

    scene = _scene(vertices, faces)
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

    scene = _scene(vertices, faces)
    return scene.compute_signed_distance(o3d.core.Tensor(np.ascontiguousarray(points, np.float32)), nsamples=3).numpy()


def depth_map(vertices: np.ndarray, faces: np.ndarray, K: np.ndarray, width: int, height: int) -> np.ndarray:
    """(height, width) float32 depth (z, metres) of the mesh seen by a pinhole camera at the origin looking
    down +z; inf where no hit. ``K`` at this resolution."""
    import open3d as o3d

    scene = _scene(vertices, faces)
    u, v = np.meshgrid(np.arange(width, dtype=np.float32) + 0.5, np.arange(height, dtype=np.float32) + 0.5)
    d = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1)
    rays = np.concatenate([np.zeros_like(d), d], -1).reshape(-1, 6)
    t = scene.cast_rays(o3d.core.Tensor(rays.astype(np.float32)))["t_hit"].numpy()
    return t.reshape(height, width).astype(np.float32)  # z = t because the direction's z is 1
