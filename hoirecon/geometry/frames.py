"""Frames. Inside hoirecon everything is in the camera frame: x right, y down, z forward, metres.

glTF, Blender's importer, OBJ viewers and the object library's source meshes use +Y up with the
viewer looking down -Z; the body models' canonical frames are y-up too. Between the two is one
diagonal rotation, 180 degrees about x, which is its own inverse: ``(x, y, z) -> (x, -y, -z)``.
Export converts once, with :func:`camera_to_gltf`.
"""

from __future__ import annotations

import numpy as np

#: 180 degrees about x as a diagonal: multiply (N, 3) points (or normals) by it, element-wise.
FLIP_YZ = np.array([1.0, -1.0, -1.0])


def flip_yz(points: np.ndarray) -> np.ndarray:
    """(N, 3) points or directions turned 180 degrees about x (float64): y-up <-> y-down."""
    return np.asarray(points, np.float64) * FLIP_YZ


def camera_to_gltf(points: np.ndarray) -> np.ndarray:
    """(N, 3) camera-frame points (x right, y down, z forward) -> glTF frame (+Y up, -Z forward)."""
    return flip_yz(points)


def gltf_to_camera(points: np.ndarray) -> np.ndarray:
    """(N, 3) glTF-frame points (+Y up) -> camera frame (y down, z forward)."""
    return flip_yz(points)


def pose_camera_to_gltf(R: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A rigid pose ``x_cam = R @ x + t`` expressed in the glTF frame: (R', t') with
    ``x_gltf = R' @ x + t'`` (the model frame unchanged)."""
    D = np.diag(FLIP_YZ)
    return D @ np.asarray(R, np.float64), D @ np.asarray(t, np.float64)


#: camera frame -> glTF frame as a (4, 4) rigid transform (the 180 degrees about x above)
CAMERA_TO_GLTF = np.diag([1.0, -1.0, -1.0, 1.0])


def transform_points(T: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(N, 3) points through a (4, 4) rigid transform (float64)."""
    T = np.asarray(T, np.float64)
    return np.asarray(points, np.float64).reshape(-1, 3) @ T[:3, :3].T + T[:3, 3]


def world_from_camera(up: np.ndarray, origin: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """(4, 4) camera frame -> a world frame in glTF's convention (+Y up, metres): ``up`` (camera
    frame, unit or not) becomes +Y, ``forward`` (made horizontal) +Z, +X = Y x Z, and ``origin``
    (camera-frame point) the origin. A proper rotation (det +1). ``forward`` parallel to ``up``: the
    camera's view direction made horizontal, else any horizontal direction."""
    y = np.asarray(up, np.float64)
    y = y / np.linalg.norm(y)
    cands = [np.asarray(forward, np.float64), np.array([0.0, 0.0, -1.0]), np.array([1.0, 0.0, 0.0])]
    for f in cands:
        z = f - (f @ y) * y
        if np.linalg.norm(z) > 1e-6:
            break
    z = z / np.linalg.norm(z)
    x = np.cross(y, z)
    T = np.eye(4)
    T[:3, :3] = np.stack([x, y, z])
    T[:3, 3] = -T[:3, :3] @ np.asarray(origin, np.float64)
    return T


def body_forward(names, keypoints3d: np.ndarray, up: np.ndarray) -> np.ndarray:
    """(3,) float64 the way a body faces, camera frame, horizontal (perpendicular to ``up``) and unit:
    its left-right axis (left hip - right hip plus left shoulder - right shoulder, those of them in
    ``names`` that ``keypoints3d`` (K, 3) metres holds) crossed with ``up`` (camera frame); zeros
    when the body gives none. The person's left x up is their front (x right, y down, z forward)."""
    names = list(names or ())
    kp = np.asarray(keypoints3d, np.float64).reshape(-1, 3)
    left = np.zeros(3)
    for a, b in (("left_hip", "right_hip"), ("left_shoulder", "right_shoulder")):
        if a in names and b in names and len(kp) > max(names.index(a), names.index(b)):
            left += kp[names.index(a)] - kp[names.index(b)]
    u = np.asarray(up, np.float64)
    f = np.cross(left, u / np.linalg.norm(u))
    n = float(np.linalg.norm(f))
    return f / n if n > 1e-9 else np.zeros(3)
