"""Which interaction mode the photo shows: evidence from the 2D landmarks and the masks, then analysis
by synthesis.

**Evidence** (:func:`mode_evidence`). Each mode of a category (``contacts.json``) says where the body's
landmark groups should be relative to the object's mask: ``near`` (on it or next to it), ``far`` (away
from it), ``level`` (the group's height, along the photo's up, in units of the mask's height: 0 at its
bottom, 1 at its top). Each statement is a soft score in [0, 1] read off the photo:

* near: ``exp(-(d / near_scale)^2)``, d = the distance from the group's closest landmark to the mask,
  in units of the person's height in the image (0 inside the mask);
* far: ``1 - exp(-(d / far_scale)^2)``;
* level: 1 inside the range, ``exp(-(e / level_scale)^2)`` at a distance e outside it, for the group's
  mean height;

a group the photo does not show (no landmark with visibility above ``min_visibility`` inside the frame)
scores ``unseen`` (neutral). A mode's evidence is its ``prior`` times the weighted geometric mean of its
statements (``floor + (1 - floor) * score``, so that one failed statement lowers a mode without
zeroing it); the evidences of a category's modes are normalised to sum to 1. The photo's up is gravity's
(``hoirecon.ground``) projected at the person, or the image's up when there is no estimate.

**Analysis by synthesis** (:func:`fit_agreement`, used by the pipeline): the modes whose evidence is
within ``candidate_ratio`` of the best (at most ``max_candidates``) are each fitted, and the choice is
the largest ``evidence x agreement``, where agreement is how well the fit explains the photo: the
object's silhouette against its mask where the person does not hide it (the person may hide the object
only where the person's mask covers it), the contact distance and the penetration.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from hoirecon.contact.config import ModeConfig

__all__ = ["GROUPS", "ModeChoice", "ModeConfig", "ModeScore", "fit_agreement", "image_up", "mode_evidence"]

#: MediaPipe pose landmark indices of each landmark group
GROUPS: dict[str, tuple[int, ...]] = {
    "head": (0, 2, 5, 7, 8, 9, 10),
    "shoulders": (11, 12),
    "hands": (15, 16, 17, 18, 19, 20, 21, 22),
    "hips": (23, 24),
    "knees": (25, 26),
    "feet": (27, 28, 29, 30, 31, 32),
}


@dataclass(frozen=True)
class ModeScore:
    """One mode's evidence: name, evidence (normalised over the category's modes), terms
    ``{"near:hands": score, ...}`` in [0, 1]; agreement: how well its fit explains the photo (None when
    it was not fitted)."""

    name: str
    evidence: float
    terms: Mapping[str, float] = field(default_factory=dict)
    agreement: float | None = None

    @property
    def total(self) -> float:
        return self.evidence * (self.agreement if self.agreement is not None else 1.0)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "evidence": round(self.evidence, 4),
                "terms": {k: round(v, 3) for k, v in self.terms.items()},
                "agreement": None if self.agreement is None else round(self.agreement, 4)}  # fmt: skip


@dataclass(frozen=True)
class ModeChoice:
    """The interaction chosen: name, how ("evidence", "analysis-by-synthesis", "forced", "only mode"),
    and every mode's score (best evidence first)."""

    name: str
    how: str
    scores: tuple[ModeScore, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"mode": self.name, "how": self.how, "modes": [s.as_dict() for s in self.scores]}


def image_up(K: np.ndarray, at: np.ndarray, up: np.ndarray | None) -> np.ndarray:
    """(2,) unit image direction of the 3D direction ``up`` (camera frame) at the 3D point ``at``; the
    image's up (0, -1) when ``up`` is None or the projection degenerates."""
    if up is None:
        return np.array([0.0, -1.0])
    K = np.asarray(K, np.float64)
    a = np.asarray(at, np.float64)
    b = a + 0.1 * np.asarray(up, np.float64)
    if a[2] <= 1e-6 or b[2] <= 1e-6:
        return np.array([0.0, -1.0])
    pa, pb = (K @ a)[:2] / a[2], (K @ b)[:2] / b[2]
    d = pb - pa
    n = float(np.linalg.norm(d))
    return d / n if n > 1e-9 else np.array([0.0, -1.0])


def _group_points(keypoints: np.ndarray, visibility: np.ndarray, group: str, width: int, height: int,
                  min_visibility: float) -> np.ndarray:  # fmt: skip
    idx = [i for i in GROUPS[group] if i < len(keypoints)]
    p = np.asarray(keypoints, np.float64)[idx]
    v = np.asarray(visibility, np.float64)[idx] if visibility is not None else np.ones(len(idx))
    ok = (v > min_visibility) & (p[:, 0] >= 0) & (p[:, 0] < width) & (p[:, 1] >= 0) & (p[:, 1] < height)
    return p[ok]


