"""The body-model interface the rest of the pipeline sees, and the skinning-weight part segmentation.

Every body model works in its *canonical frame*: metres, x toward the body's left, y down, z toward the
body's back (a body in rest pose facing the camera is already camera-aligned), pelvis near the origin.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Protocol

import numpy as np
import torch

from hoirecon.geometry.mesh import vertex_normals

# The keypoints every body model regresses, COCO order plus feet (the fitter's target names).
KEYPOINT_NAMES: tuple[str, ...] = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
    "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_big_toe", "right_big_toe", "left_small_toe", "right_small_toe", "left_heel", "right_heel",
)  # fmt: skip


@dataclass(frozen=True)
class BodyOutput:
    """vertices: (B, V, 3), keypoints: (B, K, 3) in KEYPOINT_NAMES order; canonical frame, metres."""

    vertices: torch.Tensor
    keypoints: torch.Tensor


class BodyModel(Protocol):
    """What a body model offers the fitter and the exporter."""

    name: str
    pose_joints: tuple[str, ...]  # joints whose rotation the fitter optimises (axis-angle each)
    num_shape: int  # number of shape parameters
    device: torch.device

    @property
    def faces(self) -> np.ndarray: ...  # (F, 3) int64

    def part_segmentation(self) -> tuple[np.ndarray, tuple[str, ...]]: ...

    def default_shape(self) -> torch.Tensor: ...  # (num_shape,)

    def forward(self, pose: torch.Tensor, shape: torch.Tensor) -> BodyOutput:
        """pose: (B, len(pose_joints), 3) axis-angle; shape: (B, num_shape)."""
        ...

    def shape_penalty(self, shape: torch.Tensor) -> torch.Tensor: ...

    def export_params(self, pose: torch.Tensor, shape: torch.Tensor, orient: np.ndarray, transl: np.ndarray) -> dict[str, Any]:
        """JSON-ready parameters in the model's own convention, including the placement
        ``x_cam = R(orient) @ x_canonical + transl``. Optional extras: ``pose_penalty(pose) -> (B,)``;
        ``skin(state: BodyState) -> Skin``, the skeleton as fitted for a skinned export."""
        ...


@lru_cache(maxsize=1)
def _part_rules() -> dict[str, Any]:
    return json.loads(resources.files("hoirecon.data").joinpath("body_parts.json").read_text())


def part_names() -> tuple[str, ...]:
    return tuple(_part_rules()["parts"])


def segment_parts(
    model_key: str,
    bone_names: list[str] | tuple[str, ...],
    skin_weights: np.ndarray,
    rest_vertices: np.ndarray,
    rest_keypoints: dict[str, np.ndarray],
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Body-part label of every vertex from the skinning weights.

    skin_weights: (V, J) dense weights, columns in ``bone_names`` order.
    rest_vertices: (V, 3) canonical frame (x left, y down, z back). rest_keypoints: name -> (3,).
    Returns part_of_vertex (V,) int16 and the part names.
    """
    rules = _part_rules()
    names = part_names()
    index = {n: i for i, n in enumerate(names)}
    compiled = [(re.compile(p), part) for p, part in rules["models"][model_key]]
    bone_part = np.full(len(bone_names), index["belly"], dtype=np.int16)
    for j, bone in enumerate(bone_names):
        for pattern, part in compiled:
            if pattern.search(bone):
                bone_part[j] = index[part]
                break
    part = bone_part[np.argmax(skin_weights, axis=1)].copy()

    # Front/back split of the torso: the z of a vertex against the local torso centre line.
    z = rest_vertices[:, 2]
    hip_mid = 0.5 * (rest_keypoints["left_hip"] + rest_keypoints["right_hip"])
    sh_mid = 0.5 * (rest_keypoints["left_shoulder"] + rest_keypoints["right_shoulder"])
    # Centre line z at each vertex's height (linear between hips and shoulders).
    ty = np.clip((rest_vertices[:, 1] - hip_mid[1]) / (sh_mid[1] - hip_mid[1] + 1e-9), 0.0, 1.0)
    z_centre = hip_mid[2] + ty * (sh_mid[2] - hip_mid[2])
    for front, back in rules["split_front_back"].items():
        sel = (part == index[front]) & (z > z_centre)
        part[sel] = index[back]
    # Buttocks: back half of the hips and the upper back of the thighs, down to 40% of the thigh.
    knee_y = 0.5 * (rest_keypoints["left_knee"][1] + rest_keypoints["right_knee"][1])
    low = hip_mid[1] + 0.4 * (knee_y - hip_mid[1])
    thighs = (part == index["left_thigh"]) | (part == index["right_thigh"]) | (part == index["hips"])
    sel = thighs & (z > hip_mid[2]) & (rest_vertices[:, 1] < low)
    part[sel] = index["buttocks"]
    return part.astype(np.int16), names


