"""Evaluation metrics for human-object reconstruction, shared by every benchmark.

Conventions:

* inputs are numpy arrays in metres, all in one frame (the camera frame unless a function says
  otherwise); any float dtype is accepted, computation is float64;
* distances are *reported* in centimetres (``*_cm``), angles in degrees (``*_deg``);
* meshes are ``(V, 3)`` vertices + ``(F, 3)`` integer faces, as in :mod:`hoirecon.types`;
* object poses follow :class:`hoirecon.types.ObjectFit`: ``x_cam = s * R @ x_canonical + t``.

Two conventions differ from the reference code of CONTHO / CHORE / the BEHAVE challenge on purpose and
can be switched to theirs (see :func:`chamfer_cm` and :func:`combined_chamfer_cm`):

* our Chamfer distance is the **mean** of the two directed mean nearest-neighbour distances;
  CONTHO's ``eval_chamfer_distance`` and BEHAVE/CHORE's ``chamfer_distance`` **sum** them
  (``np.mean(min_y_to_x) + np.mean(min_x_to_y)``), i.e. their numbers are twice ours
  (``reduction="sum"`` reproduces theirs);
* our combined alignment is **rigid** (rotation + translation), so a wrong metric scale is penalised;
  CONTHO's ``rigid_align`` and BEHAVE's ``compute_similarity_transform`` also fit a **scale**
  (``with_scale=True`` reproduces theirs).
"""

from __future__ import annotations

import time
from typing import Iterable, Sequence

import numpy as np

SYMMETRIES = ("none", "mirror_x", "rot_y", "sphere")

__all__ = [
    "SYMMETRIES",
    "Timer",
    "chamfer_cm",
    "combined_chamfer_cm",
    "contact_distance_cm",
    "contact_prf",
    "object_chamfer_cm",
    "penetration_cm",
    "rigid_align",
    "rotation_error_deg",
    "similarity_align",
    "summarize",
    "surface_samples",
    "translation_error_cm",
]


def _points(x, name: str) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or a.shape[1] != 3:
        raise ValueError(f"{name}: expected an (N, 3) array, got shape {a.shape}")
    return a


# --------------------------------------------------------------------------------------------- pose


def translation_error_cm(t_pred, t_true) -> float | np.ndarray:
    """Euclidean distance between predicted and true translations.

    t_pred, t_true: (3,) metres (or (N, 3), broadcast against each other).
    Returns: centimetres; a float for (3,) inputs, an (N,) array for batched ones.
    """
    d = 100.0 * np.linalg.norm(np.asarray(t_pred, np.float64) - np.asarray(t_true, np.float64), axis=-1)
    return float(d) if np.ndim(d) == 0 else d


def rotation_error_deg(R_pred, R_true, symmetry: str = "none") -> float:
    """Rotation error between two object orientations, modulo the object's symmetry.

    R_pred, R_true: (3, 3) rotations mapping canonical object coordinates to the camera frame
    (``x_cam = R @ x_canonical``). symmetry: :attr:`hoirecon.types.ObjectMesh.symmetry`:

    * ``"none"``: geodesic angle ``arccos((trace(R_pred^T R_true) - 1) / 2)``, in [0, 180];
    * ``"rot_y"`` (rotationally symmetric about the canonical y axis): the minimum geodesic angle over
      all ``R_true @ Rot_y(theta)``. Closed form: the angle between the symmetry axes in the camera
      frame, ``R_pred[:, 1]`` and ``R_true[:, 1]`` (= ``R @ e_y``), in [0, 180]. (The axis is not
      flipped: y is up/down and the object has a base, so y -> -y is not a symmetry.)
    * ``"mirror_x"`` (mirror-symmetric about the canonical x = 0 plane): plain geodesic angle, as for
      ``"none"``. A mirror is not a rotation, so no proper rotation other than the identity maps such an
      object onto itself in general; only an object that is *also* symmetric under a 180-degree turn
      (e.g. mirror-symmetric in x and in z) would have an ambiguous pose, and that is not what the label
      says. Mirror symmetry matters to Chamfer-type metrics, not to this one.
    * ``"sphere"``: 0 (every orientation is equivalent).

    Returns: degrees.
    """
    if symmetry not in SYMMETRIES:
        raise ValueError(f"unknown symmetry {symmetry!r}; expected one of {SYMMETRIES}")
    Rp = np.asarray(R_pred, np.float64)
    Rt = np.asarray(R_true, np.float64)
    if Rp.shape != (3, 3) or Rt.shape != (3, 3):
        raise ValueError(f"expected (3, 3) rotations, got {Rp.shape} and {Rt.shape}")
    if symmetry == "sphere":
        return 0.0
    if symmetry == "rot_y":
        a = Rp[:, 1] / np.linalg.norm(Rp[:, 1])
        b = Rt[:, 1] / np.linalg.norm(Rt[:, 1])
        # atan2 of |cross| and dot is accurate near 0 and 180 degrees, unlike arccos.
        return float(np.degrees(np.arctan2(np.linalg.norm(np.cross(a, b)), np.dot(a, b))))
    c = np.clip((np.trace(Rp.T @ Rt) - 1.0) / 2.0, -1.0, 1.0)
    return float(np.degrees(np.arccos(c)))


