"""Object segmentation inside a user/sidecar box.

* ``mask`` given -> used as is (backend ``"user-mask"``, score 1.0).
* else OpenCV GrabCut initialised from the box on a crop around it (box plus a margin), downscaled so
  its long side is at most ``GRABCUT_MAX_SIDE`` px, ``GRABCUT_ITERS`` iterations. Person pixels
  (``person_mask``) inside the box start as probable background. The result (definite + probable
  foreground) is upsampled back and restricted to the box (backend ``"grabcut"``, score 0.8).
* if GrabCut leaves less than ``MIN_FILL`` of the box (or fails), the fallback is the ellipse inscribed
  in the box minus the person mask (backend ``"box-ellipse"``, score 0.2).

The returned ``box`` is the given box clipped to the image (the user's statement of where the object
is); the mask is what was segmented.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from hoirecon.errors import InputError
from hoirecon.types import Box, ImageInput, ObjectDetection

__all__ = ["segment_object", "ellipse_mask", "GRABCUT_MAX_SIDE", "MIN_FILL"]

GRABCUT_MAX_SIDE = 400
GRABCUT_ITERS = 5
CROP_MARGIN = 0.15  # of the box size, each side
MIN_FILL = 0.05

SCORE = {"user-mask": 1.0, "grabcut": 0.8, "box-ellipse": 0.2}


def _int_box(box: Box, width: int, height: int) -> tuple[int, int, int, int]:
    x0 = int(min(max(math.floor(box.x0), 0), width - 1))
    y0 = int(min(max(math.floor(box.y0), 0), height - 1))
    x1 = int(min(max(math.ceil(box.x1), x0 + 1), width))
    y1 = int(min(max(math.ceil(box.y1), y0 + 1), height))
    return x0, y0, x1, y1


def ellipse_mask(box: Box, width: int, height: int) -> np.ndarray:
    """(height, width) bool: the ellipse inscribed in ``box`` (pixel centres inside it)."""
    cx, cy = box.center
    ax, ay = max(box.width / 2.0, 0.5), max(box.height / 2.0, 0.5)
    x0, y0, x1, y1 = _int_box(box, width, height)
    yy, xx = np.mgrid[y0:y1, x0:x1]
    inside = ((xx + 0.5 - cx) / ax) ** 2 + ((yy + 0.5 - cy) / ay) ** 2 <= 1.0
    m = np.zeros((height, width), dtype=bool)
    m[y0:y1, x0:x1] = inside
    return m


def _grabcut(
    rgb: np.ndarray, box: Box, person_mask: np.ndarray | None
) -> np.ndarray | None:
    """GrabCut foreground within ``box`` as a full-size bool mask, or None if GrabCut failed."""
    H, W = rgb.shape[:2]
    bx0, by0, bx1, by1 = _int_box(box, W, H)
    mx, my = CROP_MARGIN * (bx1 - bx0) + 4, CROP_MARGIN * (by1 - by0) + 4
    cx0, cy0 = int(max(0, math.floor(bx0 - mx))), int(max(0, math.floor(by0 - my)))
    cx1, cy1 = int(min(W, math.ceil(bx1 + mx))), int(min(H, math.ceil(by1 + my)))
    cw, ch = cx1 - cx0, cy1 - cy0
    s = min(1.0, GRABCUT_MAX_SIDE / max(cw, ch))
    sw, sh = max(1, round(cw * s)), max(1, round(ch * s))

    crop = np.ascontiguousarray(rgb[cy0:cy1, cx0:cx1, ::-1])  # GrabCut is colour-space agnostic; BGR by habit
    if s < 1.0:
        crop = cv2.resize(crop, (sw, sh), interpolation=cv2.INTER_AREA)
    # Box in the (scaled) crop.
    rx0 = int(math.floor((bx0 - cx0) * s))
    ry0 = int(math.floor((by0 - cy0) * s))
    rx1 = int(min(sw, math.ceil((bx1 - cx0) * s)))
    ry1 = int(min(sh, math.ceil((by1 - cy0) * s)))
    if rx1 - rx0 < 2 or ry1 - ry0 < 2:
        return None

    pm = None
    if person_mask is not None:
        pm = np.ascontiguousarray(person_mask[cy0:cy1, cx0:cx1].astype(np.uint8))
        if s < 1.0:
            pm = cv2.resize(pm, (sw, sh), interpolation=cv2.INTER_NEAREST)
        pm = pm.astype(bool)
        if not pm[ry0:ry1, rx0:rx1].any():
            pm = None

    box_touches_all = rx0 == 0 and ry0 == 0 and rx1 == sw and ry1 == sh
    gc = np.zeros((sh, sw), np.uint8)
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    try:
        if pm is None and not box_touches_all:
            cv2.grabCut(crop, gc, (rx0, ry0, rx1 - rx0, ry1 - ry0), bgd, fgd, GRABCUT_ITERS, cv2.GC_INIT_WITH_RECT)
        else:
            # Same initialisation as GC_INIT_WITH_RECT (outside = background, inside = probable
            # foreground), plus person pixels inside the box as probable background.
            gc[:] = cv2.GC_BGD
            gc[ry0:ry1, rx0:rx1] = cv2.GC_PR_FGD
            if pm is not None:
                gc[pm & (gc == cv2.GC_PR_FGD)] = cv2.GC_PR_BGD
            if box_touches_all:  # no pixel outside the box: a thin probable-background ring
                ring = np.ones((sh, sw), bool)
                ring[2:-2, 2:-2] = False
                gc[ring] = cv2.GC_PR_BGD
            if not np.isin(gc, (cv2.GC_BGD, cv2.GC_PR_BGD)).any() or not (gc == cv2.GC_PR_FGD).any():
                return None
            cv2.grabCut(crop, gc, None, bgd, fgd, GRABCUT_ITERS, cv2.GC_INIT_WITH_MASK)
    except cv2.error:
        return None

    fg = ((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)).astype(np.uint8)
    if s < 1.0:
        fg = cv2.resize(fg, (cw, ch), interpolation=cv2.INTER_NEAREST)
    out = np.zeros((H, W), dtype=bool)
    out[cy0:cy1, cx0:cx1] = fg.astype(bool)
    inside = np.zeros((H, W), dtype=bool)
    inside[by0:by1, bx0:bx1] = True
    return out & inside


def segment_object(
    image: ImageInput,
    box: Box,
    label: str,
    *,
    mask: np.ndarray | None = None,
    person_mask: np.ndarray | None = None,
) -> ObjectDetection:
    """Segment the object ``label`` inside ``box`` (see the module docstring for the backends)."""
    H, W = image.height, image.width
    x0, y0 = min(max(float(box.x0), 0.0), float(W)), min(max(float(box.y0), 0.0), float(H))
    x1, y1 = min(max(float(box.x1), 0.0), float(W)), min(max(float(box.y1), 0.0), float(H))
    if x1 - x0 < 1 or y1 - y0 < 1:
        raise InputError(f"{image.path}: object box {box.as_list()} does not overlap the {W}x{H} image")
    box = Box(x0, y0, x1, y1)

    if person_mask is not None and person_mask.shape != (H, W):
        raise ValueError(f"person_mask has shape {person_mask.shape}, expected {(H, W)}")

    if mask is not None:
        m = np.asarray(mask)
        if m.shape != (H, W):
            raise InputError(f"{image.path}: object mask is {m.shape[1]}x{m.shape[0]} but the image is {W}x{H}")
        m = m.astype(bool)
        if not m.any():
            raise InputError(f"{image.path}: object mask is empty")
        return ObjectDetection(label, box, np.ascontiguousarray(m), "user-mask", SCORE["user-mask"])

    pm = person_mask.astype(bool) if person_mask is not None else None
    bx0, by0, bx1, by1 = _int_box(box, W, H)
    box_area = max(1, (bx1 - bx0) * (by1 - by0))

    fg = _grabcut(image.rgb, box, pm)
    if fg is not None and fg.sum() >= MIN_FILL * box_area:
        return ObjectDetection(label, box, fg, "grabcut", SCORE["grabcut"])

    ell = ellipse_mask(box, W, H)
    if pm is not None and (ell & ~pm).any():
        ell &= ~pm
    return ObjectDetection(label, box, ell, "box-ellipse", SCORE["box-ellipse"])