def mode_evidence(modes: list[dict], keypoints: np.ndarray, visibility: np.ndarray | None, object_mask: np.ndarray,
                  person_height_px: float, up2d: np.ndarray = (0.0, -1.0),
                  config: ModeConfig = ModeConfig()) -> list[ModeScore]:  # fmt: skip
    """Every mode's evidence (see the module docstring), best first (ties: the data's order).

    modes: the category's modes (``hoirecon.contact.priors.category_modes``); keypoints: (33, 2) px
    MediaPipe pose landmarks; visibility: (33,) or None; object_mask: (H, W) bool; person_height_px: the
    person's extent in the image; up2d: (2,) unit image direction of up."""
    import cv2

    om = np.asarray(object_mask, bool)
    H, W = om.shape
    scale = max(float(person_height_px), 1.0)
    up2d = np.asarray(up2d, np.float64)
    if om.any():
        dist = cv2.distanceTransform((~om).astype(np.uint8), cv2.DIST_L2, 5)
        ys, xs = np.nonzero(om)
        h = np.stack([xs, ys], 1).astype(np.float64) @ up2d  # height along up (pixels)
        h_lo, h_hi = float(h.min()), float(h.max())
    else:
        dist, h_lo, h_hi = None, 0.0, 1.0
    span = max(h_hi - h_lo, 1.0)
    cache: dict[str, np.ndarray] = {}

    def points(group: str) -> np.ndarray:
        if group not in cache:
            cache[group] = _group_points(keypoints, visibility, group, W, H, config.min_visibility)
        return cache[group]

    def d_of(group: str) -> float | None:
        p = points(group)
        if not len(p) or dist is None:
            return None
        xi = np.clip(np.round(p[:, 0]).astype(int), 0, W - 1)
        yi = np.clip(np.round(p[:, 1]).astype(int), 0, H - 1)
        return float(dist[yi, xi].min()) / scale

    raw = []
    for mode in modes:
        ev = mode.get("evidence", {})
        terms: dict[str, float] = {}
        weights: dict[str, float] = {}
        for group, w in ev.get("near", {}).items():
            d = d_of(group)
            terms[f"near:{group}"] = config.unseen if d is None else math.exp(-((d / config.near_scale) ** 2))
            weights[f"near:{group}"] = float(w)
        for group, w in ev.get("far", {}).items():
            d = d_of(group)
            terms[f"far:{group}"] = config.unseen if d is None else 1.0 - math.exp(-((d / config.far_scale) ** 2))
            weights[f"far:{group}"] = float(w)
        for group, (lo, hi) in ev.get("level", {}).items():
            p = points(group)
            if not len(p) or dist is None:
                s = config.unseen
            else:
                r = (float((p @ up2d).mean()) - h_lo) / span
                e = max(lo - r, r - hi, 0.0)
                s = math.exp(-((e / config.level_scale) ** 2))
            terms[f"level:{group}"] = s
            weights[f"level:{group}"] = 1.0
        if terms:
            wsum = sum(weights.values())
            logm = sum(weights[k] * math.log(config.floor + (1 - config.floor) * terms[k]) for k in terms) / wsum
        else:
            logm = math.log(config.unseen)
        raw.append((mode["name"], float(ev.get("prior", 1.0)) * math.exp(logm), terms))
    total = sum(r[1] for r in raw) or 1.0
    scores = [ModeScore(name=n, evidence=e / total, terms=t) for n, e, t in raw]
    order = sorted(range(len(scores)), key=lambda i: (-scores[i].evidence, i))
    return [scores[i] for i in order]


def fit_agreement(losses: Mapping[str, float], config: ModeConfig = ModeConfig()) -> float:
    """How well a fit explains the photo, in [0, 1]: its silhouette IoU against the object mask where
    the person does not hide the object (``silhouette_iou`` of ``hoirecon.fitting``'s diagnostics) x
    exp(-contact distance / contact_scale) x exp(-penetration beyond penetration_free / its scale)."""
    iou = float(losses.get("silhouette_iou", 0.0) or 0.0)
    cd = losses.get("contact_distance_m")
    cd = 1.0 if cd is None or not math.isfinite(float(cd)) else float(cd)
    pen = float(losses.get("penetration_max_m", 0.0) or 0.0)
    return (iou * math.exp(-cd / config.contact_scale_m)
            * math.exp(-max(pen - config.penetration_free_m, 0.0) / config.penetration_scale_m))  # fmt: skip
