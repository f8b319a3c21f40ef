"""``params.json``: every number an artist or a script needs to rebuild or audit the scene.

All geometric values are in the **internal camera frame** (x right, y down, z forward, metres), as the
``frames`` entry of the file says; the meshes in ``scene.glb``/``*.obj`` are in the glTF frame
(``(x, y, z) -> (x, -y, -z)``).

Versioned: the top-level ``"schema_version"`` (:data:`SCHEMA_VERSION`, an integer, the same
convention as the batch summary's) names the version of ``hoirecon/data/schemas/params.schema.json``
(JSON Schema draft 2020-12, every field described with its unit) the file conforms to. It grows by
one with every change of the layout (a field added, removed or renamed, a meaning or unit changed);
the schema's description lists what changed in each version. ``"version"`` (1) is the earlier
marker, kept unchanged for existing readers.
"""

from __future__ import annotations

import dataclasses
import enum
import math
import os
from collections.abc import Mapping, Set
from pathlib import PurePath
from typing import Any

import numpy as np

from hoirecon.types import Reconstruction
from hoirecon.export.skin import skin_summary

__all__ = ["build_params", "jsonable", "rotation_to_axis_angle", "PARAMS_VERSION", "SCHEMA_VERSION", "FRAMES"]

PARAMS_VERSION = 1
#: Version of ``params.schema.json`` that :func:`build_params` output conforms to.
SCHEMA_VERSION = 7

FRAMES = {
    "internal": "camera: x right, y down, z forward, metres",
    "exported": "glTF: +Y up, +Z toward the camera, metres",
    "internal_to_exported": "(x, y, z) -> (x, -y, -z)",
}


def _frames(frame: str, T: np.ndarray | None) -> dict:
    from hoirecon.geometry.frames import CAMERA_TO_GLTF

    T = CAMERA_TO_GLTF if T is None else np.asarray(T, np.float64)
    out = dict(FRAMES)
    if frame == "world":
        out["exported"] = "world: +Y up (gravity), the floor at Y = 0 under the pelvis, the person facing +Z, metres"
        out["internal_to_exported"] = "x_exported = camera_to_export @ [x, y, z, 1]"
    out["export"] = frame
    out["camera_to_export"] = [[round(float(x), 9) for x in row] for row in T]
    return out


def jsonable(obj: Any, ndigits: int | None = None) -> Any:
    """Recursively convert ``obj`` to plain JSON types.

    numpy arrays -> (nested) lists, numpy scalars -> Python scalars, tuples/sets -> lists, paths ->
    str, mappings -> dicts with str keys, dataclasses -> dicts, enums -> their value, torch tensors ->
    lists; NaN and +-inf -> None. Floats are rounded to ``ndigits`` when given. Anything else -> str.
    """
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (np.bool_,)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        if not math.isfinite(x):
            return None
        return round(x, ndigits) if ndigits is not None else x
    if isinstance(obj, np.ndarray):
        if obj.dtype.kind in "fc" or obj.dtype == object:
            return [jsonable(x, ndigits) for x in obj.tolist()] if obj.ndim else jsonable(obj.item(), ndigits)
        return obj.tolist()
    if isinstance(obj, enum.Enum):
        return jsonable(obj.value, ndigits)
    if isinstance(obj, (PurePath, os.PathLike)):
        return os.fspath(obj)
    if isinstance(obj, Mapping):
        return {str(jsonable(k) if not isinstance(k, str) else k): jsonable(v, ndigits) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: jsonable(getattr(obj, f.name), ndigits) for f in dataclasses.fields(obj)}
    if isinstance(obj, Set):
        items = [jsonable(x, ndigits) for x in obj]
        try:
            return sorted(items)
        except TypeError:
            return items
    if isinstance(obj, (list, tuple)):
        return [jsonable(x, ndigits) for x in obj]
    if hasattr(obj, "detach") and hasattr(obj, "cpu") and hasattr(obj, "numpy"):  # torch.Tensor
        return jsonable(obj.detach().cpu().numpy(), ndigits)
    if isinstance(obj, np.generic):
        return jsonable(obj.item(), ndigits)
    return str(obj)


def rotation_to_axis_angle(R: np.ndarray) -> list[float]:
    """Rotation matrix -> axis-angle vector (axis * angle in radians), via scipy (which projects a
    slightly non-orthonormal matrix onto the nearest rotation)."""
    from scipy.spatial.transform import Rotation

    R = np.asarray(R, dtype=np.float64).reshape(3, 3)
    if not np.all(np.isfinite(R)):
        return [float("nan")] * 3
    return [float(x) for x in Rotation.from_matrix(R).as_rotvec()]


def _prob(p: np.ndarray | None) -> list[float] | None:
    if p is None:
        return None
    return [None if not math.isfinite(x) else round(x, 4) for x in np.asarray(p, dtype=np.float64).reshape(-1).tolist()]


