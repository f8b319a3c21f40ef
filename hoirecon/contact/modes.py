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
* both (a paired group: shoulders, hands, hips, knees, feet): both sides near, the smaller of the left
  and the right landmarks' near scores (both feet on a skateboard's deck, both hands on a broom);
* one (a paired group): one side near and the other away, ``max(near(L) far(R), near(R) far(L))`` (one
  foot on the deck, the other on the ground; a broom held in one hand);

a group the photo does not show (no landmark with visibility above ``min_visibility`` inside the frame)
scores ``unseen`` (neutral). ``posture``: the postures the mode expects of the body (``seated``,
``standing``, ``lying``; :mod:`hoirecon.ground.posture`, read off the fitted body): 1 when the body's
posture is one of them, 0 when it is another of those three, neutral when it is ``other`` or
``unknown``. The modes of a category are compared on the same statements (``ModeConfig.shared``):
each is scored on every statement any of them makes (near and far of a group are one statement, its
distance; both and one of a group are one, its sides), with the largest weight any of them gives it,
and ``unseen`` where the mode itself says nothing. A mode's evidence is its ``prior`` times the
weighted product of those scores, ``exp(sum w log(floor + (1 - floor) score) / temperature)`` (the
floor so that one failed statement lowers a mode without zeroing it); the evidences of a category's
modes are normalised to sum to 1. (Until 2026-12-04 it was the weighted geometric mean of each mode's
own statements, ``temperature=None, shared=False``: it damped what tells two modes apart, so the
commoner mode's prior won: a cup at the mouth was held.) The photo's up is gravity's
(``hoirecon.ground``) projected at the person, or the image's up when there is no estimate.

**Analysis by synthesis** (:func:`fit_agreement`, used by the pipeline): the modes whose evidence is
within ``candidate_ratio`` of the best (at most ``max_candidates``) are each fitted, and the choice is
the largest ``evidence x agreement``, where agreement is how well the fit explains the photo: the
object's silhouette against its mask where the person does not hide it (the person may hide the object
only where the person's mask covers it), the contact distance and the penetration; and, with the
fits' touching body parts (:func:`touching_parts`), x the **contact consistency**
(:func:`contact_consistency`): how well the mode's pairs name the parts its fit touches.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from hoirecon.contact.config import ModeConfig

__all__ = ["GROUPS", "SIDES", "ModeChoice", "ModeConfig", "ModeScore", "choose_candidates", "contact_consistency",
           "evidence_candidates", "fit_agreement", "image_up", "mode_evidence", "mode_facing",
           "mode_pose", "pair_groups", "pick_mode", "touching_parts"]

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
    consistency: float | None = None
    touching: tuple[str, ...] | None = None

    @property
    def total(self) -> float:
        return (self.evidence * (self.agreement if self.agreement is not None else 1.0)
                * (self.consistency if self.consistency is not None else 1.0))  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "evidence": round(self.evidence, 4),
                "terms": {k: round(v, 3) for k, v in self.terms.items()},
                "agreement": None if self.agreement is None else round(self.agreement, 4),
                "consistency": None if self.consistency is None else round(self.consistency, 4),
                "touching": None if self.touching is None else list(self.touching)}  # fmt: skip


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


#: the left and right landmarks of the paired groups (MediaPipe's odd indices are the left side)
SIDES: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    g: (tuple(i for i in idx if i % 2), tuple(i for i in idx if not i % 2)) for g, idx in GROUPS.items() if g != "head"
}


def _group_points(keypoints: np.ndarray, visibility: np.ndarray, indices: tuple[int, ...], width: int, height: int,
                  min_visibility: float) -> np.ndarray:  # fmt: skip
    idx = [i for i in indices if i < len(keypoints)]
    p = np.asarray(keypoints, np.float64)[idx]
    v = np.asarray(visibility, np.float64)[idx] if visibility is not None else np.ones(len(idx))
    ok = (v > min_visibility) & (p[:, 0] >= 0) & (p[:, 0] < width) & (p[:, 1] >= 0) & (p[:, 1] < height)
    return p[ok]


