"""The Anny body model (Apache-2.0, ships its data) behind :class:`hoirecon.body.model.BodyModel`.

Anny's own frame is z up, -y front, +x the body's left; we rotate it into the canonical frame
(x left, y down, z back) with ``(x, y, z) -> (x, -z, y)``, which sends Anny's front (-y) to -z. First construction builds Anny's data (about a minute) into
``<hoirecon cache>/anny``; later constructions load it in a fraction of a second.
"""

from __future__ import annotations

import contextlib
import io
from functools import lru_cache
from typing import Any

import numpy as np
import torch

from hoirecon.body.model import KEYPOINT_NAMES, BodyOutput, segment_parts
from hoirecon.cache import cache_dir

# Anny bones the fitter rotates (axis-angle each, relative to the rest pose).
ANNY_POSE_JOINTS: tuple[str, ...] = (
    "spine02", "spine04", "neck01", "head",
    "shoulder01.L", "shoulder01.R", "upperarm01.L", "upperarm01.R", "lowerarm01.L", "lowerarm01.R",
    "wrist.L", "wrist.R", "upperleg01.L", "upperleg01.R", "lowerleg01.L", "lowerleg01.R",
    "foot.L", "foot.R",
)  # fmt: skip

# Anny frame -> canonical frame.
_ANNY_TO_CANON = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


@lru_cache(maxsize=1)
def _load_anny_core():
    """Build (or load from the cache) the Anny model once per process, on the CPU, float32."""
    with contextlib.redirect_stdout(io.StringIO()):  # warp prints banners on import
        import anny
        from anny.paths import set_anny_cache_path

        set_anny_cache_path(cache_dir() / "anny")
        model = anny.Anny(skinning_method="lbs").to(torch.float32)
        regressor = anny.KeypointsRegressor.coco(model)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, regressor


