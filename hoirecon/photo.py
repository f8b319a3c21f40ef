"""Reading the inputs: the photo (with its camera intrinsics), the optional sidecar JSON, boxes and masks.

Every failure is an :class:`~hoirecon.errors.InputError` with a one-line message that names the file
(or the command-line option) and says what is wrong.

Image
-----
:func:`load_image` reads any image Pillow can open, applies the EXIF orientation, and converts it to
(H, W, 3) uint8 RGB (grayscale, palette, CMYK, 16-bit and float images are rescaled; transparency is
composited over white). All pixel coordinates in hoirecon refer to the image *after* EXIF orientation.

Camera intrinsics: principal point at the image centre (W/2, H/2), square pixels (fx = fy). Focal
length, first that applies:

1. ``focal_px`` given by the caller (``source="user"``);
2. EXIF (``source="exif"``): ``FocalLengthIn35mmFilm`` -> ``f_px = f35 / 36 * max(W, H)``; else
   ``FocalLength`` (mm) x ``FocalPlaneXResolution`` (pixels per ``FocalPlaneResolutionUnit``), rescaled
   from ``ExifImageWidth`` to the stored width when present. Values that imply a field of view along the
   longer side outside [5, 150] degrees are ignored;
3. the default field of view ``DEFAULT_FOV_DEG`` = 55 degrees along the longer image side
   (``source="default_fov"``): ``f_px = 0.5 * max(W, H) / tan(fov / 2)``.

Sidecar
-------
An optional JSON file next to the image, looked up as ``<image name>.json`` (``photo.jpg.json``) and
then ``<image stem>.json`` (``photo.json``)::

    {
      "object": "chair",                 # object label (string)
      "object_box": [x0, y0, x1, y1],    # object box, pixels
      "focal_px": 1200.0,                # focal length, pixels (> 0)
      "person_box": [x0, y0, x1, y1],    # box around the person to reconstruct, pixels
      "interaction": "sit"               # the interaction mode (hoirecon objects; default: chosen from the photo)
    }

All keys are optional; any other key is an error (to catch typos). Boxes are in pixel coordinates of
the image as stored after EXIF orientation (origin top-left, x right, y down, ``x0 < x1``,
``y0 < y1``); they are validated and clipped against the image with :func:`parse_box` by the caller.

Mask
----
:func:`load_mask` reads a PNG (any mode) at the image's size; nonzero pixels are the object (for
images with an alpha channel that is not fully opaque, alpha > 0).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from hoirecon.errors import InputError, first_line, shown
from hoirecon.types import Box, CameraIntrinsics, ImageInput

__all__ = [
    "DEFAULT_FOV_DEG",
    "MIN_SIDE_PX",
    "MAX_MEGAPIXELS",
    "Sidecar",
    "load_image",
    "read_sidecar",
    "parse_box",
    "load_mask",
    "intrinsics_from_fov",
    "focal_from_exif",
    "working_copy",
    "scale_box",
    "resize_mask",
    "WORKING_MAX_SIDE",
]

DEFAULT_FOV_DEG = 55.0
MIN_SIDE_PX = 32
MAX_MEGAPIXELS = 40.0
MIN_BOX_PX = 4.0
#: A box may overhang the image by this fraction of the image side (at least 2 px: rounding,
#: inclusive end coordinates) and is clipped; a box that leaves it by more is an error (it usually
#: means coordinates of another image: before EXIF rotation, or resized).
BOX_TOLERANCE = 0.01
MAX_SIDECAR_BYTES = 1_000_000
MAX_SIDECAR_DEPTH = 32
MAX_LABEL_CHARS = 200
#: Working copy: perception and fitting run on the photo downscaled so that its longer side is at
#: most this many pixels (``working_copy``); chosen by measurement (README, "Phone-size photos").
WORKING_MAX_SIDE = 1280

# EXIF tags (Exif sub-IFD 0x8769).
_EXIF_IFD = 0x8769
_TAG_FOCAL_LENGTH = 0x920A
_TAG_FOCAL_35MM = 0xA405
_TAG_FP_XRES = 0xA20E
_TAG_FP_UNIT = 0xA210
_TAG_EXIF_WIDTH = 0xA002
_TAG_EXIF_HEIGHT = 0xA003
# FocalPlaneResolutionUnit -> millimetres per unit.
_UNIT_MM = {2: 25.4, 3: 10.0, 4: 1.0, 5: 1e-3}
_FOV_SANE_DEG = (5.0, 150.0)


# --------------------------------------------------------------------------------------------- image


def intrinsics_from_fov(width: int, height: int, fov_deg: float = DEFAULT_FOV_DEG) -> CameraIntrinsics:
    """Intrinsics for a field of view ``fov_deg`` measured along the longer image side."""
    if not (0.0 < fov_deg < 180.0) or not math.isfinite(fov_deg):
        raise InputError(f"field of view must be between 0 and 180 degrees, got {fov_deg}")
    f = 0.5 * max(width, height) / math.tan(math.radians(fov_deg) / 2.0)
    return CameraIntrinsics(f, f, width / 2.0, height / 2.0, int(width), int(height), "default_fov")


def _fov_of(f_px: float, long_side: int) -> float:
    return math.degrees(2.0 * math.atan(0.5 * long_side / f_px))


def _num(v: Any) -> float | None:
    """EXIF rational/int/tuple -> float, or None."""
    try:
        if isinstance(v, tuple) and len(v) == 2:  # old-style (num, den)
            return float(v[0]) / float(v[1]) if float(v[1]) != 0 else None
        x = float(v)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return x if math.isfinite(x) else None


def focal_from_exif(exif: Image.Exif | None, width: int, height: int) -> float | None:
    """Focal length in pixels from EXIF (for the stored, orientation-corrected ``width x height``
    image), or None if absent or implausible."""
    if exif is None:
        return None
    try:
        sub = dict(exif.get_ifd(_EXIF_IFD))
    except Exception:  # noqa: BLE001 - broken EXIF blocks must not stop us
        sub = {}
    tags: dict[int, Any] = {}
    try:
        tags.update({k: v for k, v in exif.items()})
    except Exception:  # noqa: BLE001
        pass
    tags.update(sub)
    long_side = max(width, height)

    def sane(f: float | None) -> bool:
        return f is not None and f > 0 and _FOV_SANE_DEG[0] <= _fov_of(f, long_side) <= _FOV_SANE_DEG[1]

    f35 = _num(tags.get(_TAG_FOCAL_35MM))
    if f35 is not None and f35 > 0:
        f = f35 / 36.0 * long_side
        if sane(f):
            return f

    f_mm = _num(tags.get(_TAG_FOCAL_LENGTH))
    xres = _num(tags.get(_TAG_FP_XRES))
    unit = tags.get(_TAG_FP_UNIT, 2)  # EXIF default unit: inch
    try:
        mm_per_unit = _UNIT_MM.get(int(unit))
    except (TypeError, ValueError):
        mm_per_unit = None
    if f_mm and f_mm > 0 and xres and xres > 0 and mm_per_unit:
        f = f_mm * xres / mm_per_unit  # pixels of the sensor-resolution image
        # FocalPlaneXResolution refers to the camera's original image; rescale if it was resized.
        ew, eh = _num(tags.get(_TAG_EXIF_WIDTH)), _num(tags.get(_TAG_EXIF_HEIGHT))
        if ew and eh and ew > 0 and eh > 0:
            f *= long_side / max(ew, eh)
        if sane(f):
            return f
    return None


def _to_rgb_uint8(img: Image.Image) -> np.ndarray:
    """Any Pillow image -> (H, W, 3) uint8 RGB; alpha composited over white."""
    mode = img.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        a = np.asarray(img).astype(np.float64)
        if mode.startswith("I;16"):
            a = a / 257.0
        elif mode == "F":
            hi = float(np.nanmax(a)) if a.size else 0.0
            a = a * 255.0 if hi <= 1.0 else a
        else:  # 32-bit int: 16-bit data is usually stored like this by older Pillow
            hi = float(a.max()) if a.size else 0.0
            a = a / 257.0 if hi > 255 and hi <= 65535 else (a * (255.0 / hi) if hi > 65535 else a)
        g = np.clip(np.nan_to_num(a), 0, 255).round().astype(np.uint8)
        return np.ascontiguousarray(np.repeat(g[:, :, None], 3, axis=2))
    if mode == "P" and "transparency" in img.info:
        img = img.convert("RGBA")
        mode = "RGBA"
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, rgba)
    if img.mode != "RGB":
        img = img.convert("RGB")
    return np.ascontiguousarray(np.asarray(img, dtype=np.uint8))


def load_image(
    path: str | os.PathLike[str],
    *,
    fov_deg: float = DEFAULT_FOV_DEG,
    focal_px: float | None = None,
) -> ImageInput:
    """Read the photo at ``path`` as RGB uint8 with EXIF orientation applied, plus its intrinsics.

    Raises :class:`InputError` (naming the file) for a missing/unreadable/corrupt/truncated file,
    an image smaller than ``MIN_SIDE_PX`` on a side or larger than ``MAX_MEGAPIXELS``.
    """
    p = Path(path)
    where = shown(p)
    if not p.exists():
        raise InputError(f"{where}: file not found")
    if p.is_dir():
        raise InputError(f"{where}: is a folder, not an image file")
    if p.stat().st_size == 0:
        raise InputError(f"{where}: file is empty")
    if focal_px is not None and not (isinstance(focal_px, (int, float)) and math.isfinite(focal_px) and focal_px > 0):
        raise InputError(f"{where}: focal length must be a positive number of pixels, got {shown(focal_px)}")
    try:
        with Image.open(p) as img:
            w0, h0 = img.size
            if w0 * h0 > MAX_MEGAPIXELS * 1e6:
                raise InputError(
                    f"{where}: image is too large ({w0}x{h0} = {w0 * h0 / 1e6:.1f} megapixels, "
                    f"limit {MAX_MEGAPIXELS:g}); downscale it first"
                )
            img.load()  # force decoding: catches truncated/corrupt data now
            exif = img.getexif()
            img = ImageOps.exif_transpose(img)
            rgb = _to_rgb_uint8(img)
    except InputError:
        raise
    except (UnidentifiedImageError, ImportError):
        # ImportError: some packages (ultralytics) wrap Image.open with optional-format plugins that are
        # imported only when Pillow itself fails to identify the file.
        raise InputError(f"{where}: not an image file (or an image format that cannot be read)") from None
    except Image.DecompressionBombError as e:
        raise InputError(f"{where}: image is too large ({e})") from None
    except PermissionError:
        raise InputError(f"{where}: permission denied") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        msg = shown(first_line(e), 120)
        raise InputError(f"{where}: image file is corrupt or truncated ({msg})") from None

    h, w = rgb.shape[:2]
    if min(w, h) < MIN_SIDE_PX:
        raise InputError(f"{where}: image is too small ({w}x{h}; each side must be at least {MIN_SIDE_PX} px)")

    if focal_px is not None:
        f, source = float(focal_px), "user"
    else:
        f_exif = focal_from_exif(exif, w, h)
        if f_exif is not None:
            f, source = f_exif, "exif"
        else:
            cam = intrinsics_from_fov(w, h, fov_deg)
            f, source = cam.fx, "default_fov"
    camera = CameraIntrinsics(f, f, w / 2.0, h / 2.0, w, h, source)
    return ImageInput(path=p, rgb=rgb, camera=camera)


def working_copy(image: ImageInput, max_side: int | None = WORKING_MAX_SIDE) -> ImageInput:
    """The photo downscaled so that its longer side is at most ``max_side`` pixels (Lanczos), with the
    intrinsics scaled by the same factor ``s = new long side / old long side`` (a pinhole camera
    with ``f * s`` sees the same metric scene). ``original_size`` keeps the photo's own size, so
    that results can be expressed for it (``ImageInput.scale``). A photo within the cap, or
    ``max_side=None``, is returned as it is (with ``original_size`` set)."""
    w, h = image.width, image.height
    long_side = max(w, h)
    if max_side is None or long_side <= max_side:
        return dataclasses.replace(image, original_size=(w, h))
    s = float(max_side) / float(long_side)
    nw, nh = (max_side, max(1, round(h * s))) if w >= h else (max(1, round(w * s)), max_side)
    rgb = np.asarray(Image.fromarray(image.rgb).resize((nw, nh), Image.Resampling.LANCZOS, reducing_gap=3.0))
    cam = image.camera
    camera = CameraIntrinsics(cam.fx * s, cam.fy * s, nw / 2.0, nh / 2.0, nw, nh, cam.source)
    return ImageInput(path=image.path, rgb=np.ascontiguousarray(rgb), camera=camera, original_size=(w, h))


def scale_box(box: Box, s: float) -> Box:
    """A pixel box multiplied by ``s`` (original -> working pixels with ``s = image.scale``)."""
    return Box(box.x0 * s, box.y0 * s, box.x1 * s, box.y1 * s)


def resize_mask(mask: np.ndarray, width: int, height: int) -> np.ndarray:
    """(H, W) bool -> (height, width) bool by area averaging (a pixel is in when at least half of the
    area it covers is); a mask that would vanish keeps its nearest-neighbour version."""
    if mask.shape == (height, width):
        return mask
    a = Image.fromarray(mask.astype(np.uint8) * 255).resize((width, height), Image.Resampling.BOX)
    out = np.asarray(a) >= 128
    if not out.any() and mask.any():
        out = np.asarray(Image.fromarray(mask.astype(np.uint8) * 255).resize((width, height), Image.Resampling.NEAREST)) > 0
        if not out.any():
            ys, xs = np.nonzero(mask)
            out = np.zeros((height, width), bool)
            out[min(height - 1, int(ys.mean() * height / mask.shape[0])), min(width - 1, int(xs.mean() * width / mask.shape[1]))] = True
    return np.ascontiguousarray(out)


# ------------------------------------------------------------------------------------------- sidecar


@dataclass(frozen=True)
class Sidecar:
    """Contents of an image's sidecar JSON (see the module docstring). Boxes are raw
    ``(x0, y0, x1, y1)`` pixel tuples, not yet checked against the image (use :func:`parse_box`)."""

    path: Path
    object: str | None = None
    object_box: tuple[float, float, float, float] | None = None
    focal_px: float | None = None
    person_box: tuple[float, float, float, float] | None = None
    interaction: str | None = None


_SIDECAR_KEYS = ("object", "object_box", "focal_px", "person_box", "interaction")


def sidecar_candidates(image_path: str | os.PathLike[str]) -> list[Path]:
    """Where the sidecar of ``image_path`` is looked for, in order."""
    p = Path(image_path)
    out = [p.with_name(p.name + ".json")]
    if p.suffix:
        out.append(p.with_suffix(".json"))
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def read_sidecar(image_path: str | os.PathLike[str]) -> Sidecar | None:
    """Read ``<image>.json`` or else ``<stem>.json`` next to the image; None if neither exists."""
    for cand in sidecar_candidates(image_path):
        if cand.is_file():
            return _parse_sidecar(cand)
    return None


def _json_depth_ok(text: str, limit: int) -> bool:
    """False when brackets nest deeper than ``limit`` (counted outside strings, no parsing)."""
    depth, in_str, esc = 0, False, False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def _parse_sidecar(path: Path) -> Sidecar:
    where = shown(path)
    try:
        size = path.stat().st_size
        if size > MAX_SIDECAR_BYTES:
            raise InputError(f"{where}: sidecar is {size} bytes; a sidecar is a small JSON object (limit {MAX_SIDECAR_BYTES})")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{where}: sidecar is not UTF-8 text") from None
    except OSError as e:
        raise InputError(f"{where}: cannot read sidecar ({e.strerror or type(e).__name__})") from None
    if not _json_depth_ok(text, MAX_SIDECAR_DEPTH):
        raise InputError(f"{where}: sidecar JSON nests deeper than {MAX_SIDECAR_DEPTH} levels")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{where}: sidecar is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    if not isinstance(data, dict):
        raise InputError(f"{where}: sidecar must be a JSON object, got {type(data).__name__}")
    unknown = sorted(set(data) - set(_SIDECAR_KEYS))
    if unknown:
        raise InputError(f"{where}: unknown sidecar key(s) {shown(unknown)}; allowed: {list(_SIDECAR_KEYS)}")

    label = data.get("object")
    if label is not None and (not isinstance(label, str) or not label.strip()):
        raise InputError(f'{where}: "object" must be a non-empty string, got {shown(label)}')
    if isinstance(label, str) and len(label.strip()) > MAX_LABEL_CHARS:
        raise InputError(f'{where}: "object" is {len(label.strip())} characters long (limit {MAX_LABEL_CHARS})')

    def box(key: str) -> tuple[float, float, float, float] | None:
        v = data.get(key)
        if v is None:
            return None
        if not (isinstance(v, list) and len(v) == 4 and all(_is_number(x) for x in v)):
            raise InputError(f'{where}: "{key}" must be a list of 4 numbers [x0, y0, x1, y1], got {shown(v)}')
        x0, y0, x1, y1 = (float(x) for x in v)
        if x1 <= x0 or y1 <= y0:
            raise InputError(f'{where}: "{key}" needs x0 < x1 and y0 < y1, got {shown(v)}')
        return (x0, y0, x1, y1)

    inter = data.get("interaction")
    if inter is not None and (not isinstance(inter, str) or not inter.strip() or len(inter) > MAX_LABEL_CHARS):
        raise InputError(f'{where}: "interaction" must be a mode name such as "sit" (hoirecon objects), got {shown(inter)}')
    focal = data.get("focal_px")
    if focal is not None and not (_is_number(focal) and focal > 0):
        raise InputError(f'{where}: "focal_px" must be a positive number, got {shown(focal)}')

    return Sidecar(
        path=path,
        object=label.strip() if isinstance(label, str) else None,
        object_box=box("object_box"),
        focal_px=float(focal) if focal is not None else None,
        person_box=box("person_box"),
        interaction=inter.strip() if isinstance(inter, str) else None,
    )


# ----------------------------------------------------------------------------------------- box, mask


_NUM_SPLIT = re.compile(r"[,\s]+")


def parse_box(
    text_or_list: str | Sequence[float] | Box,
    width: int,
    height: int,
    what: str = "--object-box",
) -> Box:
    """``"x0,y0,x1,y1"`` (commas and/or spaces) or 4 numbers -> :class:`Box` inside the image.

    Raises :class:`InputError` naming ``what`` when the value is not 4 finite numbers, when
    x1 <= x0 or y1 <= y0, when the box leaves the ``width x height`` image by more than
    ``BOX_TOLERANCE`` of its side (at least 2 px; a smaller overhang is clipped), or when the box is
    smaller than 4 px on a side.
    """
    if isinstance(text_or_list, Box):
        vals: list[Any] = text_or_list.as_list()
    elif isinstance(text_or_list, str):
        parts = [t for t in _NUM_SPLIT.split(text_or_list.strip().strip("[]()")) if t]
        try:
            vals = [float(t) for t in parts]
        except ValueError:
            raise InputError(f"{what}: expected 4 numbers x0,y0,x1,y1, got {shown(text_or_list)}") from None
    else:
        try:
            vals = list(text_or_list)
        except TypeError:
            raise InputError(f"{what}: expected 4 numbers x0,y0,x1,y1, got {shown(text_or_list)}") from None
    if len(vals) != 4 or not all(
        isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(float(v))
        for v in vals
    ):
        raise InputError(f"{what}: expected 4 numbers x0,y0,x1,y1, got {shown(text_or_list)}")
    x0, y0, x1, y1 = (float(v) for v in vals)
    if x1 <= x0 or y1 <= y0:
        raise InputError(f"{what}: need x0 < x1 and y0 < y1, got [{x0:g}, {y0:g}, {x1:g}, {y1:g}]")
    cx0, cy0 = min(max(x0, 0.0), float(width)), min(max(y0, 0.0), float(height))
    cx1, cy1 = min(max(x1, 0.0), float(width)), min(max(y1, 0.0), float(height))
    if cx1 <= cx0 or cy1 <= cy0:
        raise InputError(
            f"{what}: box [{x0:g}, {y0:g}, {x1:g}, {y1:g}] is entirely outside the {width}x{height} image"
        )
    tx, ty = max(2.0, BOX_TOLERANCE * width), max(2.0, BOX_TOLERANCE * height)
    if x0 < -tx or y0 < -ty or x1 > width + tx or y1 > height + ty:
        raise InputError(
            f"{what}: box [{x0:g}, {y0:g}, {x1:g}, {y1:g}] leaves the {width}x{height} image "
            "(pixel coordinates of the image as stored, after EXIF orientation)"
        )
    if cx1 - cx0 < MIN_BOX_PX or cy1 - cy0 < MIN_BOX_PX:
        raise InputError(
            f"{what}: box [{x0:g}, {y0:g}, {x1:g}, {y1:g}] is smaller than {MIN_BOX_PX:g} px inside the image"
        )
    return Box(cx0, cy0, cx1, cy1)


def load_mask(path: str | os.PathLike[str], width: int, height: int) -> np.ndarray:
    """Read an object mask image (PNG) -> (height, width) bool, nonzero = object."""
    p = Path(path)
    where = shown(p)
    if not p.is_file():
        raise InputError(f"{where}: mask file not found")
    try:
        with Image.open(p) as img:
            mw0, mh0 = img.size
            if (mw0, mh0) != (int(width), int(height)):  # before decoding: a huge mask costs nothing
                raise InputError(f"{where}: mask is {mw0}x{mh0} but the image is {int(width)}x{int(height)}")
            img.load()
            if img.mode == "P":
                img = img.convert("RGBA")
            a = np.asarray(img)
    except InputError:
        raise
    except (UnidentifiedImageError, ImportError):
        raise InputError(f"{where}: mask is not an image file") from None
    except Image.DecompressionBombError:
        raise InputError(f"{where}: mask image is far too large (decompression bomb check)") from None
    except PermissionError:
        raise InputError(f"{where}: permission denied") from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise InputError(f"{where}: mask file is corrupt or truncated ({shown(first_line(e), 120)})") from None
    if a.ndim == 3:
        if a.shape[2] in (2, 4) and a[..., -1].min() < a[..., -1].max():
            m = a[..., -1] > 0  # alpha carries the mask
        else:
            c = a[..., :3] if a.shape[2] >= 3 else a[..., :1]
            m = np.any(c != 0, axis=2)
    else:
        m = a != 0
    if not m.any():
        raise InputError(f"{where}: mask is empty (no nonzero pixels)")
    return np.ascontiguousarray(m.astype(bool))
