"""Gravity: the up direction of one photo, fused from independent witnesses.

Witnesses (each a :class:`Witness`, with a stated spread in degrees, ``GroundConfig``):

* ``camera_prior``: the camera's own up (-y): photos are taken roughly level (spread 15 degrees);
* ``image_lines``: segments of vertical structures (door frames, poles, walls, table and chair legs;
  :func:`hoirecon.ground.lines.vertical_lines`, the person's pixels left out): each lies in a plane
  through the camera centre that contains the vertical, so each constrains up to be perpendicular to
  that plane's normal. Near-parallel segments fix the roll well and the pitch poorly; the fusion keeps
  that anisotropy;
* ``body``: what the posture (:mod:`hoirecon.ground.posture`) says: a standing person's legs are
  vertical (and the torso roughly), a seated person's shins vertical and thighs horizontal, a lying
  body's axis horizontal; any other upright torso says little (25 degrees). Vertical segments enter
  through their image only (their interpretation planes, like image lines), so the body fit's depth
  tilt, which one photo decides poorly, is not its own witness; a body whose torso is far from the
  camera's up says nothing about its tilt.

:func:`fuse` minimises the sum of the witnesses' energies over unit vectors (parallel witnesses
``(1 - cos) / sigma^2``, perpendicular ones ``(n . u)^2 / (2 sigma^2)``, the lines' under a Cauchy so that
a few non-vertical segments do not decide) from several starts, and reads the estimate's standard error
off the energy's curvature: ``sigma_deg``; ``confidence = exp(-(sigma_deg / 5)^2 / 2)``. With the camera
prior alone, sigma is its 15 degrees and the confidence about 0.01: the record then says that the photo
gave no gravity evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hoirecon.body.model import KEYPOINT_NAMES
from hoirecon.ground.config import GroundConfig
from hoirecon.ground.posture import CAMERA_UP, Posture, angle_deg

__all__ = ["Gravity", "Witness", "body_witnesses", "camera_witness", "describe", "fuse", "gravity_from_up", "line_witness"]

_I = {n: i for i, n in enumerate(KEYPOINT_NAMES)}
CONFIDENCE_SCALE_DEG = 5.0


def _unit(v) -> np.ndarray:
    v = np.asarray(v, np.float64)
    return v / max(float(np.linalg.norm(v)), 1e-12)


@dataclass(frozen=True)
class Witness:
    """One source's evidence about up (unit, camera frame).

    parallel: (P, 3) unit directions up should point along, with spreads ``parallel_deg`` (P,);
    perpendicular: (Q, 3) unit vectors up should be perpendicular to, spreads ``perpendicular_deg`` (Q,);
    robust_deg: > 0 puts the perpendicular residuals under a Cauchy of that scale (image lines)."""

    name: str
    parallel: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    parallel_deg: np.ndarray = field(default_factory=lambda: np.zeros(0))
    perpendicular: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    perpendicular_deg: np.ndarray = field(default_factory=lambda: np.zeros(0))
    robust_deg: float = 0.0
    detail: dict = field(default_factory=dict)

    def energy(self, u: np.ndarray) -> float:
        e = 0.0
        if len(self.parallel):
            s = np.radians(self.parallel_deg)
            e += float(((1.0 - self.parallel @ u) / s**2).sum())
        if len(self.perpendicular):
            r = self.perpendicular @ u
            s2 = np.radians(self.perpendicular_deg) ** 2
            if self.robust_deg > 0:
                c2 = np.sin(np.radians(self.robust_deg)) ** 2
                e += float((c2 * np.log1p(r**2 / c2) / (2 * s2)).sum())
            else:
                e += float((r**2 / (2 * s2)).sum())
        return e

    def starts(self) -> list[np.ndarray]:
        return [p for p in self.parallel]


@dataclass(frozen=True)
class Gravity:
    """The photo's up direction.

    up: (3,) float64 unit, camera frame (x right, y down, z forward), pointing away from the floor;
    sigma_deg: its standard error, degrees; confidence: in [0, 1] (``exp(-(sigma_deg / 5)^2 / 2)``);
    posture: the body's (:class:`~hoirecon.ground.posture.Posture`) or None; sources: one record per
    witness (name, what it saw, its angle to ``up``); torso_tilt_deg: the body fit's torso (mid-hip ->
    mid-shoulder) angle from ``up`` before the body's gravity phase, degrees (None: not measured)."""

    up: np.ndarray
    sigma_deg: float
    confidence: float
    posture: Posture | None = None
    sources: tuple[dict, ...] = ()
    torso_tilt_deg: float | None = None

    def as_dict(self) -> dict:
        return {
            "up": [round(float(x), 6) for x in self.up],
            "sigma_deg": round(self.sigma_deg, 3),
            "confidence": round(self.confidence, 4),
            "tilt_from_camera_up_deg": round(angle_deg(self.up, CAMERA_UP), 3),
            "posture": self.posture.as_dict() if self.posture is not None else None,
            "body_fit_torso_tilt_deg": None if self.torso_tilt_deg is None else round(self.torso_tilt_deg, 3),
            "sources": list(self.sources),
        }