class AnnyBody:
    """Anny with the fitter's interface. Shape: the 6 phenotype values (gender, age, muscle, weight,
    height, proportions), each ``0.5 + shape`` clamped to [0, 1]."""

    name = "anny"
    pose_joints = ANNY_POSE_JOINTS

    def __init__(self, device: str | torch.device = "cpu") -> None:
        core, regressor = _load_anny_core()
        self.device = torch.device(device)
        self._model = core.to(self.device) if self.device.type != "cpu" else core
        self._regressor = regressor.to(self.device) if self.device.type != "cpu" else regressor
        labels = list(self._model.bone_labels)
        self._bone_labels = labels
        self._joint_index = torch.tensor([labels.index(j) for j in ANNY_POSE_JOINTS], device=self.device)
        self.phenotype_labels: tuple[str, ...] = tuple(self._model.phenotype_labels)
        self.num_shape = len(self.phenotype_labels)
        kp_labels = list(self._regressor.labels)
        self._kp_order = torch.tensor([kp_labels.index(n) for n in KEYPOINT_NAMES], device=self.device)
        self._R = _ANNY_TO_CANON.to(self.device)
        self._faces = self._model.get_triangular_faces().cpu().numpy().astype(np.int64)
        self._parts: tuple[np.ndarray, tuple[str, ...]] | None = None

    @property
    def faces(self) -> np.ndarray:
        return self._faces

    @property
    def bone_labels(self) -> list[str]:
        return list(self._bone_labels)

    def default_shape(self) -> torch.Tensor:
        return torch.zeros(self.num_shape, device=self.device)

    def phenotypes(self, shape: torch.Tensor) -> torch.Tensor:
        return (0.5 + shape).clamp(0.0, 1.0)

    def shape_penalty(self, shape: torch.Tensor) -> torch.Tensor:
        return (shape**2).sum(-1)

    def _pose_matrices(self, pose: torch.Tensor) -> torch.Tensor:
        import roma

        B = pose.shape[0]
        J = self._model.bone_count
        eye = torch.eye(4, device=self.device, dtype=pose.dtype).expand(B, J, 4, 4)
        rot = roma.rotvec_to_rotmat(pose.reshape(-1, 3)).reshape(B, -1, 3, 3)
        block = torch.eye(4, device=self.device, dtype=pose.dtype).repeat(B, len(ANNY_POSE_JOINTS), 1, 1)
        block = torch.cat([torch.cat([rot, block[..., :3, 3:]], -1), block[..., 3:, :]], -2)
        return eye.index_copy(1, self._joint_index, block)

    def forward(self, pose: torch.Tensor, shape: torch.Tensor) -> BodyOutput:
        out = self._model(pose_parameters=self._pose_matrices(pose), phenotype_kwargs=self.phenotypes(shape))
        kps = self._regressor(out)[:, self._kp_order]
        R = self._R.to(pose.dtype)
        return BodyOutput(vertices=out["vertices"] @ R.T, keypoints=kps @ R.T)

    def part_segmentation(self) -> tuple[np.ndarray, tuple[str, ...]]:
        if self._parts is None:
            with torch.no_grad():
                pose = torch.zeros(1, len(ANNY_POSE_JOINTS), 3, device=self.device)
                out = self.forward(pose, self.default_shape()[None])
            verts = out.vertices[0].cpu().numpy()
            kps = {n: k for n, k in zip(KEYPOINT_NAMES, out.keypoints[0].cpu().numpy())}
            V, J = verts.shape[0], self._model.bone_count
            idx = self._model.vertex_bone_indices.cpu().numpy()
            w = self._model.vertex_bone_weights.cpu().numpy()
            dense = np.zeros((V, J), np.float32)
            np.add.at(dense, (np.repeat(np.arange(V), idx.shape[1]), idx.ravel()), w.ravel())
            self._parts = segment_parts("anny", self._bone_labels, dense, verts, kps)
        return self._parts

    def export_params(self, pose: torch.Tensor, shape: torch.Tensor, orient: np.ndarray, transl: np.ndarray) -> dict[str, Any]:
        """Anny's own parameters: per-bone axis-angle (relative to rest, Anny's 'local-ref'
        parameterisation), the phenotype values, and the placement in the camera frame:
        ``x_cam = R(global_orient) @ anny_to_canonical @ x_anny + transl``."""
        pose = pose.detach().reshape(len(ANNY_POSE_JOINTS), 3).cpu().numpy().astype(np.float64)
        phen = self.phenotypes(shape.detach().reshape(1, -1))[0].cpu().numpy().astype(np.float64)
        return {
            "convention": "anny",
            "pose_parameterization": "local-ref",
            "bone_axis_angle": {j: pose[i].round(9).tolist() for i, j in enumerate(ANNY_POSE_JOINTS)},
            "phenotypes": {k: round(float(v), 9) for k, v in zip(self.phenotype_labels, phen)},
            "anny_to_canonical": _ANNY_TO_CANON.tolist(),
            "global_orient": np.asarray(orient, np.float64).round(9).tolist(),
            "transl": np.asarray(transl, np.float64).round(9).tolist(),
        }

    def skin(self, state) -> Any:
        """The skeleton as fitted (:class:`hoirecon.types.Skin`, camera frame) for ``state``
        (:class:`hoirecon.types.BodyState`): Anny's bones (its ``bone_poses``: rigid, and its vertices are
        plain linear blend skinning of its rest mesh with them), the eight largest of its (up to 9)
        weights per vertex (at most 0.1 % of a vertex's weight left out)."""
        from hoirecon.body.model import placed_skin, top_influences

        pose = torch.as_tensor(np.asarray(state.pose), dtype=torch.float32, device=self.device)[None]
        shape = torch.as_tensor(np.asarray(state.shape), dtype=torch.float32, device=self.device)[None]
        with torch.no_grad():
            out = self._model(pose_parameters=self._pose_matrices(pose), phenotype_kwargs=self.phenotypes(shape))
        Rh = np.eye(4)
        Rh[:3, :3] = _ANNY_TO_CANON.numpy()
        canon = Rh[None] @ out["bone_poses"][0].detach().cpu().numpy().astype(np.float64)
        v = out["vertices"][0].detach().cpu().numpy().astype(np.float64) @ Rh[:3, :3].T
        j, w, dropped = top_influences(self._model.vertex_bone_indices.cpu().numpy(),
                                       self._model.vertex_bone_weights.cpu().numpy())  # fmt: skip
        return placed_skin(self._bone_labels, self._model.bone_parents, canon, v, j, w, dropped, state.orient, state.transl)

    def rebuild_vertices(self, params: dict[str, Any]) -> np.ndarray:
        """(V, 3) camera-frame vertices from exported ``params`` (the inverse of ``export_params``)."""
        import roma

        pose = torch.tensor([params["bone_axis_angle"][j] for j in ANNY_POSE_JOINTS], dtype=torch.float32)
        phen = torch.tensor([params["phenotypes"][k] for k in self.phenotype_labels], dtype=torch.float32)
        with torch.no_grad():
            out = self.forward(pose[None].to(self.device), (phen - 0.5)[None].to(self.device))
            R = roma.rotvec_to_rotmat(torch.tensor(params["global_orient"], dtype=torch.float32, device=self.device))
            v = out.vertices[0] @ R.T + torch.tensor(params["transl"], dtype=torch.float32, device=self.device)
        return v.cpu().numpy()
