"""The ground stage's entry points (re-exported by :mod:`hoirecon.ground`; see its docstring)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Callable

import numpy as np

from hoirecon.ground.config import GroundConfig
from hoirecon.ground.floor import GroundPrior, body_support_of
from hoirecon.ground.gravity import Gravity, Witness, body_witnesses, camera_witness, describe, fuse, line_witness
from hoirecon.ground.posture import Posture, classify_posture

__all__ = ["GRAVITY_WITNESSES", "body_prior", "estimate_gravity", "ground_prior", "keypoints_seen", "posture_templates"]


class _Evidence:
    """What the witnesses read: the photo (rgb (H, W, 3) uint8, K (3, 3)), the person's mask, the
    fitted body's keypoints (K, 3, camera frame) and which of them the photo shows."""

    def __init__(self, rgb, K, person_mask, keypoints3d, seen) -> None:
        self.rgb, self.K, self.person_mask, self.keypoints3d, self.seen = rgb, K, person_mask, keypoints3d, seen
        self.posture: Posture | None = None
        self.lines = None


def _camera(ev: _Evidence, cfg: GroundConfig) -> Witness | None:
    return camera_witness(cfg)


def _lines(ev: _Evidence, cfg: GroundConfig) -> Witness | None:
    import cv2

    from hoirecon.ground.lines import vertical_lines

    exclude = None
    if ev.person_mask is not None and ev.person_mask.any():
        r = max(3, int(0.01 * max(ev.person_mask.shape)))
        exclude = cv2.dilate(ev.person_mask.astype(np.uint8), np.ones((2 * r + 1, 2 * r + 1), np.uint8)) > 0
    ev.lines = vertical_lines(ev.rgb, ev.K, exclude=exclude, max_angle_deg=cfg.upright_max_deg * 0.7)
    return line_witness(ev.lines, cfg)


def _body(ev: _Evidence, cfg: GroundConfig) -> Witness | None:
    ev.posture = classify_posture(ev.keypoints3d, ev.seen, cfg.upright_max_deg)
    return body_witnesses(ev.keypoints3d, ev.posture, cfg)


#: the gravity witnesses by name: ``(evidence, config) -> Witness | None`` (None: nothing seen)
GRAVITY_WITNESSES: dict[str, Callable[[_Evidence, GroundConfig], Witness | None]] = {
    "camera_prior": _camera,
    "image_lines": _lines,
    "body": _body,
}


def keypoints_seen(targets_weight: np.ndarray, targets_xy: np.ndarray, width: int, height: int) -> np.ndarray:
    """(K,) bool: the body fit's keypoints that the photo shows (weight > 0, inside the frame)."""
    xy = np.asarray(targets_xy)
    inside = (xy[:, 0] >= 0) & (xy[:, 0] < width) & (xy[:, 1] >= 0) & (xy[:, 1] < height)
    return (np.asarray(targets_weight) > 0) & inside


def estimate_gravity(rgb: np.ndarray, K: np.ndarray, person_mask: np.ndarray | None, keypoints3d: np.ndarray,
                     seen: np.ndarray, config: GroundConfig = GroundConfig()) -> Gravity:  # fmt: skip
    """The photo's up: rgb (H, W, 3) uint8, K (3, 3) its intrinsics, person_mask (H, W) bool (its
    segments are left to the body witness), keypoints3d (K, 3) the fitted body's keypoints, camera
    frame, metres, seen (K,) bool (:func:`keypoints_seen`)."""
    unknown = [n for n in config.witnesses if n not in GRAVITY_WITNESSES]
    if unknown:
        raise ValueError(f"unknown gravity witness {unknown[0]!r}; known: {', '.join(GRAVITY_WITNESSES)}")
    ev = _Evidence(rgb, np.asarray(K, np.float64), person_mask, np.asarray(keypoints3d, np.float64), np.asarray(seen, bool))
    witnesses = [w for w in (GRAVITY_WITNESSES[n](ev, config) for n in config.witnesses) if w is not None]
    if ev.posture is None:
        ev.posture = classify_posture(ev.keypoints3d, ev.seen, config.upright_max_deg)
    if not witnesses:
        witnesses = [camera_witness(config)]
    starts = [np.asarray(w.detail["vanishing_up"]) for w in witnesses if "vanishing_up" in w.detail]
    up, sigma = fuse(witnesses, starts)
    return describe(up, sigma, witnesses, ev.posture)