def gravity_from_up(up, sigma_deg: float = 0.0) -> Gravity:
    """A known gravity (tests, benchmarks with the true up): ``up`` (3,) camera frame."""
    return Gravity(up=_unit(up), sigma_deg=sigma_deg, confidence=float(np.exp(-0.5 * (sigma_deg / CONFIDENCE_SCALE_DEG) ** 2)),
                   sources=({"name": "given"},))  # fmt: skip


def camera_witness(cfg: GroundConfig) -> Witness:
    return Witness("camera_prior", parallel=CAMERA_UP[None].copy(), parallel_deg=np.array([cfg.camera_prior_deg]))


def line_witness(evidence, cfg: GroundConfig) -> Witness | None:
    """The inlier segments of :func:`hoirecon.ground.lines.vertical_lines`, each a perpendicular
    constraint whose spread is ``line_deg / sqrt(weight)`` (shorter segments: wider)."""
    if evidence is None or evidence.up is None or not evidence.inliers.any():
        return None
    n = evidence.normals[evidence.inliers]
    w = np.clip(evidence.weights[evidence.inliers], 0.05, 1.0)
    return Witness("image_lines", perpendicular=n, perpendicular_deg=cfg.line_deg / np.sqrt(w),
                   robust_deg=cfg.line_robust_deg,
                   detail={"segments": int(len(n)), "spread": round(float(evidence.spread), 3),
                           "vanishing_up": [round(float(x), 6) for x in evidence.up]})  # fmt: skip


def segment_plane(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, float]:
    """The unit normal of the plane through the camera centre and the 3D points ``a``, ``b`` (camera
    frame): the segment's interpretation plane, which only its image decides (any depths along the two
    rays give the same plane). Also the angle the segment subtends, radians (a foreshortened segment's
    plane is poorly defined)."""
    n = np.cross(a, b)
    size = float(np.linalg.norm(n)) / max(float(np.linalg.norm(a) * np.linalg.norm(b)), 1e-12)
    return _unit(n), size


def body_witnesses(keypoints3d: np.ndarray, posture: Posture, cfg: GroundConfig) -> Witness | None:
    """What the posture says about up (see the module docstring); None when it says nothing.

    A segment said to be vertical (a standing person's legs and torso, a seated person's shins) is used
    through its image only, as an image line is: up lies in its interpretation plane
    (:func:`segment_plane`). The body fit's depth, which a single photo decides poorly, only enters for
    what must be horizontal (a seated person's thighs, a lying body's axis)."""
    kp = np.asarray(keypoints3d, np.float64)
    mid = lambda a, b: 0.5 * (kp[_I[a]] + kp[_I[b]])  # noqa: E731
    hips, shoulders = mid("left_hip", "right_hip"), mid("left_shoulder", "right_shoulder")
    sides = [s for s, seen in zip(("left", "right"), posture.legs_seen) if seen]
    perp, perp_deg = [], []

    def vertical(a: np.ndarray, b: np.ndarray, spread: float) -> None:
        n, size = segment_plane(a, b)
        if size > 1e-3:  # widen the spread of segments that subtend less than 0.05 rad
            perp.append(n)
            perp_deg.append(spread / min(1.0, size / 0.05))

    if posture.name == "standing":
        if len(sides) == 2:
            vertical(hips, mid("left_ankle", "right_ankle"), cfg.standing_legs_deg)
        else:
            s = sides[0]
            vertical(kp[_I[f"{s}_hip"]], kp[_I[f"{s}_ankle"]], cfg.standing_legs_deg * np.sqrt(2))
        if posture.straight_hips:
            vertical(hips, shoulders, cfg.standing_torso_deg)
    elif posture.name == "seated":
        for s in sides:
            vertical(kp[_I[f"{s}_knee"]], kp[_I[f"{s}_ankle"]], cfg.seated_shin_deg)
            perp.append(_unit(kp[_I[f"{s}_knee"]] - kp[_I[f"{s}_hip"]]))
            perp_deg.append(cfg.seated_thigh_deg)
    elif posture.name == "lying":
        perp.append(_unit(shoulders - hips))
        perp_deg.append(cfg.lying_deg)
    elif posture.torso_deg <= cfg.upright_max_deg:  # other / unknown: an upright torso says a little
        vertical(hips, shoulders, cfg.torso_deg)
    if not perp:
        return None
    return Witness("body", perpendicular=np.array(perp).reshape(-1, 3), perpendicular_deg=np.array(perp_deg, np.float64),
                   detail={"posture": posture.name})  # fmt: skip