def region_names() -> tuple[str, ...]:
    """The contact regions ``body_parts.json`` defines (``regions``), data order."""
    return tuple(k for k in _part_rules().get("regions", {}) if not k.startswith("_"))


def segment_regions(rest_vertices: np.ndarray, faces: np.ndarray, part_of_vertex: np.ndarray,
                    names: tuple[str, ...]) -> dict[str, np.ndarray]:  # fmt: skip
    """The contact regions of ``body_parts.json`` (``regions``) on a body model's mesh: name -> (R,)
    int64 indices of the vertices of the region's parts whose outward normal in the rest pose makes a
    cosine of at least ``min_cos`` (at most ``max_cos``) with the region's ``normal``.

    rest_vertices: (V, 3) the rest pose, canonical frame (x left, y down, z back), metres; faces: (F, 3);
    part_of_vertex: (V,) index into ``names`` (:func:`segment_parts`)."""
    v = np.asarray(rest_vertices, np.float64)
    vn = vertex_normals(v, faces)
    # outward: the mesh's winding may be either way; the normals must point away from the centroid on the whole
    if float(((v - v.mean(0)) * vn).sum()) < 0:
        vn = -vn
    index = {n: i for i, n in enumerate(names)}
    out = {}
    for name, rule in _part_rules().get("regions", {}).items():
        if name.startswith("_"):
            continue
        cos = vn @ (np.asarray(rule["normal"], np.float64) / np.linalg.norm(rule["normal"]))
        sel = np.isin(part_of_vertex, [index[p] for p in rule["parts"] if p in index])
        sel &= (cos >= float(rule.get("min_cos", -1.0))) & (cos <= float(rule.get("max_cos", 1.0)))
        out[name] = np.flatnonzero(sel).astype(np.int64)
    return out


def body_regions(model) -> dict[str, np.ndarray]:
    """:func:`segment_regions` of a :class:`BodyModel` in its rest pose (zero pose, default shape),
    computed once per model object."""
    cached = getattr(model, "_hoirecon_regions", None)
    if cached is None:
        pv, names = model.part_segmentation()
        with torch.no_grad():
            out = model.forward(torch.zeros(1, len(model.pose_joints), 3, device=model.device), model.default_shape()[None])
        cached = segment_regions(out.vertices[0].cpu().numpy(), model.faces, pv, names)
        try:
            model._hoirecon_regions = cached
        except AttributeError:  # a model object without a __dict__: computed each time
            pass
    return cached


def top_influences(indices: np.ndarray, weights: np.ndarray, k: int = 8) -> tuple[np.ndarray, np.ndarray, float]:
    """The ``k`` largest skinning weights per vertex: ``(joints (V, k) uint16, weights (V, k) float32
    summing to 1, the largest weight sum dropped)``. ``indices``/``weights``: (V, N) sparse influences
    (dense (V, J) weights: pass ``np.arange(J)`` tiled as ``indices``)."""
    indices = np.asarray(indices)
    weights = np.asarray(weights, np.float64)
    order = np.argsort(-weights, axis=1, kind="stable")[:, :k]
    w = np.take_along_axis(weights, order, 1)
    j = np.take_along_axis(indices, order, 1)
    if w.shape[1] < k:  # fewer influences than k: pad with zero weights on joint 0
        pad = k - w.shape[1]
        w = np.concatenate([w, np.zeros((len(w), pad))], 1)
        j = np.concatenate([j, np.zeros((len(j), pad), j.dtype)], 1)
    total = weights.sum(1)
    dropped = float(np.max(total - w.sum(1))) if len(w) else 0.0
    w = w / np.maximum(w.sum(1, keepdims=True), 1e-12)
    j = np.where(w > 0, j, 0)
    return j.astype(np.uint16), w.astype(np.float32), dropped


def placed_skin(names, parents, canon_world: np.ndarray, vertices_canon: np.ndarray, joints: np.ndarray,
                weights: np.ndarray, dropped: float, orient: np.ndarray, transl: np.ndarray):  # fmt: skip
    """A :class:`hoirecon.types.Skin` in the camera frame from bones and vertices in the model's
    canonical frame (``x_cam = R(orient) @ x_canonical + transl``). canon_world: (J, 4, 4)."""
    from scipy.spatial.transform import Rotation

    from hoirecon.types import Skin

    P = np.eye(4)
    P[:3, :3] = Rotation.from_rotvec(np.asarray(orient, np.float64)).as_matrix()
    P[:3, 3] = np.asarray(transl, np.float64)
    world = P[None] @ np.asarray(canon_world, np.float64)
    v = np.asarray(vertices_canon, np.float64) @ P[:3, :3].T + P[:3, 3]
    return Skin(joint_names=tuple(names), parents=np.asarray(parents, np.int64), joint_world=world, joints=joints,
                weights=weights, vertices=v.astype(np.float32), dropped=dropped)  # fmt: skip