def mode_evidence(modes: list[dict], keypoints: np.ndarray, visibility: np.ndarray | None, object_mask: np.ndarray,
                  person_height_px: float, up2d: np.ndarray = (0.0, -1.0), config: ModeConfig = ModeConfig(),
                  posture: str | None = None) -> list[ModeScore]:  # fmt: skip
    """Every mode's evidence (see the module docstring), best first (ties: the data's order).

    modes: the category's modes (``hoirecon.contact.priors.category_modes``); keypoints: (33, 2) px
    MediaPipe pose landmarks; visibility: (33,) or None; object_mask: (H, W) bool; person_height_px: the
    person's extent in the image; up2d: (2,) unit image direction of up; posture: the body's posture
    name (``hoirecon.ground.posture.POSTURES``) or None."""
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
    cache: dict[tuple[str, int], np.ndarray] = {}

    def points(group: str, side: int = -1) -> np.ndarray:
        """The group's landmarks the photo shows: all of them (side -1), the left (0) or the right (1)."""
        if (group, side) not in cache:
            idx = GROUPS[group] if side < 0 else SIDES[group][side]
            cache[group, side] = _group_points(keypoints, visibility, idx, W, H, config.min_visibility)
        return cache[group, side]

    def d_of(group: str, side: int = -1) -> float | None:
        p = points(group, side)
        if not len(p) or dist is None:
            return None
        xi = np.clip(np.round(p[:, 0]).astype(int), 0, W - 1)
        yi = np.clip(np.round(p[:, 1]).astype(int), 0, H - 1)
        return float(dist[yi, xi].min()) / scale

    def near(d: float | None) -> float:
        return config.unseen if d is None else math.exp(-((d / config.near_scale) ** 2))

    def far(d: float | None) -> float:
        return config.unseen if d is None else 1.0 - math.exp(-((d / config.far_scale) ** 2))

    said = []
    for mode in modes:
        ev = mode.get("evidence", {})
        terms: dict[str, float] = {}
        weights: dict[str, float] = {}
        for group, w in ev.get("near", {}).items():
            terms[f"near:{group}"] = near(d_of(group))
            weights[f"near:{group}"] = float(w)
        for group, w in ev.get("far", {}).items():
            terms[f"far:{group}"] = far(d_of(group))
            weights[f"far:{group}"] = float(w)
        for group, w in ev.get("both", {}).items():  # both sides near: the farther side's near score
            terms[f"both:{group}"] = min(near(d_of(group, 0)), near(d_of(group, 1)))
            weights[f"both:{group}"] = float(w)
        for group, w in ev.get("one", {}).items():  # one side near, the other away from the object
            dl, dr = d_of(group, 0), d_of(group, 1)
            terms[f"one:{group}"] = max(near(dl) * far(dr), near(dr) * far(dl))
            weights[f"one:{group}"] = float(w)
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
        if ev.get("posture"):
            known = posture in ("seated", "standing", "lying")
            terms["posture"] = (1.0 if posture in ev["posture"] else 0.0) if known else config.unseen
            weights["posture"] = config.posture_weight
        said.append((mode["name"], float(ev.get("prior", 1.0)), terms, weights))
    if config.shared:
        said = _shared_statements(said, config.unseen)
    raw = []
    for name, prior, terms, weights in said:
        if terms:
            wsum = sum(weights.values()) if config.temperature is None else config.temperature
            logm = sum(weights[k] * math.log(config.floor + (1 - config.floor) * terms[k]) for k in terms) / wsum
        else:
            logm = math.log(config.unseen)
        raw.append((name, prior * math.exp(logm), {k: v for k, v in terms.items() if not k.startswith("silent:")}))
    total = sum(r[1] for r in raw) or 1.0
    scores = [ModeScore(name=n, evidence=e / total, terms=t) for n, e, t in raw]
    order = sorted(range(len(scores)), key=lambda i: (-scores[i].evidence, i))
    return [scores[i] for i in order]


def _statement(term: str) -> str:
    """The quantity a term speaks of: near / far of a group are one (its distance), both / one of a
    group are one (its sides), level and posture their own."""
    kind, _, group = term.partition(":")
    return {"near": "group", "far": "group", "both": "sides", "one": "sides"}.get(kind, kind) + ":" + group


