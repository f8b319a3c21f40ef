"""SMPL-X (through the ``smplx`` package) behind :class:`hoirecon.body.model.BodyModel`.

SMPL-X model files are licence-gated: hoirecon never downloads them. Register at
https://smpl-x.is.tue.mpg.de, download "SMPL-X v1.1 (NPZ+PKL)", and put ``SMPLX_NEUTRAL.npz``
(and/or ``SMPLX_MALE.npz``, ``SMPLX_FEMALE.npz``) in one of, first found wins:

1. the folder given with ``--smplx-dir DIR`` (``DIR/SMPLX_NEUTRAL.npz`` or ``DIR/smplx/SMPLX_NEUTRAL.npz``);
2. ``$HOIRECON_SMPLX_DIR``;
3. ``<hoirecon cache>/body_models/smplx/``.

``.npz`` is preferred; a ``.pkl`` is used only when no ``.npz`` exists (pickles made with chumpy need it).

SMPL-X's frame is y up, z forward (the body faces +z), x toward the body's left; the canonical frame
is ``(x, -y, -z)`` of it. Fitted parameters are exported in SMPL-X's own convention, so that
``smplx.create(...)(**params)`` gives the exported camera-frame vertices (see ``export_params``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hoirecon.body.model import KEYPOINT_NAMES, BodyOutput, segment_parts
from hoirecon.cache import cache_dir
from hoirecon.errors import MissingModelError

GENDERS = ("neutral", "male", "female")
DOWNLOAD_PAGE = "https://smpl-x.is.tue.mpg.de"

# SMPL-X's 55 skeleton joints (smplx.joint_names.JOINT_NAMES[:55]).
BODY_JOINTS: tuple[str, ...] = (
    "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2", "left_ankle", "right_ankle",
    "spine3", "left_foot", "right_foot", "neck", "left_collar", "right_collar", "head", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
)  # fmt: skip  (joints 1..21: the body_pose)

# Index into smplx's output joints (55 skeleton joints, then the vertex picks) of each KEYPOINT_NAMES.
_KEYPOINT_JOINT = {
    "nose": 55, "right_eye": 56, "left_eye": 57, "right_ear": 58, "left_ear": 59,
    "left_big_toe": 60, "left_small_toe": 61, "left_heel": 62,
    "right_big_toe": 63, "right_small_toe": 64, "right_heel": 65,
    "left_shoulder": 16, "right_shoulder": 17, "left_elbow": 18, "right_elbow": 19,
    "left_wrist": 20, "right_wrist": 21, "left_hip": 1, "right_hip": 2,
    "left_knee": 4, "right_knee": 5, "left_ankle": 7, "right_ankle": 8,
}  # fmt: skip

# SMPLify's joint-angle prior: (body_pose joint index 0..20, axis, sign): exp(sign * angle)^2 penalises
# elbows and knees bending the wrong way.
_ANGLE_LIMITS = ((17, 1, 1.0), (18, 1, -1.0), (3, 0, -1.0), (4, 0, -1.0))

_D = torch.tensor([1.0, -1.0, -1.0])  # SMPL-X frame -> canonical frame (a diagonal rotation)


def smplx_search_dirs(explicit: str | os.PathLike[str] | None = None) -> list[tuple[str, Path]]:
    """Where SMPL-X files are looked for, in order, with the reason for each."""
    dirs: list[tuple[str, Path]] = []
    if explicit:
        dirs.append(("--smplx-dir", Path(explicit).expanduser()))
    env = os.environ.get("HOIRECON_SMPLX_DIR")
    if env:
        dirs.append(("HOIRECON_SMPLX_DIR", Path(env).expanduser()))
    dirs.append(("cache", cache_dir(create=False) / "body_models" / "smplx"))
    return dirs


def find_smplx_file(gender: str = "neutral", explicit: str | os.PathLike[str] | None = None) -> Path:
    """The SMPL-X model file for ``gender``, or :class:`MissingModelError` saying where to get and put it."""
    gender = gender.lower()
    if gender not in GENDERS:
        raise MissingModelError(f"unknown SMPL-X gender '{gender}'; use one of {', '.join(GENDERS)}")
    name = f"SMPLX_{gender.upper()}"
    dirs = smplx_search_dirs(explicit)
    if explicit and not Path(explicit).expanduser().is_dir():
        raise MissingModelError(f"--smplx-dir {explicit}: no such folder")
    for ext in (".npz", ".pkl"):
        for _, d in dirs:
            for cand in (d / f"{name}{ext}", d / "smplx" / f"{name}{ext}"):
                if cand.is_file():
                    return cand
    where = dirs[0][1]
    raise MissingModelError(
        f"SMPL-X model file {name}.npz not found (looked in {', '.join(str(d) for _, d in dirs)}); "
        f"SMPL-X is licence-gated: register and download 'SMPL-X v1.1 (NPZ+PKL)' from {DOWNLOAD_PAGE}, "
        f"then put {name}.npz into {where} (or pass --smplx-dir DIR / set HOIRECON_SMPLX_DIR)"
    )


class SMPLXBody:
    """SMPL-X with the fitter's interface: pose = the 21 body joints (axis-angle), shape = 10 betas;
    hands, jaw, eyes and expression stay neutral."""

    name = "smplx"
    pose_joints = BODY_JOINTS
    num_shape = 10

    def __init__(self, gender: str = "neutral", smplx_dir: str | os.PathLike[str] | None = None,
                 device: str | torch.device = "cpu") -> None:  # fmt: skip
        import smplx

        self.gender = gender.lower()
        self.path = find_smplx_file(self.gender, smplx_dir)
        self.device = torch.device(device)
        try:
            self._model = smplx.SMPLX(
                str(self.path), gender=self.gender, ext=self.path.suffix[1:], use_pca=False,
                num_betas=self.num_shape, num_expression_coeffs=10, flat_hand_mean=False,
            ).to(self.device)  # fmt: skip
        except Exception as exc:  # a truncated or foreign file
            raise MissingModelError(f"{self.path}: not a usable SMPL-X model file ({type(exc).__name__}: {exc})") from exc
        self._model.eval()
        for p in self._model.parameters():
            p.requires_grad_(False)
        self._kp = torch.tensor([_KEYPOINT_JOINT[n] for n in KEYPOINT_NAMES], device=self.device)
        self._D = _D.to(self.device)
        self._faces = self._model.faces_tensor.cpu().numpy().astype(np.int64)
        self._parts: tuple[np.ndarray, tuple[str, ...]] | None = None

    @property
    def faces(self) -> np.ndarray:
        return self._faces

    def default_shape(self) -> torch.Tensor:
        return torch.zeros(self.num_shape, device=self.device)

    def shape_penalty(self, shape: torch.Tensor) -> torch.Tensor:
        return (shape**2).sum(-1)

    def pose_penalty(self, pose: torch.Tensor) -> torch.Tensor:
        """SMPLify's joint-angle prior: elbows and knees must not bend backwards. pose: (B, 21, 3)."""
        terms = [torch.exp(sign * pose[:, j, axis]) ** 2 for j, axis, sign in _ANGLE_LIMITS]
        return torch.stack(terms, -1).sum(-1)

    def _raw(self, pose: torch.Tensor, shape: torch.Tensor, **kw: torch.Tensor):
        B = pose.shape[0]
        return self._model(betas=shape, body_pose=pose.reshape(B, -1), return_verts=True, **kw)

    def forward(self, pose: torch.Tensor, shape: torch.Tensor) -> BodyOutput:
        out = self._raw(pose, shape)
        D = self._D.to(pose.dtype)
        return BodyOutput(vertices=out.vertices * D, keypoints=out.joints[:, self._kp] * D)

    def part_segmentation(self) -> tuple[np.ndarray, tuple[str, ...]]:
        if self._parts is None:
            import smplx.joint_names

            with torch.no_grad():
                out = self.forward(torch.zeros(1, len(BODY_JOINTS), 3, device=self.device), self.default_shape()[None])
            v = out.vertices[0].cpu().numpy()
            kps = {n: k for n, k in zip(KEYPOINT_NAMES, out.keypoints[0].cpu().numpy())}
            w = self._model.lbs_weights.cpu().numpy()
            self._parts = segment_parts("smplx", smplx.joint_names.JOINT_NAMES[: w.shape[1]], w, v, kps)
        return self._parts

    def skin(self, state) -> Any:
        """The skeleton as fitted (:class:`hoirecon.types.Skin`, camera frame) for ``state``: SMPL-X's
        55 joints (``smplx.lbs.batch_rigid_transform`` of the full pose, hand means included, at the
        shaped rest joints), its ``lbs_weights`` (eight largest per vertex) and its vertices (with the
        pose correctives, which stay baked in when a bone is turned)."""
        import smplx.joint_names
        from smplx.lbs import batch_rigid_transform, batch_rodrigues, blend_shapes, vertices2joints

        from hoirecon.body.model import placed_skin, top_influences

        m = self._model
        pose = torch.as_tensor(np.asarray(state.pose), dtype=torch.float32, device=self.device)[None]
        betas = torch.as_tensor(np.asarray(state.shape), dtype=torch.float32, device=self.device)[None]
        with torch.no_grad():
            out = self._raw(pose, betas, return_full_pose=True)
            expression = torch.zeros(1, m.expr_dirs.shape[-1], device=self.device)
            v_shaped = m.v_template[None] + blend_shapes(torch.cat([betas, expression], -1),
                                                         torch.cat([m.shapedirs, m.expr_dirs], -1))  # fmt: skip
            J = vertices2joints(m.J_regressor, v_shaped)
            rot = batch_rodrigues(out.full_pose.reshape(-1, 3)).reshape(1, -1, 3, 3)
            posed_joints, _ = batch_rigid_transform(rot, J, m.parents)
            # A bone's frame: its accumulated rotation, placed at its posed joint.
            R_acc = [rot[0, 0]]
            parents = m.parents.cpu().numpy().astype(np.int64)
            for i in range(1, rot.shape[1]):
                R_acc.append(R_acc[parents[i]] @ rot[0, i])
        G = np.tile(np.eye(4), (len(R_acc), 1, 1))
        G[:, :3, :3] = torch.stack(R_acc).cpu().numpy()
        G[:, :3, 3] = posed_joints[0].cpu().numpy()
        Dh = np.diag([*self._D.cpu().numpy().astype(np.float64), 1.0])
        canon = Dh[None] @ G
        v = out.vertices[0].cpu().numpy().astype(np.float64) * self._D.cpu().numpy()
        parents = parents.copy()
        parents[0] = -1
        W = m.lbs_weights.cpu().numpy()
        j, w, dropped = top_influences(np.tile(np.arange(W.shape[1]), (len(W), 1)), W)
        names = smplx.joint_names.JOINT_NAMES[: W.shape[1]]
        return placed_skin(names, parents, canon, v, j, w, dropped, state.orient, state.transl)

    def export_params(self, pose: torch.Tensor, shape: torch.Tensor, orient: np.ndarray, transl: np.ndarray) -> dict[str, Any]:
        """SMPL-X parameters whose ``smplx`` forward gives the camera-frame vertices.

        Ours: ``x_cam = R @ D @ x_smplx(global_orient=0) + t`` with D = diag(1, -1, -1). SMPL-X rotates
        about the pelvis joint J0: ``x = G (x0 - J0) + J0 + T``; so G = R D and T = t + (G - I) J0.
        """
        from scipy.spatial.transform import Rotation

        pose = pose.detach().reshape(1, len(BODY_JOINTS), 3)
        betas = shape.detach().reshape(1, -1)
        with torch.no_grad():
            J0 = self._raw(pose, betas).joints[0, 0].cpu().numpy().astype(np.float64)
        R = Rotation.from_rotvec(np.asarray(orient, np.float64)).as_matrix()
        G = R @ np.diag([1.0, -1.0, -1.0])
        T = np.asarray(transl, np.float64) + (G - np.eye(3)) @ J0
        zeros = lambda n: [0.0] * n  # noqa: E731
        return {
            "convention": "smplx",
            "gender": self.gender,
            "model_file": self.path.name,
            "flat_hand_mean": False,
            "num_betas": self.num_shape,
            "num_expression_coeffs": 10,
            "betas": betas[0].cpu().numpy().round(7).tolist(),
            "global_orient": Rotation.from_matrix(G).as_rotvec().round(9).tolist(),
            "body_pose": pose[0].cpu().numpy().round(9).tolist(),
            "jaw_pose": zeros(3),
            "leye_pose": zeros(3),
            "reye_pose": zeros(3),
            "left_hand_pose": [zeros(3) for _ in range(15)],
            "right_hand_pose": [zeros(3) for _ in range(15)],
            "expression": zeros(10),
            "transl": T.round(9).tolist(),
        }