# --------------------------------------------------------------------------------------- surfaces


def surface_samples(vertices, faces, n: int = 6000, seed: int = 0) -> np.ndarray:
    """Points sampled uniformly on a triangle mesh's surface (area-weighted).

    vertices: (V, 3) metres. faces: (F, 3) int. n: number of samples. seed: numpy ``default_rng``
    seed; the same seed, mesh and n give the same points.
    Returns: (n, 3) float64 metres.

    Faces are drawn with probability proportional to area, then a point uniformly inside the triangle
    (``u = 1 - sqrt(r1), v = sqrt(r1) (1 - r2), w = sqrt(r1) r2``). Because the random numbers depend
    only on the seed, two meshes with the same faces and nearly the same shape get nearly the same
    samples ("common random numbers"): the Chamfer of a mesh with itself is exactly 0, and sampling
    noise near 0 is smaller than with independent samples (as trimesh's ``sample`` in CONTHO/BEHAVE).
    """
    v = _points(vertices, "vertices")
    f = np.asarray(faces, dtype=np.int64)
    if f.ndim != 2 or f.shape[1] != 3 or len(f) == 0:
        raise ValueError(f"faces: expected a non-empty (F, 3) array, got shape {f.shape}")
    tri = v[f]  # (F, 3, 3)
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    total = area.sum()
    if not np.isfinite(total) or total <= 0:
        raise ValueError("mesh has zero (or non-finite) surface area")
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(f), size=int(n), p=area / total)
    r1 = np.sqrt(rng.random(int(n)))
    r2 = rng.random(int(n))
    a, b, c = tri[idx, 0], tri[idx, 1], tri[idx, 2]
    return (1.0 - r1)[:, None] * a + (r1 * (1.0 - r2))[:, None] * b + (r1 * r2)[:, None] * c


def chamfer_cm(points_a, points_b, reduction: str = "mean") -> float:
    """Symmetric Chamfer distance between two point sets (Euclidean, not squared).

    points_a: (Na, 3), points_b: (Nb, 3), metres.
    reduction: ``"mean"`` (default) -> ``0.5 * (mean_a min_b |a-b| + mean_b min_a |a-b|)``: the *mean
    of the two directions*, so a pure offset d between identical dense sets reads d.
    ``"sum"`` -> the sum of the two directed means, the convention of CONTHO
    (``eval_chamfer_distance``) and BEHAVE/CHORE (``chamfer_distance(..., direction="bi")``):
    their published numbers are twice ours.
    Returns: centimetres.
    """
    from scipy.spatial import cKDTree

    a = _points(points_a, "points_a")
    b = _points(points_b, "points_b")
    if len(a) == 0 or len(b) == 0:
        raise ValueError("chamfer of an empty point set")
    if reduction not in ("mean", "sum"):
        raise ValueError(f"reduction must be 'mean' or 'sum', got {reduction!r}")
    d_ab, _ = cKDTree(b).query(a, k=1)
    d_ba, _ = cKDTree(a).query(b, k=1)
    s = float(d_ab.mean() + d_ba.mean())
    return 100.0 * (0.5 * s if reduction == "mean" else s)


def object_chamfer_cm(pred_obj_v, true_obj_v, faces_pred, faces_true, n: int = 6000, seed: int = 0,
                      reduction: str = "mean") -> float:
    """Chamfer distance between the predicted and true object surfaces, as placed (no alignment).

    pred_obj_v: (Vp, 3), true_obj_v: (Vt, 3) metres, both in the *same* frame (camera or body frame:
    the caller chooses; e.g. subtract the body pelvis from both for "object in the body's frame").
    faces_pred, faces_true: (Fp, 3), (Ft, 3) int. n samples per surface (6000 as in CONTHO),
    drawn by :func:`surface_samples` with ``seed``. reduction: see :func:`chamfer_cm`.
    Returns: centimetres.
    """
    a = surface_samples(pred_obj_v, faces_pred, n=n, seed=seed)
    b = surface_samples(true_obj_v, faces_true, n=n, seed=seed)
    return chamfer_cm(a, b, reduction=reduction)