def _shared_statements(said: list, unseen: float) -> list:
    """Every mode scored on the statements any mode of the category makes: each quantity weighs the
    largest weight any mode gives it; a mode that says nothing of it scores it ``unseen`` (neutral)."""
    weight: dict[str, float] = {}
    for _, _, _, weights in said:
        for term, w in weights.items():
            weight[_statement(term)] = max(weight.get(_statement(term), 0.0), w)
    out = []
    for name, prior, terms, _ in said:
        own = {_statement(t): t for t in terms}
        t2, w2 = {}, {}
        for q, w in weight.items():
            key = own.get(q, f"silent:{q}")
            t2[key], w2[key] = terms.get(key, unseen), w
        out.append((name, prior, t2, w2))
    return out


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


def choose_candidates(image, person, obj_det, body, up: np.ndarray | None, posture: str | None, category: str,
                      forced: str | None, config: ModeConfig = ModeConfig()) -> tuple[ModeChoice, list[str]]:  # fmt: skip
    """The interaction modes worth fitting: ``(ModeChoice by evidence, [mode names])`` (the modes within
    ``candidate_ratio`` of the best evidence, at most ``max_candidates``), the forced one alone when
    given. image: the ImageInput; person / obj_det: the detections (the object's mask, else its box);
    body: the fitted BodyFit; up: (3,) gravity's up, camera frame, or None; posture: the body's."""
    from hoirecon.body.model import KEYPOINT_NAMES
    from hoirecon.contact.priors import category_modes, category_prior

    modes = category_modes(category)
    mask = obj_det.mask
    if mask is None or not mask.any():
        mask = np.zeros((image.height, image.width), bool)
        b = obj_det.box
        mask[int(max(b.y0, 0)):int(max(b.y1, 0)) + 1, int(max(b.x0, 0)):int(max(b.x1, 0)) + 1] = True
    kp3 = np.asarray(body.keypoints3d, np.float64)
    pelvis = 0.5 * (kp3[KEYPOINT_NAMES.index("left_hip")] + kp3[KEYPOINT_NAMES.index("right_hip")])
    up2d = image_up(image.camera.K, pelvis, up)
    height = float(max(person.box.height, person.box.width))
    scores = mode_evidence(modes, person.keypoints, person.visibility, mask, height, up2d, config, posture=posture)
    if forced is not None:
        category_prior(category, forced)  # InputError for an unknown mode
        return ModeChoice(name=forced, how="forced", scores=tuple(scores)), [forced]
    return evidence_candidates(scores, len(modes), config)


def evidence_candidates(scores: list[ModeScore], n_modes: int,
                        config: ModeConfig = ModeConfig()) -> tuple[ModeChoice, list[str]]:  # fmt: skip
    """The modes worth fitting from their evidence (:func:`mode_evidence`'s scores, best first): those
    within ``candidate_ratio`` of the best, at most ``max_candidates``; ``(ModeChoice by evidence,
    [names])``. A category of ``n_modes`` 1 has its only mode."""
    if n_modes == 1:
        return ModeChoice(name=scores[0].name, how="only mode", scores=tuple(scores)), [scores[0].name]
    best = scores[0].evidence
    cands = [s.name for s in scores if s.evidence >= config.candidate_ratio * best][: max(1, config.max_candidates)]
    return ModeChoice(name=cands[0], how="evidence", scores=tuple(scores)), cands


def pair_groups(pairs: list[Mapping[str, Any]]) -> list[set[str]]:
    """The body parts of ``pairs`` (a mode's ``pairs`` entries) grouped as contacts: pairs that share an
    ``alt`` group are one contact (either hand holds a cup), every other pair its own; data order."""
    groups: dict[str, set[str]] = {}
    for k, p in enumerate(pairs):
        groups.setdefault(p.get("alt") or f"#{k}", set()).add(p["body"])
    return list(groups.values())


