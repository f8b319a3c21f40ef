"""The pinhole camera at the origin looking down +z (camera frame: x right, y down, z forward,
metres; pixels: origin at the top-left corner of the top-left pixel)."""

from __future__ import annotations

import numpy as np

#: depths below this (metres) are clamped before dividing, so points behind the camera stay finite
MIN_DEPTH = 1e-6


def project(points, fx: float, fy: float, cx: float, cy: float, min_depth: float = MIN_DEPTH):
    """(..., 3) camera-frame points -> (..., 2) pixels. NumPy arrays give NumPy, torch tensors give
    torch (differentiable)."""
    if isinstance(points, np.ndarray):
        z = np.clip(points[..., 2:3], min_depth, None)
        return np.concatenate([fx * points[..., 0:1] / z + cx, fy * points[..., 1:2] / z + cy], axis=-1)
    import torch

    z = points[..., 2:3].clamp(min=min_depth)
    return torch.cat([fx * points[..., 0:1] / z + cx, fy * points[..., 1:2] / z + cy], dim=-1)


def pixel_rays(width: int, height: int, K: np.ndarray) -> np.ndarray:
    """(height, width, 3) float32 ray directions through the pixel centres, z = 1."""
    u, v = np.meshgrid(np.arange(width, dtype=np.float32) + 0.5, np.arange(height, dtype=np.float32) + 0.5)
    return np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1)


def silhouette(uv: np.ndarray, faces: np.ndarray, height: int, width: int) -> np.ndarray:
    """(height, width) bool: the pixels covered by the projected triangles ``uv[faces]`` (uv: (V, 2)
    pixels, faces: (F, 3) int), each filled on its own, so that overlapping triangles (a closed mesh's
    front and back) stay covered; OpenCV's ``fillPoly`` on a list of triangles uses the even-odd rule
    and would cut holes where they overlap. 3 bits of sub-pixel precision."""
    import cv2

    drawn = np.zeros((height, width), np.uint8)
    tris = np.round(np.asarray(uv, np.float64)[np.asarray(faces)] * 8).astype(np.int32)
    keep = np.isfinite(uv).all(1)[np.asarray(faces)].all(1) & (np.abs(tris) < 2**28).all((1, 2))
    for tri in tris[keep]:
        cv2.fillConvexPoly(drawn, tri, 1, lineType=cv2.LINE_8, shift=3)
    return drawn.astype(bool)