# -------------------------------------------------------------------------------------- alignment


def _procrustes(src: np.ndarray, dst: np.ndarray, with_scale: bool):
    if src.shape != dst.shape:
        raise ValueError(f"src and dst must correspond point by point, got {src.shape} and {dst.shape}")
    if len(src) < 3:
        raise ValueError("need at least 3 corresponding points")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    xs, xd = src - mu_s, dst - mu_d
    H = xs.T @ xd  # (3, 3) cross-covariance, sum_i xs_i xd_i^T
    U, S, Vt = np.linalg.svd(H)
    # Reflection fix (Kabsch/Umeyama): force det(R) = +1 by flipping the least significant axis.
    D = np.diag([1.0, 1.0, np.sign(np.linalg.det(Vt.T @ U.T)) or 1.0])
    R = Vt.T @ D @ U.T
    s = float((S * np.diag(D)).sum() / (xs**2).sum()) if with_scale else 1.0
    t = mu_d - s * R @ mu_s
    return s, R, t


def rigid_align(src, dst) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares rigid transform (Kabsch; rotation + translation, no scale) taking src onto dst.

    src, dst: (N, 3) corresponding points (row i of src matches row i of dst), N >= 3, metres.
    Returns ``(R, t, aligned)``: R (3, 3) proper rotation (det +1, reflections excluded),
    t (3,) metres, aligned = ``src @ R.T + t`` (N, 3), minimising ``sum |R src_i + t - dst_i|^2``.
    """
    a = _points(src, "src")
    _, R, t = _procrustes(a, _points(dst, "dst"), with_scale=False)
    return R, t, a @ R.T + t


def similarity_align(src, dst) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares similarity transform (Umeyama: scale + rotation + translation) src -> dst.

    As :func:`rigid_align` plus a scalar scale s > 0: returns ``(s, R, t, aligned)`` with
    aligned = ``s * src @ R.T + t``. This is what CONTHO's ``rigid_align`` and BEHAVE's
    ``compute_similarity_transform`` compute despite the name.
    """
    a = _points(src, "src")
    s, R, t = _procrustes(a, _points(dst, "dst"), with_scale=True)
    return s, R, t, s * a @ R.T + t


def combined_chamfer_cm(pred_body_v, pred_body_f, pred_obj_v, pred_obj_f,
                        true_body_v, true_body_f, true_obj_v, true_obj_f,
                        n: int = 6000, seed: int = 0, with_scale: bool = False,
                        reduction: str = "mean") -> dict[str, float]:
    """Human and object Chamfer after one joint alignment (CONTHO / CHORE / BEHAVE protocol).

    The predicted body and object vertices are concatenated and aligned to the concatenated true
    vertices with *one* transform estimated on all of them (vertex correspondence is known: same
    meshes, same vertex order, so ``len(pred_body_v) == len(true_body_v)`` and likewise for the object).
    Then each predicted surface is compared with its true surface by Chamfer on ``n`` surface samples
    each (:func:`surface_samples`, ``seed``). The alignment removes the global placement error (depth
    ambiguity) but keeps the relative human-object placement error.

    *_v: (V, 3) metres, *_f: (F, 3) int.
    with_scale: False (default) -> rigid alignment (a wrong metric size is penalised, which is the point
    of a metric reconstruction); True -> similarity alignment with scale, as CONTHO/BEHAVE do.
    reduction: ``"mean"`` (default) or ``"sum"`` (CONTHO/BEHAVE's numbers), see :func:`chamfer_cm`.
    Returns ``{"human_cm", "object_cm"}``.
    """
    pb, po = _points(pred_body_v, "pred_body_v"), _points(pred_obj_v, "pred_obj_v")
    tb, to = _points(true_body_v, "true_body_v"), _points(true_obj_v, "true_obj_v")
    if len(pb) != len(tb) or len(po) != len(to):
        raise ValueError("combined alignment needs the same vertex count (and order) in prediction and truth")
    src, dst = np.concatenate([pb, po]), np.concatenate([tb, to])
    aligned = similarity_align(src, dst)[3] if with_scale else rigid_align(src, dst)[2]
    ab, ao = aligned[: len(pb)], aligned[len(pb):]
    human = chamfer_cm(surface_samples(ab, pred_body_f, n, seed), surface_samples(tb, true_body_f, n, seed),
                       reduction=reduction)
    obj = chamfer_cm(surface_samples(ao, pred_obj_f, n, seed), surface_samples(to, true_obj_f, n, seed),
                     reduction=reduction)
    return {"human_cm": human, "object_cm": obj}


