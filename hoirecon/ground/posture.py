"""The body's posture, read from the fitted body's 3D keypoints and from which of them the photo shows.

Postures: ``standing`` (straight knees; the legs hang under the hips: the hips straight too, or the
torso bent forward over them; straight legs held forward under an upright torso are not standing),
``seated`` (bent hips and knees),
``lying`` (straight legs and torso, far from the camera's up), ``other`` (anything else the legs show:
kneeling, a tucked jump, a stride too wide to tell), ``unknown`` (no leg seen: the torso only). The
rules are anatomical angle ranges (180 degrees = straight joint), not learnt: what each posture says
about gravity is in :func:`hoirecon.ground.gravity.body_witnesses`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hoirecon.body.model import KEYPOINT_NAMES
from hoirecon.geometry.rotations import angle_deg

__all__ = ["CAMERA_UP", "POSTURES", "Posture", "angle_deg", "classify_posture", "torso_axis"]

POSTURES = ("standing", "seated", "lying", "other", "unknown")
CAMERA_UP = np.array([0.0, -1.0, 0.0])  # the camera frame's up (y points down)
_I = {n: i for i, n in enumerate(KEYPOINT_NAMES)}

# Joint-angle ranges, degrees (180 = straight).
STRAIGHT_KNEE = 150.0
STRAIGHT_HIP = 140.0
BENT = (40.0, 145.0)
BENT_TORSO = 25.0  # a standing person with flexed hips bends the torso forward at least this far


def torso_axis(keypoints3d: np.ndarray, names=KEYPOINT_NAMES) -> np.ndarray:
    """mid-hip -> mid-shoulder of (K, 3) keypoints in ``names`` order (not normalised)."""
    kp = np.asarray(keypoints3d, np.float64)
    i = {n: k for k, n in enumerate(names)}
    return 0.5 * (kp[i["left_shoulder"]] + kp[i["right_shoulder"]]) - 0.5 * (kp[i["left_hip"]] + kp[i["right_hip"]])


def _joint_angle(kp: np.ndarray, a: str, b: str, c: str) -> float:
    """The angle at ``b`` between b->a and b->c, degrees."""
    return angle_deg(kp[_I[a]] - kp[_I[b]], kp[_I[c]] - kp[_I[b]])


@dataclass(frozen=True)
class Posture:
    """name: one of POSTURES. legs_seen: (left, right), True when the photo shows that leg's knee and
    ankle. knee_deg / hip_deg: (left, right) joint angles of the fitted body, degrees (180 straight).
    torso_deg: the torso's (mid-hip -> mid-shoulder) angle from the camera's up, degrees; torso: that
    direction, unit, camera frame."""

    name: str
    legs_seen: tuple[bool, bool]
    knee_deg: tuple[float, float]
    hip_deg: tuple[float, float]
    torso_deg: float
    torso: tuple[float, float, float] = (0.0, -1.0, 0.0)

    @property
    def straight_hips(self) -> bool:
        """The hips of every leg the photo shows are straight (>= STRAIGHT_HIP): a standing person with
        straight hips holds the torso upright; one bent over straight legs does not."""
        seen = [self.hip_deg[i] for i in range(2) if self.legs_seen[i]]
        return bool(seen) and min(seen) >= STRAIGHT_HIP

    def as_dict(self) -> dict:
        return {"name": self.name, "legs_seen": list(self.legs_seen),
                "knee_deg": [round(x, 1) for x in self.knee_deg], "hip_deg": [round(x, 1) for x in self.hip_deg],
                "torso_from_camera_up_deg": round(self.torso_deg, 1)}  # fmt: skip


def classify_posture(keypoints3d: np.ndarray, seen: np.ndarray, upright_max_deg: float = 50.0) -> Posture:
    """keypoints3d: (K, 3) metres, camera frame, KEYPOINT_NAMES order (the fitted body's);
    seen: (K,) bool, the keypoints the photo shows (weight > 0 in the body fit's targets)."""
    kp = np.asarray(keypoints3d, np.float64)
    seen = np.asarray(seen, bool)
    mid = lambda a, b: 0.5 * (kp[_I[a]] + kp[_I[b]])  # noqa: E731
    torso = torso_axis(kp)
    torso_deg = angle_deg(torso, CAMERA_UP)
    legs_seen = tuple(bool(seen[_I[f"{s}_knee"]] and seen[_I[f"{s}_ankle"]]) for s in ("left", "right"))
    knee = tuple(_joint_angle(kp, f"{s}_hip", f"{s}_knee", f"{s}_ankle") for s in ("left", "right"))
    hip = tuple(_joint_angle(kp, f"{s}_shoulder", f"{s}_hip", f"{s}_knee") for s in ("left", "right"))
    sides = [i for i in range(2) if legs_seen[i]]
    if not sides:
        name = "unknown"
    else:
        k = [knee[i] for i in sides]
        h = [hip[i] for i in sides]
        legs = mid("left_hip", "right_hip") - mid("left_ankle", "right_ankle")
        straight = min(k) >= STRAIGHT_KNEE
        if straight and angle_deg(legs, CAMERA_UP) > upright_max_deg:
            name = "lying" if min(h) >= STRAIGHT_HIP or torso_deg > upright_max_deg else "other"
        elif straight and (min(h) >= STRAIGHT_HIP or torso_deg >= BENT_TORSO):
            name = "standing"  # straight hips, or a torso bent forward over straight legs
        elif all(BENT[0] <= x <= BENT[1] for x in k + h) and torso_deg <= upright_max_deg:
            name = "seated"
        else:
            name = "other"
    unit = torso / max(float(np.linalg.norm(torso)), 1e-12)
    return Posture(name=name, legs_seen=legs_seen, knee_deg=knee, hip_deg=hip, torso_deg=torso_deg,
                   torso=tuple(float(x) for x in unit))  # fmt: skip
