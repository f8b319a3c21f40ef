"""Synthetic human-object scenes whose true object pose and contacts are known.

A body (any :class:`~hoirecon.body.model.BodyModel`) is posed and placed in front of a pinhole camera;
an object mesh is rotated and pushed against a chosen body part until it touches without
penetrating; masks are rendered with true occlusion by ray casting. Contacts are the vertices of each
mesh within ``contact_tol`` metres of the other mesh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hoirecon.geometry.raycast import depth_map
from hoirecon.geometry.sdf import body_sdf_grid
from hoirecon.types import (
    BodyFit,
    Box,
    CameraIntrinsics,
    ContactSet,
    ObjectDetection,
    ObjectMesh,
    PersonDetection,
)


@dataclass(frozen=True)
class SyntheticScene:
    body: BodyFit
    mesh: ObjectMesh
    rotation: np.ndarray  # (3, 3) true object rotation
    translation: np.ndarray  # (3,) true object translation, metres
    object_vertices: np.ndarray  # (V, 3) true posed object, camera frame
    camera: CameraIntrinsics
    person: PersonDetection
    object: ObjectDetection
    contacts: ContactSet  # true contacts


def render_masks(body_v, body_f, obj_v, obj_f, camera: CameraIntrinsics) -> tuple[np.ndarray, np.ndarray]:
    """Person and object masks with true mutual occlusion, (H, W) bool each."""
    db = depth_map(body_v, body_f, camera.K, camera.width, camera.height)
    do = depth_map(obj_v, obj_f, camera.K, camera.width, camera.height)
    person = np.isfinite(db) & (db <= do)
    obj = np.isfinite(do) & (do < db)
    return person, obj


def place_against(
    body: BodyFit, mesh: ObjectMesh, rotation: np.ndarray, body_part: str, object_part: str,
    gap: float = 0.002,
) -> np.ndarray:
    """Translation that puts the rotated object's ``object_part`` against ``body_part`` from outside."""
    part_v = body.vertices[body.part_of_vertex == body.part_names.index(body_part)]
    target = part_v.mean(0)
    out_dir = target - body.vertices.mean(0)
    out_dir[1] *= 0.3  # push mostly sideways/forward, not up or down
    out_dir /= np.linalg.norm(out_dir) + 1e-9
    X = mesh.vertices @ rotation.T
    opart = X[mesh.part_vertices(object_part)]
    sdf = body_sdf_grid(body.vertices, body.faces, spacing=0.01)
    t = target - opart.mean(0)
    pts = torch.as_tensor(X, dtype=torch.float32)
    for step in np.arange(0.0, 1.5, 0.005):  # push out until nothing penetrates
        tt = t + step * out_dir
        d = sdf(pts + torch.as_tensor(tt, dtype=torch.float32))
        if float(d.min()) > gap:
            return (tt - (float(d.min()) - gap) * out_dir).astype(np.float32)
    return t.astype(np.float32)


def true_contacts(body: BodyFit, obj_v: np.ndarray, mesh: ObjectMesh, pair: tuple[str, str], tol: float) -> ContactSet:
    from scipy.spatial import cKDTree

    dh, _ = cKDTree(obj_v).query(body.vertices)
    do, _ = cKDTree(body.vertices).query(obj_v)
    h = np.flatnonzero(dh < tol)
    o = np.flatnonzero(do < tol)
    return ContactSet(
        human_vertices=h, object_vertices=o, pairs=(pair,),
        pair_of_human_vertex=np.zeros(len(h), np.int16), pair_of_object_vertex=np.zeros(len(o), np.int16),
        source="ground-truth", precise=True,
    )  # fmt: skip


def make_scene(
    body: BodyFit, mesh: ObjectMesh, rotation: np.ndarray, pair: tuple[str, str], camera: CameraIntrinsics,
    contact_tol: float = 0.02, keypoints_33: np.ndarray | None = None,
) -> SyntheticScene:
    """Build the scene: object placed against the body, masks rendered, contacts measured."""
    t = place_against(body, mesh, rotation, pair[0], pair[1])
    obj_v = (mesh.vertices @ rotation.T + t).astype(np.float32)
    pmask, omask = render_masks(body.vertices, body.faces, obj_v, mesh.faces, camera)
    kp = keypoints_33 if keypoints_33 is not None else np.zeros((33, 2), np.float32)
    person = PersonDetection(
        box=Box.from_mask(pmask), mask=pmask, keypoints=kp, visibility=np.ones(33, np.float32),
        world_keypoints=np.zeros((33, 3), np.float32), backend="synthetic",
    )  # fmt: skip
    obj = ObjectDetection(label=mesh.category, box=Box.from_mask(omask), mask=omask, backend="synthetic")
    return SyntheticScene(
        body=body, mesh=mesh, rotation=rotation.astype(np.float32), translation=t, object_vertices=obj_v,
        camera=camera, person=person, object=obj, contacts=true_contacts(body, obj_v, mesh, pair, contact_tol),
    )  # fmt: skip


def posed_body(model, pose: torch.Tensor, rotation: np.ndarray, translation: np.ndarray) -> BodyFit:
    """A BodyFit from a body model at a known pose, rotated and placed in the camera frame."""
    from hoirecon.body.model import KEYPOINT_NAMES, body_regions

    with torch.no_grad():
        out = model.forward(pose[None], model.default_shape()[None])
    R = rotation.astype(np.float32)
    v = out.vertices[0].cpu().numpy() @ R.T + translation
    k = out.keypoints[0].cpu().numpy() @ R.T + translation
    parts, names = model.part_segmentation()
    return BodyFit(
        model_name=model.name, vertices=v.astype(np.float32), faces=model.faces, keypoints3d=k.astype(np.float32),
        keypoint_names=KEYPOINT_NAMES, part_of_vertex=parts, part_names=names, params={},
        regions=body_regions(model),
    )  # fmt: skip


def synthetic_person(model, pose: torch.Tensor, rotation: np.ndarray, translation: np.ndarray,
                     camera: CameraIntrinsics) -> tuple[PersonDetection, np.ndarray]:  # fmt: skip
    """MediaPipe-format landmarks (33 points, pixels; world landmarks hip-centred) generated from a body
    model at known parameters. Returns the detection and the true (K, 3) camera-frame keypoints."""
    from hoirecon.body.fit import MEDIAPIPE_INDEX
    from hoirecon.body.model import KEYPOINT_NAMES

    with torch.no_grad():
        out = model.forward(pose[None].to(model.device), model.default_shape()[None])
    kp = out.keypoints[0].cpu().numpy() @ rotation.T + translation
    px = camera.project(kp.astype(np.float64)).astype(np.float32)
    mp = np.zeros((33, 2), np.float32)
    vis = np.zeros(33, np.float32)
    world = np.zeros((33, 3), np.float32)
    hip = 0.5 * (kp[KEYPOINT_NAMES.index("left_hip")] + kp[KEYPOINT_NAMES.index("right_hip")])
    for k, name in enumerate(KEYPOINT_NAMES):
        i = MEDIAPIPE_INDEX[name]
        if i is not None:
            mp[i], vis[i], world[i] = px[k], 1.0, kp[k] - hip
    lo, hi = mp[vis > 0].min(0), mp[vis > 0].max(0)
    person = PersonDetection(
        box=Box(*map(float, lo), *map(float, hi)), mask=np.zeros((camera.height, camera.width), bool), keypoints=mp,
        visibility=vis, world_keypoints=world, backend="synthetic",
    )  # fmt: skip
    return person, kp.astype(np.float32)