# --------------------------------------------------------------------------------------- contacts


def contact_distance_cm(body_v, obj_v, human_idx, object_idx,
                        pair_of_human=None, pair_of_object=None) -> float:
    """How far apart the *true* contact regions are in the *predicted* placement.

    body_v: (Vb, 3), obj_v: (Vo, 3) predicted vertices, metres, same frame.
    human_idx: (Nh,) int true contact body-vertex indices; object_idx: (No,) int true contact
    object-vertex indices (e.g. :class:`hoirecon.types.ContactSet` of the ground truth).
    pair_of_human / pair_of_object: optional (Nh,) / (No,) pair labels
    (``ContactSet.pair_of_human_vertex`` / ``pair_of_object_vertex``); when given, each body vertex is
    matched only to object contact vertices of the same pair. Both or neither must be given.

    For each true contact body vertex: distance to the nearest true contact object vertex (of its pair);
    the result is the mean over body vertices, in centimetres. Body vertices whose pair has no object
    vertex are skipped; NaN if no body vertex is left (no true contact: undefined, not 0).
    """
    from scipy.spatial import cKDTree

    bv, ov = _points(body_v, "body_v"), _points(obj_v, "obj_v")
    hi = np.asarray(human_idx, np.int64).reshape(-1)
    oi = np.asarray(object_idx, np.int64).reshape(-1)
    if (pair_of_human is None) != (pair_of_object is None):
        raise ValueError("give both pair_of_human and pair_of_object, or neither")
    if len(hi) == 0 or len(oi) == 0:
        return float("nan")
    if pair_of_human is None:
        d, _ = cKDTree(ov[oi]).query(bv[hi], k=1)
        return float(100.0 * d.mean())
    ph = np.asarray(pair_of_human).reshape(-1)
    po = np.asarray(pair_of_object).reshape(-1)
    if len(ph) != len(hi) or len(po) != len(oi):
        raise ValueError("pair label arrays must match human_idx / object_idx in length")
    dists = []
    for p in np.unique(ph):
        oj = oi[po == p]
        if len(oj) == 0:
            continue
        d, _ = cKDTree(ov[oj]).query(bv[hi[ph == p]], k=1)
        dists.append(d)
    if not dists:
        return float("nan")
    return float(100.0 * np.concatenate(dists).mean())


def penetration_cm(body_v, body_f, obj_points, nsamples: int = 3) -> dict[str, float]:
    """How deep object points lie inside the body.

    body_v: (V, 3) metres, body_f: (F, 3) int: a closed (watertight) body mesh.
    obj_points: (N, 3) metres, same frame: pass dense object *surface samples*
    (e.g. ``surface_samples(obj_v, obj_f, 6000)``), not just vertices, so thin penetrations are seen.
    nsamples: rays per point for open3d's inside test (majority vote, robust to small holes).

    Signed distance by open3d ``RaycastingScene.compute_signed_distance`` (negative inside);
    depth = ``max(0, -sdf)``. Returns ``{"max_cm", "mean_cm", "fraction_inside"}``: the largest depth,
    the mean depth *over the points that are inside* (0 when none is), both centimetres, and the
    fraction of points inside.
    """
    import open3d as o3d

    bv = np.ascontiguousarray(_points(body_v, "body_v"), np.float32)
    bf = np.ascontiguousarray(np.asarray(body_f), np.uint32)
    pts = np.ascontiguousarray(_points(obj_points, "obj_points"), np.float32)
    if len(pts) == 0:
        return {"max_cm": 0.0, "mean_cm": 0.0, "fraction_inside": 0.0}
    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.core.Tensor(bv), o3d.core.Tensor(bf))
    sdf = scene.compute_signed_distance(o3d.core.Tensor(pts), nsamples=nsamples).numpy().astype(np.float64)
    depth = np.maximum(0.0, -sdf)
    inside = sdf < 0
    if not inside.any():
        return {"max_cm": 0.0, "mean_cm": 0.0, "fraction_inside": 0.0}
    return {
        "max_cm": float(100.0 * depth.max()),
        "mean_cm": float(100.0 * depth[inside].mean()),
        "fraction_inside": float(inside.mean()),
    }