def contact_consistency(mode: Mapping[str, Any], touching: frozenset[str] | set[str],
                        config: ModeConfig = ModeConfig()) -> float:  # fmt: skip
    """How well a mode explains the contacts its own fit shows, in (0, 1]: ``consistency_keep`` to the
    power of (the body parts touching the fitted object that none of the mode's pairs names + the
    mode's required pair groups with no part touching; alternatives such as either hand are one
    group). A cup fitted at the mouth touches the head: "drink", whose pairs name the head, explains
    it and "hold" does not; "sit" whose buttocks float above the seat misses a required contact."""
    pairs = mode.get("pairs", [])
    named = {p["body"] for p in pairs}
    unexplained = len(set(touching) - named)
    missing = sum(1 for g in pair_groups([p for p in pairs if not p.get("optional")]) if not g & set(touching))
    return float(config.consistency_keep ** (unexplained + missing))


def touching_parts(fit, tol_m: float) -> frozenset[str]:
    """The body parts of a ``FitResult`` with vertices within ``tol_m`` of its fitted object."""
    from hoirecon.geometry.raycast import parts_within

    b, o = fit.body, fit.object
    return parts_within(b.vertices, b.part_of_vertex, b.part_names, o.vertices, o.mesh.faces, tol_m)


def pick_mode(choice: ModeChoice, losses_by_mode: Mapping[str, Mapping[str, float]],
              config: ModeConfig = ModeConfig(), touching_by_mode: Mapping[str, frozenset[str]] | None = None,
              modes: list[dict] | None = None) -> ModeChoice:  # fmt: skip
    """The candidate with the largest evidence x agreement x consistency (:func:`fit_agreement` of
    each fitted mode's ``FitResult.losses``; :func:`contact_consistency` of the body parts touching
    each fitted object, ``touching_by_mode`` (:func:`touching_parts`), against the mode's pairs in
    ``modes``, the category's modes; no consistency term without them); ``choice`` unchanged but for
    the scores when only one was fitted."""
    by_name = {m["name"]: m for m in (modes or [])}

    def scored(s: ModeScore) -> ModeScore:
        if s.name not in losses_by_mode:
            return s
        s = dataclasses.replace(s, agreement=fit_agreement(losses_by_mode[s.name], config))
        if touching_by_mode is not None and s.name in touching_by_mode and s.name in by_name:
            t = frozenset(touching_by_mode[s.name])
            s = dataclasses.replace(s, consistency=contact_consistency(by_name[s.name], t, config), touching=tuple(sorted(t)))
        return s

    scores = tuple(scored(s) for s in choice.scores)
    if len(losses_by_mode) < 2:
        return dataclasses.replace(choice, scores=scores)
    fitted = [s for s in scores if s.name in losses_by_mode]
    best = max(fitted, key=lambda s: (s.total, s.evidence))
    return dataclasses.replace(choice, name=best.name, how="analysis-by-synthesis", scores=scores)


def mode_pose(category: str, mode: str, upright: bool, ground):
    """``(upright, ground prior)`` of an interaction mode: its ``pose`` ("upright" / "any") and
    ``support`` ("floor" / "either" / "none") where it states them, else the category's ``upright`` and
    the ground prior (``hoirecon.ground.GroundPrior`` or None) as given. A mode whose ``feet`` is "none"
    (the person on the object: a bicycle's pedals, a skateboard's deck) makes the feet no floor support."""
    from hoirecon.contact.priors import category_prior

    m = category_prior(category, mode)
    if "pose" in m:
        upright = m["pose"] == "upright"
    if ground is not None and "support" in m:
        ground = dataclasses.replace(ground, object_support=m["support"])
    if ground is not None and m.get("feet") == "none":
        ground = dataclasses.replace(ground, body_support="none")
    return upright, ground


def mode_facing(category: str, mode: str) -> str | None:
    """The way an interaction mode turns the object about gravity (``facing`` in ``contacts.json``):
    ``"same"`` (its front, the side a person faces or uses, faces the way the body faces: a chair sat
    on, a bicycle ridden, a cart pushed), ``"toward"`` (its front faces the body: a laptop's screen), or
    None (no prior: a held cup, a bench stood on). For ``fit_object(..., facing=)``."""
    from hoirecon.contact.priors import category_prior

    return category_prior(category, mode).get("facing")
