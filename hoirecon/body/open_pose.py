"""The canonical open body pose ("Vitruvian": arms out, legs apart) of any body model.

Render-Localize-Lift draws the body in this pose for its fixed multi-view contact renders
(``hoirecon.contact.render.render_human_views``), as InteractVLM does, so that no limb hides another.
The pose is found per body model through the :class:`~hoirecon.body.model.BodyModel` interface
(axis-angle on ``pose_joints``): a few L-BFGS steps turn each upper arm, forearm, thigh and calf to its
target direction while the head, shoulder and hip keypoints stay at rest. The target angles are the
``vitruvian`` entry of ``hoirecon/data/rll_views.json`` (degrees from hanging straight down, in the
body's frontal plane).
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import torch

from hoirecon.body.model import KEYPOINT_NAMES

__all__ = ["open_pose_angles", "open_pose", "open_pose_vertices"]

#: keypoints held at their rest position while the limbs turn
_KEEP = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
         "left_hip", "right_hip")  # fmt: skip
_POSE_CACHE: dict[tuple[str, int], tuple[Any, np.ndarray]] = {}


@lru_cache(maxsize=1)
def open_pose_angles() -> dict[str, float]:
    """``{"arm_abduction_deg": .., "leg_abduction_deg": ..}`` of ``rll_views.json``'s ``vitruvian`` entry."""
    data = json.loads(resources.files("hoirecon.data").joinpath("rll_views.json").read_text(encoding="utf-8"))
    return {k: float(v) for k, v in data["vitruvian"].items()}


def _limb_targets() -> dict[tuple[str, str], np.ndarray]:
    """Unit target direction (canonical frame: x left, y down) of each limb segment."""
    angles = open_pose_angles()
    a = math.radians(angles["arm_abduction_deg"])
    lg = math.radians(angles["leg_abduction_deg"])
    out = {}
    for side, sx in (("left", 1.0), ("right", -1.0)):
        arm = np.array([sx * math.sin(a), math.cos(a), 0.0])
        leg = np.array([sx * math.sin(lg), math.cos(lg), 0.0])
        out[(f"{side}_shoulder", f"{side}_elbow")] = arm
        out[(f"{side}_elbow", f"{side}_wrist")] = arm
        out[(f"{side}_hip", f"{side}_knee")] = leg
        out[(f"{side}_knee", f"{side}_ankle")] = leg
    return out


def open_pose(model, iterations: int = 40) -> torch.Tensor:
    """(J, 3) float32 axis-angle (``model.pose_joints`` order) of the open pose, default shape.

    L-BFGS on the pose so that each upper arm, forearm, thigh and calf points in its target direction
    (arms ``arm_abduction_deg`` from hanging down, legs ``leg_abduction_deg``, in the frontal plane,
    elbows and knees straight) while head, shoulder and hip keypoints stay at rest, plus a small pull
    of every joint toward zero. Deterministic; cached per model object (a fresh copy is returned).
    """
    key = (getattr(model, "name", "?"), id(model))
    if key in _POSE_CACHE and _POSE_CACHE[key][0] is model:
        return torch.as_tensor(_POSE_CACHE[key][1]).clone()
    dev = getattr(model, "device", torch.device("cpu"))
    shape = model.default_shape()[None].to(dev)
    J = len(model.pose_joints)
    names = list(KEYPOINT_NAMES)
    targets = _limb_targets()
    seg = [(names.index(a), names.index(b)) for a, b in targets]
    tgt = torch.tensor(np.stack(list(targets.values())), dtype=torch.float32, device=dev)
    keep = [names.index(n) for n in _KEEP]
    with torch.no_grad():
        rest = model.forward(torch.zeros(1, J, 3, device=dev), shape).keypoints[0]
    pose = torch.zeros(1, J, 3, device=dev, requires_grad=True)
    opt = torch.optim.LBFGS([pose], lr=1.0, max_iter=iterations, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        kp = model.forward(pose, shape).keypoints[0]
        d = torch.stack([kp[j] - kp[i] for i, j in seg])
        d = d / d.norm(dim=1, keepdim=True).clamp(min=1e-6)
        loss = (1.0 - (d * tgt).sum(1)).sum()
        loss = loss + 10.0 * ((kp[keep] - rest[keep]) ** 2).sum() + 1e-3 * (pose**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    result = pose.detach()[0].cpu().numpy().astype(np.float32)
    _POSE_CACHE[key] = (model, result)
    return torch.as_tensor(result).clone()


def open_pose_vertices(model) -> np.ndarray:
    """(V, 3) float32 canonical-frame vertices (x left, y down, z back; metres) of ``model`` in the
    open pose with its default shape. Faces: ``model.faces``."""
    pose = open_pose(model)
    dev = getattr(model, "device", torch.device("cpu"))
    with torch.no_grad():
        out = model.forward(pose[None].to(dev), model.default_shape()[None].to(dev))
    return out.vertices[0].cpu().numpy().astype(np.float32)