def contact_prf(body_v, obj_points, true_human_idx, threshold_m: float = 0.05) -> dict[str, float]:
    """Precision / recall / F1 of geometric contact against the true human contact vertices.

    body_v: (V, 3) predicted body vertices, metres. obj_points: (N, 3) predicted object points
    (vertices or surface samples), same frame. true_human_idx: (Nt,) int true contact body vertices.
    Predicted contact = body vertices whose nearest object point is closer than ``threshold_m``
    (strictly, as CONTHO's ``eval_contact_score``; 5 cm default).

    Empty sets (CONTHO skips such frames instead; use ``n_pred`` / ``n_true`` to do the same):
    precision = 1 when nothing is predicted (no false claim), recall = 1 when nothing is true (nothing
    missed), so nothing predicted and nothing true gives P = R = F1 = 1; nothing predicted with some
    truth gives P = 1, R = 0, F1 = 0; predictions with no truth give P = 0, R = 1, F1 = 0.
    F1 = 2PR / (P + R), 0 when P + R = 0.
    Returns ``{"precision", "recall", "f1", "tp", "fp", "fn", "n_pred", "n_true"}`` (counts as floats).
    """
    from scipy.spatial import cKDTree

    bv = _points(body_v, "body_v")
    op = _points(obj_points, "obj_points")
    true = np.zeros(len(bv), bool)
    true[np.asarray(true_human_idx, np.int64).reshape(-1)] = True
    if len(op) == 0:
        pred = np.zeros(len(bv), bool)
    else:
        d, _ = cKDTree(op).query(bv, k=1)
        pred = d < threshold_m
    tp = int((pred & true).sum())
    fp = int((pred & ~true).sum())
    fn = int((~pred & true).sum())
    n_pred, n_true = tp + fp, tp + fn
    precision = tp / n_pred if n_pred else 1.0
    recall = tp / n_true if n_true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return {"precision": float(precision), "recall": float(recall), "f1": float(f1), "tp": float(tp),
            "fp": float(fp), "fn": float(fn), "n_pred": float(n_pred), "n_true": float(n_true)}


# ------------------------------------------------------------------------------------ aggregation


def summarize(values: Sequence[float] | Iterable[float]) -> dict[str, float]:
    """Median and 90th percentile (``np.percentile(..., 90)``, linear interpolation) of per-scene values.

    NaN values (metric undefined for that scene) are dropped; +inf (a failure scored as infinitely bad)
    is kept. Returns ``{"median", "p90", "n"}`` with n the number of values used; NaN statistics when
    no value is left.
    """
    a = np.asarray(list(values), np.float64).reshape(-1)
    a = a[~np.isnan(a)]
    if len(a) == 0:
        return {"median": float("nan"), "p90": float("nan"), "n": 0}
    # Sorted-order interpolation that keeps inf instead of producing inf - inf = nan.
    return {"median": _percentile(a, 50.0), "p90": _percentile(a, 90.0), "n": int(len(a))}


def _percentile(a: np.ndarray, q: float) -> float:
    if np.isfinite(a).all():
        return float(np.percentile(a, q))
    s = np.sort(a)
    pos = (len(s) - 1) * q / 100.0
    lo, hi = int(np.floor(pos)), int(np.ceil(pos))
    if lo == hi or s[lo] == s[hi] or np.isinf(s[lo]):
        return float(s[lo])
    if np.isinf(s[hi]):
        return float("inf")
    return float(s[lo] + (pos - lo) * (s[hi] - s[lo]))


class Timer:
    """Wall-clock timer (``time.perf_counter``), seconds.

    Usage::

        with Timer() as t:
            run_stage()
        t.seconds  # float seconds, set when the block exits

    ``t.elapsed`` reads the running time inside the block; ``float(t)`` equals ``t.seconds``.
    """

    def __init__(self) -> None:
        self.seconds: float = float("nan")
        self._start: float | None = None

    def __enter__(self) -> "Timer":
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> bool:
        self.seconds = time.perf_counter() - self._start
        return False

    @property
    def elapsed(self) -> float:
        if self._start is None:
            return 0.0
        return time.perf_counter() - self._start if np.isnan(self.seconds) else self.seconds

    def __float__(self) -> float:
        return float(self.seconds)