@lru_cache(maxsize=1)
def posture_templates() -> dict[str, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """``{"standing" | "seated": {"left_leg" | "right_leg" | "left_arm" | "right_arm": (segment 1,
    segment 2)}}`` unit directions in the body's gravity frame (``postures.json``; a right limb is its
    left one mirrored in x)."""
    data = json.loads(resources.files("hoirecon.data").joinpath("postures.json").read_text(encoding="utf-8"))
    unit = lambda v: np.asarray(v, np.float64) / np.linalg.norm(v)  # noqa: E731
    mirror = np.array([-1.0, 1.0, 1.0])
    arm = data["arm"]
    out = {}
    for k, v in data.items():
        if k.startswith("_") or k == "arm":
            continue
        t = {}
        for side, m in (("left", np.ones(3)), ("right", mirror)):
            t[f"{side}_leg"] = (unit(v["thigh"]) * m, unit(v["shin"]) * m)
            t[f"{side}_arm"] = (unit(arm["upper"]) * m, unit(arm["fore"]) * m)
        out[k] = t
    return out


_LIMB_POINTS = {"leg": ("knee", "ankle"), "arm": ("elbow", "wrist")}


def body_prior(gravity: Gravity, body_state, seen: np.ndarray, config: GroundConfig = GroundConfig(),
               seated_hint: bool = False):  # fmt: skip
    """The body fit's gravity phase (``hoirecon.body.fit.GravityPrior``) for this photo, or None when it
    has nothing to hold (a lying or kneeling body with every limb in view, or no model state). A limb is
    unseen when the photo shows neither of its two outer points (knee and ankle, elbow and wrist)."""
    from hoirecon.body.fit import GravityPrior
    from hoirecon.body.model import KEYPOINT_NAMES

    p = gravity.posture
    if body_state is None or p is None or config.refine_steps <= 0:
        return None
    torso = {"standing": config.standing_torso_deg, "seated": config.torso_deg, "unknown": config.torso_deg}.get(p.name)
    if torso is not None and (p.torso_deg > config.upright_max_deg or (p.name == "standing" and not p.straight_hips)):
        torso = None  # far from upright, or bent over straight legs (the gravity witness's rule too)
    name = p.name if p.name in ("standing", "seated") else ("seated" if seated_hint else "standing")
    limbs = {}
    if p.name in ("standing", "seated", "unknown"):
        tmpl = posture_templates()[name]
        seen = np.asarray(seen, bool)
        for limb in tmpl:
            side, kind = limb.split("_")
            if not any(seen[KEYPOINT_NAMES.index(f"{side}_{j}")] for j in _LIMB_POINTS[kind]):
                limbs[limb] = tmpl[limb]
    if torso is None and not limbs:
        return None
    return GravityPrior(up=np.asarray(gravity.up, np.float64), torso_deg=torso, limbs=limbs, init=body_state,
                        steps=config.refine_steps, lr=config.refine_lr, w_torso=config.w_torso_up,
                        w_limbs=config.w_unseen_limbs)  # fmt: skip


def ground_prior(gravity: Gravity, seen: np.ndarray, object_support: str,
                 config: GroundConfig = GroundConfig()) -> GroundPrior:  # fmt: skip
    """What the joint fit needs: gravity, whether the feet rest on the floor (:func:`body_support_of`),
    the object category's ``support`` (``objects.json``)."""
    return GroundPrior(gravity=gravity, body_support=body_support_of(gravity, seen), object_support=object_support,
                       config=config)  # fmt: skip
