"""Person detection: MediaPipe Pose (33 landmarks, world landmarks, person segmentation).

One ``Pose`` graph (``static_image_mode=True``, ``model_complexity=1``, segmentation on) is created
lazily and reused for every image of the process (see :func:`_pose`); calls are serialised with a lock
because the graph is not thread-safe. Inference runs on an RGB copy downscaled to at most
``MAX_INFER_SIDE`` px on the long side (MediaPipe internally works at 224/256 px anyway, so this only
saves the cost of copying and resizing huge frames); landmarks are normalised and map back exactly, the
segmentation mask (specks under 5 % of the largest component removed) is resized back to full
resolution before thresholding. On a 6000x4000 photo this takes ~0.1 s instead of ~0.2 s.

With ``person_box`` MediaPipe runs on a crop around the box (box plus ``BOX_MARGIN`` of its size on
each side), which helps for small or multiple people; results are mapped back to full-image pixels and
the mask lies inside the crop.
"""

from __future__ import annotations

import os
import threading
import warnings
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from hoirecon.errors import MissingModelError, NoPersonError
from hoirecon.types import Box, ImageInput, PersonDetection

__all__ = ["detect_person", "MAX_INFER_SIDE", "BACKEND"]

BACKEND = "mediapipe-pose"
MAX_INFER_SIDE = 1280
BOX_MARGIN = 0.25
VISIBLE = 0.5  # landmark visibility threshold used for the box
BOX_INSIDE = 0.8  # a person found in the box's crop with fewer visible landmarks inside it is somebody else
MASK_THRESHOLD = 0.5
MIN_COMPONENT = 0.05  # mask components smaller than this fraction of the largest are dropped

_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _pose() -> Any:
    """The process-wide MediaPipe Pose graph (created on first use; no window is ever opened)."""
    os.environ.setdefault("GLOG_minloglevel", "2")  # keep MediaPipe's C++ logging quiet
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import mediapipe as mp  # imported lazily: slow import, and only this stage needs it

    if not hasattr(mp, "solutions"):
        raise MissingModelError(
            f"mediapipe {getattr(mp, '__version__', '?')} has no mp.solutions (removed in 0.10.30): "
            "pip install 'mediapipe>=0.10.14,<0.10.30'"
        )
    return mp.solutions.pose.Pose(
        static_image_mode=True,
        model_complexity=1,
        enable_segmentation=True,
        min_detection_confidence=0.3,
    )


def _crop_for(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    """Integer crop (x0, y0, x1, y1) around ``box`` with a margin, clipped to the image."""
    mx, my = BOX_MARGIN * box.width, BOX_MARGIN * box.height
    x0 = int(np.floor(max(0.0, box.x0 - mx)))
    y0 = int(np.floor(max(0.0, box.y0 - my)))
    x1 = int(np.ceil(min(float(width), box.x1 + mx)))
    y1 = int(np.ceil(min(float(height), box.y1 + my)))
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)


def _run(rgb: np.ndarray) -> Any:
    """MediaPipe on ``rgb``, downscaled to at most MAX_INFER_SIDE px on the long side."""
    import cv2

    h, w = rgb.shape[:2]
    s = min(1.0, MAX_INFER_SIDE / max(h, w))
    if s < 1.0:
        rgb = cv2.resize(rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    with _LOCK, warnings.catch_warnings():
        # protobuf's "SymbolDatabase.GetPrototype() is deprecated" from inside MediaPipe
        warnings.filterwarnings("ignore", message=r"SymbolDatabase\.GetPrototype", category=UserWarning)
        return _pose().process(rgb)


def _clean_mask(seg: np.ndarray) -> np.ndarray:
    """Segmentation probability (h, w) float -> uint8 0..255 with small specks (connected components
    under MIN_COMPONENT of the largest one) removed."""
    import cv2

    seg8 = np.clip(np.asarray(seg, dtype=np.float32) * 255.0, 0, 255).astype(np.uint8)
    binary = (seg8 > int(MASK_THRESHOLD * 255)).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=8)
    if n > 2:
        areas = stats[1:, cv2.CC_STAT_AREA]
        small = np.flatnonzero(areas < MIN_COMPONENT * areas.max()) + 1
        if small.size:
            seg8[np.isin(labels, small)] = 0
    return seg8


