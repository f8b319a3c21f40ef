"""Gravity evidence from the photo itself: the segments of vertical structures.

Door frames, wall corners and panel edges, poles, table and chair legs are vertical; their image
segments all meet at the vertical vanishing point. In 3D, the segment with endpoints ``p1, p2`` (pixels)
lies in its *interpretation plane* through the camera centre, whose unit normal is
``n = normalize(cross(K^-1 [p1, 1], K^-1 [p2, 1]))``; the plane contains the segment's 3D direction, so
for a vertical segment ``n . up = 0``.

:func:`vertical_lines` detects segments (OpenCV's LSD; Canny + probabilistic Hough if LSD fails), keeps
the long ones that could be vertical (near ``prior_up`` both in 3D and in the image), and finds the up
direction that most of them agree on (deterministic RANSAC over pairs of normals, refined by weighted
least squares on the inliers). The caller leaves out the person's pixels (``exclude``): the body is a
separate witness, and a silhouette's outline is no vertical structure.

Frames and units: camera frame (x right, y down, z forward), unit vectors; pixels of the full image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LineEvidence", "vertical_lines"]

MAX_SEGMENTS = 200  # the longest segments kept
DETECT_MAX_SIDE = 1280  # larger photos are detected on a copy this size (segments scaled back)
INLIER_DEG = 1.5  # a segment agrees with up when its plane is this close to containing it ...
ENDPOINT_PX = 1.0  # ... plus the tilt that this endpoint error gives a segment of its length
RANSAC_PAIRS = 600  # candidate pairs drawn (every pair when there are fewer)
EXCLUDE_SAMPLES = 17  # points sampled along a segment to measure how much of it lies in `exclude`
WEIGHT_FULL_FRAC = 0.25  # a segment this fraction of the image diagonal long has weight 1


@dataclass(frozen=True)
class LineEvidence:
    """The vertical-line evidence of one photo (:func:`vertical_lines`).

    ``normals``: (L, 3) float64 unit interpretation-plane normals, camera frame, of the segments kept;
    ``weights``: (L,) float64 in [0, 1], relative reliability (segment length / a quarter of the image
    diagonal, clipped); ``segments``: (L, 4) float64 pixel endpoints ``x1, y1, x2, y2`` of the kept
    segments (full image resolution), longest first; ``up``: (3,) float64 unit vector, the vertical
    vanishing direction pointing up (``dot(up, prior_up) > 0``, so ``dot(up, (0, -1, 0)) > 0`` with the
    default prior), or None when fewer than ``min_inliers`` segments agree; ``inliers``: (L,) bool, the
    segments consistent with ``up`` (all False when ``up`` is None); ``spread``: float in [0, 1], how well
    the inlier segments span the image horizontally: ``min(1, sqrt(12) * std(midpoint x) / width)``
    (0: all at one x; 1: spread as evenly as a uniform distribution over the width, or wider)."""

    normals: np.ndarray
    weights: np.ndarray
    segments: np.ndarray
    up: np.ndarray | None
    inliers: np.ndarray
    spread: float

    @property
    def count(self) -> int:
        """Number of inlier segments."""
        return int(np.count_nonzero(self.inliers))


def _unit(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float64)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def _empty(n: int = 0, normals=None, weights=None, segments=None) -> LineEvidence:
    return LineEvidence(
        normals=np.zeros((0, 3)) if normals is None else normals,
        weights=np.zeros(0) if weights is None else weights,
        segments=np.zeros((0, 4)) if segments is None else segments,
        up=None,
        inliers=np.zeros(n, bool),
        spread=0.0,
    )


def _grey(image: np.ndarray) -> np.ndarray:
    import cv2

    img = np.asarray(image)
    if img.dtype != np.uint8:
        img = np.clip(img, 0, 255).astype(np.uint8)
    if img.ndim == 2:
        return np.ascontiguousarray(img)
    if img.ndim == 3 and img.shape[2] == 3:
        return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    if img.ndim == 3 and img.shape[2] == 4:
        return cv2.cvtColor(img, cv2.COLOR_RGBA2GRAY)
    raise ValueError(f"image must be (H, W, 3) RGB, got shape {img.shape}")


def _detect(grey: np.ndarray, min_length_px: float) -> np.ndarray:
    """(N, 4) float64 segments ``x1, y1, x2, y2`` in the pixels of ``grey``."""
    import cv2

    try:
        found = cv2.createLineSegmentDetector().detect(grey)[0]
    except Exception:  # noqa: BLE001 - builds without LSD raise cv2.error (or lack the function)
        edges = cv2.Canny(grey, 50, 150)
        found = cv2.HoughLinesP(edges, 1.0, np.pi / 180.0, threshold=40,
                                minLineLength=max(int(min_length_px), 2), maxLineGap=3)  # fmt: skip
    if found is None:
        return np.zeros((0, 4))
    return np.asarray(found, np.float64).reshape(-1, 4)


def _in_exclude(seg: np.ndarray, exclude: np.ndarray) -> np.ndarray:
    """(N,) bool: the segment's midpoint, or more than half of it, lies in ``exclude``."""
    h, w = exclude.shape
    t = np.linspace(0.0, 1.0, EXCLUDE_SAMPLES)
    x = seg[:, None, 0] + t * (seg[:, None, 2] - seg[:, None, 0])
    y = seg[:, None, 1] + t * (seg[:, None, 3] - seg[:, None, 1])
    xi = np.clip(np.floor(x).astype(np.int64), 0, w - 1)
    yi = np.clip(np.floor(y).astype(np.int64), 0, h - 1)
    inside = exclude[yi, xi]
    return inside[:, EXCLUDE_SAMPLES // 2] | (inside.mean(axis=1) > 0.5)


def vertical_lines(
    image: np.ndarray,
    K: np.ndarray,
    exclude: np.ndarray | None = None,
    prior_up=(0.0, -1.0, 0.0),
    max_angle_deg: float = 35.0,
    min_length_frac: float = 0.04,
    min_inliers: int = 3,
    seed: int = 0,
) -> LineEvidence:
    """The vertical segments of ``image`` and the up direction they agree on.

    ``image``: (H, W, 3) uint8 RGB; ``K``: (3, 3) intrinsics of ``image``; ``exclude``: (H, W) bool, pixels
    whose segments are ignored (a segment is dropped when its midpoint or more than half of its length
    lies there); ``prior_up``: (3,) camera-frame guess of up (the camera's own -y); ``max_angle_deg``: how
    far from ``prior_up`` a kept segment (and the answer) may be; ``min_length_frac``: shortest segment
    kept, a fraction of the image diagonal; ``min_inliers``: fewer agreeing segments give ``up = None``;
    ``seed``: the RANSAC's random generator (the result is deterministic).

    A segment is kept when it is long enough, its interpretation plane is within ``max_angle_deg`` of
    containing ``prior_up`` (``|n . prior_up| <= sin(max_angle_deg)``) and its image direction is within
    ``max_angle_deg`` of the image of ``prior_up`` at its midpoint (towards the vanishing point of
    ``prior_up``, or along ``(up_x, up_y)`` when that point is at infinity); at most the
    :data:`MAX_SEGMENTS` longest. Up is the RANSAC direction ``cross(n_i, n_j)`` (pairs drawn by weight)
    with the largest summed weight of segments within ``INLIER_DEG`` (plus the tilt of a one-pixel
    endpoint error) of agreeing, refined on its inliers (the eigenvector of the smallest eigenvalue of
    ``sum w n n^T``; when the inliers all lie in nearly one plane, the direction in that plane nearest
    the prior)."""
    import cv2

    img = np.asarray(image)
    h, w = int(img.shape[0]), int(img.shape[1])
    K = np.asarray(K, np.float64).reshape(3, 3)
    prior = _unit(np.asarray(prior_up, np.float64).reshape(3))
    if exclude is not None:
        exclude = np.asarray(exclude, bool)
        if exclude.shape != (h, w):
            raise ValueError(f"exclude must be ({h}, {w}), got {exclude.shape}")
    diag = float(np.hypot(w, h))
    min_len = float(min_length_frac) * diag
    sin_max = np.sin(np.radians(max_angle_deg))
    cos_max = np.cos(np.radians(max_angle_deg))

    grey = _grey(img)
    scale = min(1.0, DETECT_MAX_SIDE / max(h, w))
    if scale < 1.0:
        grey = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        seg = _detect(grey, min_len * scale) / scale
    else:
        seg = _detect(grey, min_len)

    # long enough, not on the excluded pixels
    d = seg[:, 2:] - seg[:, :2]
    length = np.hypot(d[:, 0], d[:, 1])
    keep = length >= min_len
    seg, d, length = seg[keep], d[keep], length[keep]
    if exclude is not None and len(seg):
        keep = ~_in_exclude(seg, exclude)
        seg, d, length = seg[keep], d[keep], length[keep]
    if not len(seg):
        return _empty()

    # near prior_up: the plane nearly contains it, and the image direction points at its vanishing point
    Kinv = np.linalg.inv(K)
    ones = np.ones((len(seg), 1))
    r1 = np.hstack([seg[:, :2], ones]) @ Kinv.T
    r2 = np.hstack([seg[:, 2:], ones]) @ Kinv.T
    c = np.cross(r1, r2)
    cn = np.linalg.norm(c, axis=1)
    ok = cn > 1e-12
    n = np.zeros_like(c)
    n[ok] = c[ok] / cn[ok, None]
    vp = K @ prior  # homogeneous vanishing point of prior_up (vp[2] ~ 0: at infinity)
    mid = 0.5 * (seg[:, :2] + seg[:, 2:])
    toward = vp[None, :2] - mid * vp[2]  # image direction of prior_up at the midpoint
    tn = np.linalg.norm(toward, axis=1)
    cos_img = np.abs(np.sum(toward * d, axis=1)) / np.maximum(tn * length, 1e-12)
    keep = ok & (np.abs(n @ prior) <= sin_max) & ((cos_img >= cos_max) | (tn < 1e-9))
    seg, n, length, mid = seg[keep], n[keep], length[keep], mid[keep]
    order = np.argsort(-length, kind="stable")[:MAX_SEGMENTS]
    seg, n, length, mid = seg[order], n[order], length[order], mid[order]
    weights = np.clip(length / (WEIGHT_FULL_FRAC * diag), 0.0, 1.0)
    L = len(seg)
    if L < max(2, int(min_inliers)):
        return _empty(L, n, weights, seg)

    # RANSAC over pairs of normals
    tol = np.hypot(np.sin(np.radians(INLIER_DEG)), ENDPOINT_PX / length)
    if L * (L - 1) // 2 <= RANSAC_PAIRS:
        i, j = np.triu_indices(L, 1)
    else:
        rng = np.random.default_rng(seed)
        p = weights / weights.sum() if weights.sum() > 0 else None
        i = rng.choice(L, size=RANSAC_PAIRS, p=p)
        j = rng.choice(L, size=RANSAC_PAIRS, p=p)
        same = i == j
        j[same] = (j[same] + 1 + rng.integers(0, L - 1, int(same.sum()))) % L
    cand = np.cross(n[i], n[j])
    cnorm = np.linalg.norm(cand, axis=1)
    good = cnorm > 1e-6
    cand = cand[good] / cnorm[good, None]
    cand *= np.where(cand @ prior < 0.0, -1.0, 1.0)[:, None]
    cand = cand[cand @ prior >= cos_max]
    if not len(cand):
        return _empty(L, n, weights, seg)
    agree = np.abs(n @ cand.T) < tol[:, None]  # (L, M)
    best = int(np.argmax(weights @ agree))
    up = cand[best]
    inl = agree[:, best]

    # refine on the inliers until they settle
    for _ in range(5):
        if inl.sum() < 2:
            break
        wn = n[inl] * weights[inl, None]
        evals, evecs = np.linalg.eigh(wn.T @ n[inl])
        if evals[1] <= 1e-6 * max(evals[2], 1e-300):
            # the inliers span one plane only: the vertical in it nearest the prior
            e = evecs[:, 2]
            v = prior - (prior @ e) * e
            if np.linalg.norm(v) < 1e-9:
                break
            v = _unit(v)
        else:
            v = evecs[:, 0]
        v = v if v @ prior >= 0.0 else -v
        if v @ prior < cos_max:
            break
        new = np.abs(n @ v) < tol
        up = v
        if np.array_equal(new, inl):
            break
        inl = new
    inl = np.abs(n @ up) < tol
    if inl.sum() < int(min_inliers):
        return _empty(L, n, weights, seg)
    spread = float(min(1.0, np.sqrt(12.0) * np.std(mid[inl, 0]) / max(w, 1)))
    return LineEvidence(normals=n, weights=weights, segments=seg, up=np.asarray(up, np.float64),
                        inliers=inl, spread=spread)  # fmt: skip
