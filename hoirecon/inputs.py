"""Check every input of a run before any model is imported: validate first, then load.

:func:`check_run` checks what holds for a whole run (option values, weights and body-model paths,
InteractVLM folders); :func:`check_image_inputs` checks one photo with its options (the image is
decoded, the sidecar, label, boxes, mask and mesh are read and checked) and returns a
:class:`CheckedInputs` that the pipeline uses as it is, so nothing is read twice. Every fault is found
by testing for it and reported as an :class:`~hoirecon.errors.InputError` (exit 2) or
:class:`~hoirecon.errors.MissingModelError` (exit 3) with one line naming the file or option.

This module imports no neural-network package (torch, MediaPipe, ultralytics, segment-anything,
open3d, anny, smplx): a test holds it to that with an import hook. A label that names no category
or synonym is left to the pipeline's text-embedding step (a model), which runs before the others.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hoirecon import photo
from hoirecon.config import DetectorConfig, RunOptions
from hoirecon.errors import InputError, MissingModelError, shown
from hoirecon.types import Box, ImageInput

__all__ = ["CheckedInputs", "check_image_inputs", "check_mesh", "check_run", "check_label",
           "check_object_source", "check_focal",
           "DEVICE_HELP"]  # fmt: skip

DEVICE_HELP = "cpu, cuda or cuda:N"


@dataclass(frozen=True)
class CheckedInputs:
    """One photo's inputs, read and checked (original pixels: boxes and mask refer to ``image``).

    ``image``: the photo at its own size (EXIF orientation applied). ``label``: the user's or the
    sidecar's label (None: a detector must name the object); ``category``: its library category when
    it names one or a synonym (None: the embedding step decides). ``box``: the object box (the
    option's, the sidecar's or the mask's). ``mask``: (H, W) bool or None. ``person_box``: the
    sidecar's person box. ``mesh``: the user's mesh file, checked."""

    image_path: Path
    image: ImageInput
    label: str | None = None
    category: str | None = None
    box: Box | None = None
    box_from: str | None = None
    mask: np.ndarray | None = None
    mask_path: Path | None = None
    person_box: Box | None = None
    mesh: Path | None = None
    sidecar: Any = None
    notes: tuple[str, ...] = field(default_factory=tuple)


def check_label(label: Any, what: str = "--object") -> tuple[str | None, str | None]:
    """``(label stripped, category or None)``; InputError for an empty or overlong label."""
    if label is None:
        return None, None
    if not isinstance(label, str) or not label.strip():
        raise InputError(f"{what}: the object label must be a non-empty string, got {shown(label)}")
    text = label.strip()
    if len(text) > photo.MAX_LABEL_CHARS:
        raise InputError(f"{what}: the object label is {len(text)} characters long (limit {photo.MAX_LABEL_CHARS}): "
                         f"{shown(text, 60)}")  # fmt: skip
    if any(ord(c) < 32 for c in text):
        raise InputError(f"{what}: the object label contains control characters: {shown(text)}")
    from hoirecon.objects import match_label

    hit = match_label(text)
    return text, (hit[0] if hit else None)


def check_mesh(path: str | os.PathLike[str]) -> Path:
    """A user mesh file that trimesh reads as triangles with finite vertices, valid face indices and a
    non-zero area (``hoirecon.objects.read_mesh_file``, which reads without trimesh's clean-up: that
    would hide NaN vertices)."""
    from hoirecon.objects import read_mesh_file

    read_mesh_file(path)
    return Path(path)


def check_focal(focal_px: Any, what: str) -> float | None:
    if focal_px is None:
        return None
    ok = isinstance(focal_px, (int, float)) and not isinstance(focal_px, bool) and math.isfinite(focal_px) and focal_px > 0
    if not ok:
        raise InputError(f"{what}: focal length must be a positive number of pixels, got {shown(focal_px)}")
    return float(focal_px)


def check_image_inputs(
    image_path: str | os.PathLike[str],
    *,
    object_label: str | None = None,
    object_box: Any = None,
    object_mask: str | os.PathLike[str] | None = None,
    mesh: str | os.PathLike[str] | None = None,
    focal_px: float | None = None,
    fov_deg: float | None = None,
) -> CheckedInputs:
    """Read and check one photo and its options (see the module docstring). The option values win
    over the sidecar's (``photo.jpg.json`` / ``photo.json``)."""
    image_path = Path(image_path)
    check_focal(focal_px, "--focal-px")
    # the image exists (and is a file) before its sidecar is read: "file not found" names the photo
    if not image_path.exists():
        raise InputError(f"{shown(image_path)}: file not found")
    sidecar = photo.read_sidecar(image_path)
    focal = focal_px if focal_px is not None else (sidecar.focal_px if sidecar else None)
    kwargs: dict[str, Any] = {"focal_px": focal}
    if fov_deg is not None:
        kwargs["fov_deg"] = fov_deg
    image = photo.load_image(image_path, **kwargs)
    label, category = check_label(object_label if object_label is not None else (sidecar.object if sidecar else None),
                                  what="--object" if object_label is not None else f"{shown(sidecar.path) if sidecar else ''}: sidecar object")  # fmt: skip
    mask = photo.load_mask(object_mask, image.width, image.height) if object_mask is not None else None
    box, box_from = None, None
    if object_box is not None:
        box, box_from = photo.parse_box(object_box, image.width, image.height, what="--object-box"), "option"
    elif sidecar is not None and sidecar.object_box is not None:
        what = f"{shown(sidecar.path)}: sidecar object_box"
        box, box_from = photo.parse_box(sidecar.object_box, image.width, image.height, what=what), "sidecar"
    elif mask is not None:
        box, box_from = Box.from_mask(mask), "mask"
    person_box = None
    if sidecar is not None and sidecar.person_box is not None:
        what = f"{shown(sidecar.path)}: sidecar person_box"
        person_box = photo.parse_box(sidecar.person_box, image.width, image.height, what=what)
    mesh_path = check_mesh(mesh) if mesh is not None else None
    if mesh_path is not None and label is None:
        raise InputError(f"{shown(mesh_path)}: --mesh needs --object (or a sidecar label) to know its category and size")
    return CheckedInputs(
        image_path=image_path, image=image, label=label, category=category, box=box, box_from=box_from,
        mask=mask, mask_path=Path(object_mask) if object_mask is not None else None, person_box=person_box,
        mesh=mesh_path, sidecar=sidecar,
    )  # fmt: skip


# ------------------------------------------------------------------------------------------ per run

#: allowed values of the per-run choices (a test holds them to the stage tables: body models, contact sources)
CHOICES = {
    "body_model": ("anny", "smplx"),
    "gender": ("neutral", "male", "female"),
    "detector": ("auto", "yolo", "mediapipe"),
    "segmenter": ("auto", "sam", "yolo", "grabcut"),
    "contacts_from": ("prior", "interactvlm-import", "interactvlm-run"),  # hoirecon.contact.CONTACT_SOURCES
}


def _file_option(value: str | None, option: str) -> None:
    if value is None:
        return
    p = Path(value)
    if not p.exists():
        raise InputError(f"{option} {shown(p)}: file not found")
    if not p.is_file():
        raise InputError(f"{option} {shown(p)}: not a file")
    if p.stat().st_size == 0:
        raise InputError(f"{option} {shown(p)}: file is empty")


def check_device_name(device: str) -> None:
    """The syntax of ``--device`` (``cpu``, ``cuda``, ``cuda:N``); whether CUDA exists is asked of
    torch later, when it loads."""
    import re

    if not isinstance(device, str) or not re.fullmatch(r"cpu|cuda(:\d+)?", device):
        raise InputError(f"--device must be {DEVICE_HELP}, got '{shown(device, 40)}'")


def check_run(c: RunOptions) -> None:
    """Check the options that hold for a whole run, without loading anything."""
    check_device_name(c.device)
    for key, allowed in CHOICES.items():
        if key == "contacts_from":
            continue
        value = getattr(c, key)
        if value not in allowed:
            raise InputError(f"--{key.replace('_', '-')} must be one of {', '.join(allowed)}, got '{shown(value, 40)}'")
    for key in ("person_index", "object_index"):
        value = getattr(c, key)
        if value is not None and value < 0:
            raise InputError(f"--{key.replace('_', '-')} must be 0 or more, got {value}")
    _file_option(c.yolo_weights, "--yolo-weights")
    _file_option(c.sam_weights, "--sam-weights")
    if c.smplx_dir is not None:
        p = Path(c.smplx_dir)
        if not p.is_dir():
            raise MissingModelError(f"--smplx-dir {shown(p)}: no such folder")
    if c.contacts_from not in CHOICES["contacts_from"]:
        raise InputError(f"--contacts-from must be one of {', '.join(CHOICES['contacts_from'])}, got '{shown(c.contacts_from, 40)}'")
    if c.contacts_from == "interactvlm-import":
        if c.contacts_dir is None:
            raise InputError("--contacts-from interactvlm-import needs --contacts DIR (InteractVLM's demo outputs)")
        if not Path(c.contacts_dir).is_dir():
            raise InputError(f"--contacts {shown(c.contacts_dir)}: no such folder")
    if c.contacts_from == "interactvlm-run":
        if c.interactvlm_repo is None:
            raise MissingModelError("--contacts-from interactvlm-run needs --interactvlm-repo DIR (an InteractVLM checkout with its weights)")
        if not Path(c.interactvlm_repo).is_dir():
            raise MissingModelError(f"--interactvlm-repo {shown(c.interactvlm_repo)}: no such folder")


#: the detector ``--detector auto`` fetches on first use (``hoirecon/data/weights.json``)
DEFAULT_DETECTOR = DetectorConfig.yolo_model


def check_object_source(checked: CheckedInputs, detector: str, yolo_weights: str | None,
                        offline: bool = False) -> None:  # fmt: skip
    """Without a box or mask (option or sidecar) a detector must find the object: fail now, before any
    model loads, when none can (``mediapipe`` finds people only; ``auto`` uses YOLO when its weights
    are given or cached, and downloads them on first use unless ``offline``)."""
    if checked.box is not None or checked.mask is not None:
        return
    from hoirecon import registry

    if detector == "yolo" or yolo_weights is not None:
        return
    if detector == "auto" and (registry.cached_path(DEFAULT_DETECTOR).is_file() or not offline):
        return
    why = ("--detector mediapipe finds people only" if detector == "mediapipe"
           else f"no object detector is available (offline, and the YOLO weights are not in the cache: "
                f"hoirecon models download {DEFAULT_DETECTOR})")  # fmt: skip
    raise InputError(f"{shown(checked.image_path)}: no object box and {why}; pass --object-box x0,y0,x1,y1 or "
                     f"--object-mask PNG, or write a sidecar {shown(checked.image_path.name, 60)}.json with \"object_box\"")