# Landmark index of the mirror-image counterpart (left <-> right), MediaPipe Pose order.
MIRROR_PERM = np.array(
    [0, 4, 5, 6, 1, 2, 3, 8, 7, 10, 9, 12, 11, 14, 13, 16, 15, 18, 17, 20, 19, 22, 21, 24, 23, 26, 25,
     28, 27, 30, 29, 32, 31]
)


@dataclass(frozen=True)
class _Raw:
    """One MediaPipe result in crop coordinates: keypoints (33, 2) normalised to the crop, visibility,
    world (33, 3), seg8 (h, w) uint8 probability at inference resolution or None."""

    kp_norm: np.ndarray
    vis: np.ndarray
    world: np.ndarray
    seg8: np.ndarray | None


def _detect_once(crop: np.ndarray, *, mirror: bool = False) -> _Raw | None:
    """MediaPipe on ``crop`` (optionally on its mirror image, with the result mirrored back and left/right
    landmarks swapped). None if nobody is found."""
    if crop.shape[0] < 8 or crop.shape[1] < 8:
        return None
    res = _run(crop[:, ::-1] if mirror else crop)
    if res is None or res.pose_landmarks is None:
        return None
    lm = res.pose_landmarks.landmark
    kp = np.array([[p.x, p.y] for p in lm], dtype=np.float32)
    vis = np.clip(np.array([p.visibility for p in lm], dtype=np.float32), 0.0, 1.0)
    if res.pose_world_landmarks is not None:
        world = np.array([[p.x, p.y, p.z] for p in res.pose_world_landmarks.landmark], dtype=np.float32)
    else:  # not expected with this graph
        world = np.zeros((33, 3), np.float32)
    seg8 = _clean_mask(res.segmentation_mask) if res.segmentation_mask is not None else None
    if mirror:
        kp[:, 0] = 1.0 - kp[:, 0]
        world[:, 0] = -world[:, 0]
        kp, vis, world = kp[MIRROR_PERM], vis[MIRROR_PERM], world[MIRROR_PERM]
        if seg8 is not None:
            seg8 = np.ascontiguousarray(seg8[:, ::-1])
    return _Raw(kp, vis, world, seg8)


def _grey_outside(crop: np.ndarray, box: Box, origin: tuple[int, int]) -> np.ndarray:
    """A copy of ``crop`` (h, w, 3) uint8 whose pixels outside ``box`` (full-image pixels; the crop's
    top-left corner at ``origin``) are mid grey, so that MediaPipe's single-person detector finds the
    box's person rather than a more prominent one beside it."""
    out = np.full_like(crop, 127)
    h, w = crop.shape[:2]
    x0 = int(np.clip(np.floor(box.x0) - origin[0], 0, w))
    x1 = int(np.clip(np.ceil(box.x1) - origin[0], 0, w))
    y0 = int(np.clip(np.floor(box.y0) - origin[1], 0, h))
    y1 = int(np.clip(np.ceil(box.y1) - origin[1], 0, h))
    out[y0:y1, x0:x1] = crop[y0:y1, x0:x1]
    return out


def _inside_fraction(raw: _Raw, crop_xy: tuple[int, int, int, int], box: Box) -> float:
    """Fraction of the visible (else all) landmarks of ``raw`` that fall inside ``box``."""
    x0, y0, x1, y1 = crop_xy
    kp = raw.kp_norm * np.array([x1 - x0, y1 - y0], np.float32) + np.array([x0, y0], np.float32)
    good = raw.vis >= VISIBLE
    pts = kp[good] if good.sum() >= 3 else kp
    inside = (pts[:, 0] >= box.x0) & (pts[:, 0] <= box.x1) & (pts[:, 1] >= box.y0) & (pts[:, 1] <= box.y1)
    return float(inside.mean())