def build_params(recon: Reconstruction, frame: str = "camera", camera_to_export: np.ndarray | None = None) -> dict:
    """A JSON-serialisable summary of ``recon`` (camera-frame geometry; see ``frames``). ``frame`` /
    ``camera_to_export``: the mesh files' frame (``hoirecon.export.world``) and its (4, 4) transform
    from the camera frame (default: the glTF camera frame)."""
    img, cam = recon.image, recon.image.original_camera()
    inv = 1.0 / img.scale  # working pixels -> the photo's pixels
    body, obj = recon.fit.body, recon.fit.object
    mesh = obj.mesh
    det = recon.detections
    con = recon.contacts

    canon = np.asarray(mesh.vertices, dtype=np.float64)
    extent = (canon.max(0) - canon.min(0)) * float(obj.scale) if len(canon) else np.zeros(3)

    contacts: dict[str, Any] = {
        "source": con.source,
        "pairs": [list(p) for p in con.pairs],
        "human_vertices": [int(i) for i in np.asarray(con.human_vertices).reshape(-1)],
        "object_vertices": [int(i) for i in np.asarray(con.object_vertices).reshape(-1)],
        "pair_of_human_vertex": [int(i) for i in np.asarray(con.pair_of_human_vertex).reshape(-1)],
        "pair_of_object_vertex": [int(i) for i in np.asarray(con.pair_of_object_vertex).reshape(-1)],
    }
    if con.human_prob is not None:
        contacts["human_prob"] = _prob(con.human_prob)
    if con.object_prob is not None:
        contacts["object_prob"] = _prob(con.object_prob)
    if recon.interaction is not None:
        contacts["interaction"] = recon.interaction.as_dict()

    params = {
        "schema_version": SCHEMA_VERSION,
        "version": PARAMS_VERSION,
        "frames": _frames(frame, camera_to_export),
        "image": {"path": str(img.path), "width": cam.width, "height": cam.height,
                  "working": {"width": img.width, "height": img.height, "scale": img.scale,
                              "camera": {"fx": img.camera.fx, "fy": img.camera.fy, "cx": img.camera.cx,
                                         "cy": img.camera.cy}}},  # fmt: skip
        "quality": dict(recon.quality),
        "camera": {
            "fx": cam.fx, "fy": cam.fy, "cx": cam.cx, "cy": cam.cy,
            "width": cam.width, "height": cam.height,
            "source": cam.source, "K": cam.K,
        },
        "body": {
            "model": body.model_name,
            "params": body.params,
            "reprojection_error_px": body.reprojection_error_px,
            "height_m": body.height_m,
            "translation": recon.fit.body_translation,
            "num_vertices": int(len(body.vertices)),
            "num_faces": int(len(body.faces)),
            "skin": None if recon.skin is None else skin_summary(recon.skin),
        },
        "object": {
            "label": det.object.label,
            "category": mesh.category,
            "mesh_source": mesh.source,
            "label_match": recon.config.get("label_match"),
            "make": recon.config.get("object_make"),
            "symmetry": mesh.symmetry,
            "rotation": np.asarray(obj.rotation, dtype=np.float64).reshape(3, 3),
            "rotation_axis_angle": rotation_to_axis_angle(obj.rotation),
            "translation": np.asarray(obj.translation, dtype=np.float64).reshape(3),
            "scale": obj.scale,
            "size_m": float(extent.max()),
            "extent_m": extent,
            "num_vertices": int(len(obj.vertices)),
            "num_faces": int(len(mesh.faces)),
        },
        "contacts": contacts,
        "detections": {
            "person": {"box": [v * inv for v in det.person.box.as_list()], "backend": det.person.backend,
                       "score": det.person.score},
            "object": {
                "label": det.object.label,
                "box": [v * inv for v in det.object.box.as_list()],
                "backend": det.object.backend,
                "score": det.object.score,
            },
            "provenance": dict(det.provenance),
        },
        "gravity": _gravity(recon),
        "floor": recon.fit.floor.as_dict() if recon.fit.floor is not None else None,
        "losses": dict(recon.fit.losses),
        "timings_s": dict(recon.timings),
    }
    return jsonable(params)


def _gravity(recon: Reconstruction) -> dict | None:
    """params.json's ``gravity``: the estimate plus how the final meshes sit against it (the torso's
    tilt from up; an upright object's canonical up against gravity's)."""
    g = recon.gravity
    if g is None:
        return None
    up = np.asarray(g.up, np.float64)
    out = g.as_dict()
    from hoirecon.geometry.rotations import angle_deg
    from hoirecon.ground.posture import torso_axis

    body = recon.fit.body
    checks = {}
    if {"left_shoulder", "right_shoulder", "left_hip", "right_hip"} <= set(body.keypoint_names):
        checks["torso_tilt_deg"] = round(angle_deg(torso_axis(body.keypoints3d, body.keypoint_names), up), 2)
    if recon.config.get("object_upright"):
        R = np.asarray(recon.fit.object.rotation, np.float64)
        checks["object_tilt_deg"] = round(angle_deg(-R[:, 1], up), 2)  # canonical -y is the object's up
    out["checks"] = checks
    return out
