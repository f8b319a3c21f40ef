"""Triangle-mesh quantities: face normals and areas, vertex normals, area-weighted surface samples.
vertices: (V, 3) float, faces: (F, 3) int; any frame, any unit (areas in that unit squared)."""

from __future__ import annotations

import numpy as np


def face_normals_scaled(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(F, 3) float64 face normals whose length is twice the face's area (right-hand winding)."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64).reshape(-1, 3)
    return np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])


def face_areas(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(F,) float64 triangle areas."""
    return 0.5 * np.linalg.norm(face_normals_scaled(vertices, faces), axis=1)


def signed_volume(vertices: np.ndarray, faces: np.ndarray) -> float:
    """The volume a closed mesh encloses, positive when its faces wind right-handed about outward
    normals, negative when they wind the other way (units cubed)."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64).reshape(-1, 3)
    if len(f) == 0:
        return 0.0
    return float(np.einsum("ij,ij->i", v[f[:, 0]], np.cross(v[f[:, 1]], v[f[:, 2]])).sum() / 6.0)


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V, 3) float64 unit area-weighted vertex normals; zero for vertices that no face uses."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64).reshape(-1, 3)
    fn = face_normals_scaled(v, f)
    idx = f.ravel()
    n = np.stack([np.bincount(idx, np.repeat(fn[:, k], 3), minlength=len(v)) for k in range(3)], 1)
    ln = np.linalg.norm(n, axis=1, keepdims=True)
    return n / np.where(ln > 0, ln, 1.0)


def sample_surface(vertices: np.ndarray, faces: np.ndarray, n: int, rng: np.random.Generator,
                   face_weights: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points uniform over the surface (faces drawn by area, times ``face_weights`` if given;
    uniform barycentrics). Returns (points (n, 3) float64, face index (n,) int64)."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64).reshape(-1, 3)
    w = face_areas(v, f) if face_weights is None else face_areas(v, f) * np.asarray(face_weights, np.float64)
    fi = rng.choice(len(f), size=int(n), p=w / w.sum())
    r1, r2 = rng.random(int(n)), rng.random(int(n))
    s = np.sqrt(r1)
    bary = np.stack([1 - s, s * (1 - r2), s * r2], 1)
    tri = v[f[fi]]
    return np.einsum("nk,nkd->nd", bary, tri), fi