def detect_person(image: ImageInput, *, person_box: Box | None = None) -> PersonDetection:
    """Find the person in ``image`` (inside ``person_box`` if given).

    MediaPipe's detector is brittle (it can miss a clearly visible person after a few pixels of
    cropping), so when the first run finds nobody the mirror image is tried too. With ``person_box`` the
    crop around the box is tried (as is, mirrored); when the person found there has fewer than
    ``BOX_INSIDE`` of their visible landmarks inside the box (a more prominent person beside it: two
    players at a header), the crop is tried again with everything outside the box grey, and the result
    with more landmarks inside the box is kept; when the crop finds nobody, the whole image, accepted
    only if most of its visible landmarks lie inside the box.

    Returns keypoints (33, 2) in full-image pixels (landmarks may lie outside the image when MediaPipe
    extrapolates occluded joints), visibility (33,), world keypoints (33, 3) metres, mask (H, W) bool,
    the box of mask ∪ visible keypoints clipped to the image, and ``score`` = mean landmark
    visibility. Raises :class:`NoPersonError` when MediaPipe finds nobody.
    """
    import cv2

    H, W = image.height, image.width
    full = (0, 0, W, H)

    def found(xy: tuple[int, int, int, int], grey: bool = False) -> tuple[_Raw | None, float]:
        """MediaPipe on the crop ``xy`` (as is, else mirrored) and the fraction of its landmarks inside
        the person box (1 without one)."""
        crop = image.rgb[xy[1]:xy[3], xy[0]:xy[2]]
        if grey:
            crop = _grey_outside(crop, person_box, (xy[0], xy[1]))
        for mirror in (False, True):
            r = _detect_once(crop, mirror=mirror)
            if r is not None:
                return r, (1.0 if person_box is None else _inside_fraction(r, xy, person_box))
        return None, 0.0

    if person_box is None:
        crop_xy = full
        raw, _ = found(full)
    else:
        crop_xy = _crop_for(person_box, W, H)
        raw, inside = found(crop_xy)
        if raw is None or inside < BOX_INSIDE:  # nobody, or somebody else beside the box: hide the rest
            r, r_inside = found(crop_xy, grey=True)
            if r is not None and (raw is None or r_inside > inside):
                raw, inside = r, r_inside
        if raw is None and crop_xy != full:
            r, r_inside = found(full)
            if r is not None and r_inside >= 0.5:
                raw, crop_xy = r, full
    cx0, cy0, cx1, cy1 = crop_xy
    if raw is None:
        where = "" if person_box is None else f" inside person box {[round(v, 1) for v in person_box.as_list()]}"
        raise NoPersonError(f"{image.path}: no person found{where}")

    cw, ch = cx1 - cx0, cy1 - cy0
    kp = (raw.kp_norm * np.array([cw, ch], np.float32) + np.array([cx0, cy0], np.float32)).astype(np.float32)
    vis, world = raw.vis, raw.world

    mask = np.zeros((H, W), dtype=bool)
    if raw.seg8 is not None:
        seg8 = raw.seg8
        if seg8.shape[:2] != (ch, cw):
            seg8 = cv2.resize(seg8, (cw, ch), interpolation=cv2.INTER_LINEAR)
        mask[cy0:cy1, cx0:cx1] = seg8 > int(MASK_THRESHOLD * 255)
        if person_box is not None and (cx0, cy0, cx1, cy1) == full:
            keep = np.zeros((H, W), dtype=bool)
            kx0, ky0, kx1, ky1 = _crop_for(person_box, W, H)
            keep[ky0:ky1, kx0:kx1] = True
            mask &= keep

    # Box: mask ∪ visible keypoints, clipped to the image.
    xs: list[float] = []
    ys: list[float] = []
    if mask.any():
        rows = np.flatnonzero(mask.any(axis=1))
        cols = np.flatnonzero(mask.any(axis=0))
        xs += [float(cols[0]), float(cols[-1] + 1)]
        ys += [float(rows[0]), float(rows[-1] + 1)]
    good = vis >= VISIBLE
    if good.any():
        xs += [float(kp[good, 0].min()), float(kp[good, 0].max())]
        ys += [float(kp[good, 1].min()), float(kp[good, 1].max())]
    if not xs:  # neither mask nor a visible landmark: use all landmarks
        xs += [float(kp[:, 0].min()), float(kp[:, 0].max())]
        ys += [float(kp[:, 1].min()), float(kp[:, 1].max())]
    bx0, bx1 = np.clip([min(xs), max(xs)], 0, W)
    by0, by1 = np.clip([min(ys), max(ys)], 0, H)
    if bx1 - bx0 < 1 or by1 - by0 < 1:
        raise NoPersonError(f"{image.path}: no person found (landmarks outside the image)")
    box = Box(float(bx0), float(by0), float(bx1), float(by1))

    return PersonDetection(
        box=box,
        mask=mask,
        keypoints=kp,
        visibility=vis,
        world_keypoints=world,
        backend=BACKEND,
        score=float(vis.mean()),
    )
