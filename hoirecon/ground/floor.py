"""The floor: one plane perpendicular to gravity that whatever rests on it touches.

Supports (support is evidence, not an assumption):

* the body's soles (foot vertices within ``sole_band_m`` of the lowest one, per foot) when the posture
  puts weight on the feet (``standing``, ``seated``): ``seen`` when the photo shows an ankle or a heel,
  ``assumed`` when the legs are out of frame and the posture is read from the torso (``unknown``); a
  lying, kneeling or otherwise posed body (``other``) is no support;
* the object's lowest points in its canonical frame (a chair's four leg tips, a bicycle's wheel bottoms,
  a tripod's feet: ``support_vertices``) when its category rests on the floor (``objects.json``
  ``support``: "floor"; "either" objects, a suitcase or a skateboard, are held to the floor only within
  reach of it; "none" never).

The joint fit (:func:`hoirecon.fitting.joint.fit_object`) treats the floor's height as one more unknown
shared by every support, and penalises points below it like any other penetration. Each support is held
to it by a robust function of scale ``floor_robust_m`` (:func:`hoirecon.fitting.terms.floor_support`):
an object that always rests on the floor by a Cauchy (pulled from afar), the feet and an object that may
be carried by a redescending Geman-McClure (a support far from the others, a jumping person's feet or a
carried suitcase, is not pulled down, and the feet win over a maybe-carried object). :class:`Floor` records the result; a photo with no support has no floor (None).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hoirecon.ground.config import GroundConfig
from hoirecon.ground.gravity import Gravity

__all__ = ["BODY_SUPPORTS", "Floor", "GroundPrior", "body_support_of", "sole_vertices", "support_vertices",
           "floor_record"]

BODY_SUPPORTS = ("seen", "assumed", "none")
_FEET = ("left_foot", "right_foot")
_ANKLES = (15, 16, 21, 22)  # left/right ankle, left/right heel in hoirecon.body.model.KEYPOINT_NAMES


@dataclass(frozen=True)
class GroundPrior:
    """What the joint fit needs of gravity and the floor. gravity: the photo's
    (:class:`~hoirecon.ground.gravity.Gravity`); body_support: one of BODY_SUPPORTS; object_support:
    the category's ``support`` ("floor", "either", "none"); config: the stage's settings."""

    gravity: Gravity
    body_support: str = "none"
    object_support: str = "none"
    config: GroundConfig = field(default_factory=GroundConfig)

    @property
    def up(self) -> np.ndarray:
        return self.gravity.up

    @property
    def has_support(self) -> bool:
        return self.body_support != "none" or self.object_support != "none"


def body_support_of(gravity: Gravity, seen: np.ndarray) -> str:
    """``seen`` / ``assumed`` / ``none`` (see the module docstring); seen: (K,) bool keypoints shown."""
    p = gravity.posture
    if p is None:
        return "none"
    if p.name in ("standing", "seated"):
        return "seen" if bool(np.asarray(seen)[list(_ANKLES)].any()) else "assumed"
    if p.name == "unknown" and p.torso_deg <= 50.0:
        return "assumed"
    return "none"


def sole_vertices(vertices: np.ndarray, part_of_vertex: np.ndarray, part_names, up: np.ndarray,
                  band_m: float = 0.02) -> list[np.ndarray]:  # fmt: skip
    """Per foot, the indices of its vertices within ``band_m`` of its lowest one along ``up``
    (vertices (V, 3) camera frame). Feet missing from the segmentation are left out."""
    out = []
    h = np.asarray(vertices, np.float64) @ np.asarray(up, np.float64)
    for name in _FEET:
        if name not in part_names:
            continue
        idx = np.flatnonzero(np.asarray(part_of_vertex) == list(part_names).index(name))
        if len(idx):
            out.append(idx[h[idx] <= h[idx].min() + band_m])
    return out


def support_vertices(vertices: np.ndarray, band_frac: float = 0.015) -> np.ndarray:
    """Indices of a canonical object mesh's lowest vertices (canonical +y is down): within
    ``band_frac`` of its extent (at least 5 mm) of the bottom."""
    V = np.asarray(vertices, np.float64)
    band = max(0.005, band_frac * float((V.max(0) - V.min(0)).max()))
    return np.flatnonzero(V[:, 1] >= V[:, 1].max() - band)


@dataclass(frozen=True)
class Floor:
    """The floor plane {x : normal . x = height_m}, camera frame, metres.

    normal: (3,) unit, gravity's up; point: (3,) the plane's point under the body's centroid;
    supports: one record per support (name, seen, gap_m = its lowest point's height above the plane,
    held = whether the fit held it to the floor); visible: a support the photo shows is held;
    confidence: in [0, 1]."""

    normal: np.ndarray
    height_m: float
    point: np.ndarray
    supports: tuple[dict, ...]
    visible: bool
    confidence: float

    def height_of(self, points: np.ndarray) -> np.ndarray:
        """Heights of (..., 3) camera-frame points above the floor, metres."""
        return np.asarray(points, np.float64) @ self.normal - self.height_m

    def as_dict(self) -> dict:
        return {
            "normal": [round(float(x), 6) for x in self.normal],
            "point": [round(float(x), 6) for x in self.point],
            "height_m": round(float(self.height_m), 6),
            "visible": bool(self.visible),
            "confidence": round(float(self.confidence), 4),
            "supports": list(self.supports),
        }


# How much one held support says that the floor is where the fit put it.
_SUPPORT_CONFIDENCE = {("feet", True): 0.6, ("feet", False): 0.25, ("object", True): 0.6, ("object", False): 0.3}


def floor_record(prior: GroundPrior, height: float, body_vertices: np.ndarray, soles: list[np.ndarray],
                 object_vertices: np.ndarray | None, object_support: np.ndarray | None,
                 object_in_view: bool) -> Floor | None:  # fmt: skip
    """The fitted floor: plane height ``height`` (metres along up), the final body (V, 3) and its sole
    index sets, the posed object (Vo, 3) and its support indices. None when nothing supports it."""
    if not prior.has_support:
        return None
    up = np.asarray(prior.up, np.float64)
    tol = prior.config.floor_robust_m
    supports = []
    if prior.body_support != "none" and soles:
        gap = float(min((body_vertices[s] @ up).min() for s in soles) - height)
        supports.append({"name": "feet", "seen": prior.body_support == "seen", "gap_m": round(gap, 4),
                         "held": abs(gap) <= tol})  # fmt: skip
    if prior.object_support != "none" and object_vertices is not None and object_support is not None and len(object_support):
        h = object_vertices[object_support] @ up - height
        supports.append({"name": "object", "seen": bool(object_in_view), "gap_m": round(float(h.min()), 4),
                         "spread_m": round(float(h.max() - h.min()), 4), "held": abs(float(h.min())) <= tol,
                         "support": prior.object_support})  # fmt: skip
    if not supports:
        return None
    miss = 1.0
    for s in supports:
        if s["held"]:
            miss *= 1.0 - _SUPPORT_CONFIDENCE[(s["name"], s["seen"])]
    conf = (1.0 - miss) * (0.5 + 0.5 * prior.gravity.confidence)
    c = np.asarray(body_vertices, np.float64).mean(0)
    point = c - (c @ up - height) * up
    visible = any(s["held"] and s["seen"] for s in supports)
    return Floor(normal=up, height_m=float(height), point=point, supports=tuple(supports), visible=visible,
                 confidence=float(conf))