def _tangent_basis(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a = np.array([1.0, 0.0, 0.0]) if abs(u[0]) < 0.9 else np.array([0.0, 0.0, 1.0])
    e1 = _unit(np.cross(u, a))
    return e1, np.cross(u, e1)


def fuse(witnesses: list[Witness], extra_starts: list[np.ndarray] = ()) -> tuple[np.ndarray, float]:
    """The unit up minimising the witnesses' summed energy, and its standard error in degrees (from the
    energy's curvature: the larger axis of its error ellipse). Deterministic."""
    from scipy.optimize import minimize

    def energy(u):
        return sum(w.energy(u) for w in witnesses)

    starts = [CAMERA_UP.copy()] + [s for w in witnesses for s in w.starts()] + [_unit(s) for s in extra_starts]
    best, best_e = None, np.inf
    for u0 in starts:
        u0 = _unit(u0)
        e1, e2 = _tangent_basis(u0)
        f = lambda ab, u0=u0, e1=e1, e2=e2: energy(_unit(u0 + ab[0] * e1 + ab[1] * e2))  # noqa: E731
        r = minimize(f, np.zeros(2), method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-10, "maxiter": 400})
        u = _unit(u0 + r.x[0] * e1 + r.x[1] * e2)
        if r.fun < best_e - 1e-12:
            best, best_e = u, float(r.fun)
    # curvature at the optimum (tangent coordinates are radians to first order)
    e1, e2 = _tangent_basis(best)
    h = 1e-3
    g = lambda a, b: energy(_unit(best + a * e1 + b * e2))  # noqa: E731
    f0 = g(0, 0)
    H = np.empty((2, 2))
    H[0, 0] = (g(h, 0) - 2 * f0 + g(-h, 0)) / h**2
    H[1, 1] = (g(0, h) - 2 * f0 + g(0, -h)) / h**2
    H[0, 1] = H[1, 0] = (g(h, h) - g(h, -h) - g(-h, h) + g(-h, -h)) / (4 * h**2)
    lam = np.linalg.eigvalsh(H)
    sigma = float(np.degrees(1.0 / np.sqrt(max(lam.min(), 1e-9))))
    return best, sigma


def describe(up: np.ndarray, sigma: float, witnesses: list[Witness], posture: Posture | None) -> Gravity:
    """The :class:`Gravity` record of a fused ``up`` (its standard error ``sigma`` degrees): per witness
    what it saw and how far it lies from ``up``."""
    sources = []
    for w in witnesses:
        rec = {"name": w.name, **w.detail}
        if len(w.parallel):
            rec["directions"] = [[round(float(x), 5) for x in d] for d in w.parallel]
            rec["angles_to_up_deg"] = [round(angle_deg(d, up), 2) for d in w.parallel]
            rec["spread_deg"] = [round(float(s), 2) for s in w.parallel_deg]
        if len(w.perpendicular) and w.name != "image_lines":
            rec["perpendicular_residual_deg"] = [round(90.0 - angle_deg(n, up), 2) for n in w.perpendicular]
        if w.name == "image_lines":
            res = np.degrees(np.arcsin(np.clip(np.abs(w.perpendicular @ up), 0, 1)))
            rec["median_residual_deg"] = round(float(np.median(res)), 3)
        rec["energy"] = round(w.energy(up), 4)
        sources.append(rec)
    conf = float(np.exp(-0.5 * (sigma / CONFIDENCE_SCALE_DEG) ** 2))
    tilt = None if posture is None else angle_deg(np.asarray(posture.torso), up)
    return Gravity(up=up, sigma_deg=sigma, confidence=conf, posture=posture, sources=tuple(sources), torso_tilt_deg=tilt)
