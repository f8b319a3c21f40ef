"""Instance detection / segmentation with an Ultralytics YOLO checkpoint, fully offline.

``YoloSegmenter(weights).detect(image)`` returns one :class:`~hoirecon.types.Instance` per detection:
the class name, the box in original-image pixels, the score, and for a segmentation model (``*-seg``)
an (H, W) bool mask at the image's resolution (``None`` for a detect-only or pose model).

Offline guarantees (nothing is ever downloaded):

* ``YOLO_OFFLINE=1`` is set (unless already set) before ``ultralytics`` is first imported, which skips
  its DNS "am I online" probe; the anonymous usage analytics that ``predict`` would send are switched
  off on the in-memory ``ultralytics.utils.events.events`` object (the settings file is not touched).
* ``weights`` must be an existing local ``.pt`` file (or a ``.yaml`` model config: a local file, or a bare
  name of a config shipped inside ultralytics such as ``"yolo11n-seg.yaml"``: an untrained model, for
  tests). Ultralytics would otherwise fetch a missing ``yolo11n-seg.pt`` from GitHub, or rename
  ``yolov5s.pt`` to ``yolov5su.pt`` and fetch that; both are refused with :class:`MissingModelError`.
* While loading, ultralytics' download functions are replaced by ones that raise, as a second line of
  defence.
* Nothing is plotted or shown, so no font (``Arial.ttf``) is fetched and no window is opened.

Checkpoint security: ultralytics checkpoints are pickles of whole ``nn.Module`` objects. By default they
are loaded with ultralytics' *restricted* loader (``torch.load(weights_only=True)`` plus an allow-list
of torch / ultralytics model classes), so a checkpoint referencing anything else is refused instead of
executed. ``restricted_load=False`` (or an ultralytics too old for restricted loading; see
``YoloSegmenter.loaded_restricted``) uses ultralytics' ordinary ``weights_only=False`` load, which can
run arbitrary code. Either way: only pass checkpoints from the model registry (hash-checked) or the
user's own files.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from hoirecon.errors import InputError, MissingModelError
from hoirecon.types import Box, ImageInput, Instance

__all__ = ["YoloSegmenter", "coco_names", "offline_ultralytics", "restricted_load_supported"]

# Before anything imports ultralytics (which reads it once, at import): skip its DNS "am I online" probe.
os.environ.setdefault("YOLO_OFFLINE", "1")

_LOCK = threading.RLock()  # guards the temporary patches of ultralytics module globals while loading
_MASK_CHUNK = 16  # masks rescaled to the image per batch (bounds memory for big images / many masks)


def offline_ultralytics():
    """Import ultralytics with its network features off and return the module. Use this (or import this
    module first) instead of a bare ``import ultralytics``."""
    os.environ.setdefault("YOLO_OFFLINE", "1")  # read once, at ultralytics' first import
    # ultralytics sets OMP_NUM_THREADS=1 at import unless it is set, and its import starts torch's thread
    # pool, which would leave the body and object fits on one core: hold torch's count while importing.
    omp = os.environ.get("OMP_NUM_THREADS")
    if not omp:
        import torch

        os.environ["OMP_NUM_THREADS"] = str(torch.get_num_threads())
    try:
        import ultralytics
    finally:
        if not omp:
            os.environ.pop("OMP_NUM_THREADS", None)
    from ultralytics.utils import events

    events.events.enabled = False  # no analytics POST after predict (even if imported earlier, online)
    return ultralytics


def coco_names() -> dict[int, str]:
    """The 80 COCO class names (index -> name) from the dataset config shipped inside ultralytics."""
    offline_ultralytics()
    from ultralytics.utils import ROOT, YAML

    names = YAML.load(ROOT / "cfg" / "datasets" / "coco.yaml")["names"]
    return {int(k): str(v) for k, v in names.items()}


def _refuse_download(*args: Any, **kwargs: Any):
    raise MissingModelError("hoirecon never downloads model files; pass a local weights file")


def restricted_load_supported() -> bool:
    """Whether the installed ultralytics can load checkpoints weights_only (``_SafeLoad``, 8.4+ on torch 2.6+)."""
    import ultralytics.nn.tasks as tasks

    safe = getattr(tasks, "_SafeLoad", None)
    return hasattr(tasks, "SAFE_LOAD") and bool(getattr(safe, "SUPPORTED", False))


@contextlib.contextmanager
def _no_downloads(restricted: bool) -> Iterator[None]:
    """Within: ultralytics cannot download and (if ``restricted``) loads checkpoints weights_only."""
    import ultralytics.nn.tasks as tasks
    from ultralytics.utils import downloads

    patches = [
        (downloads, name, _refuse_download)
        for name in ("safe_download", "get_github_assets")
        if hasattr(downloads, name)
    ]
    if restricted:
        patches.append((tasks, "SAFE_LOAD", True))
    with _LOCK:
        saved = [(mod, name, getattr(mod, name)) for mod, name, _ in patches]
        try:
            for mod, name, value in patches:
                setattr(mod, name, value)
            yield
        finally:
            for mod, name, value in saved:
                setattr(mod, name, value)


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    text = text.replace("ERROR ❌️", "").strip()
    text = text[:200] + ("..." if len(text) > 200 else "")
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def _resolve_weights(weights: str | Path) -> tuple[str, Path]:
    """-> (what to pass to ``YOLO``, path used for names). Raises MissingModelError."""
    text = str(weights).strip()
    if "://" in text:
        raise MissingModelError(f"YOLO weights must be a local file, not a URL: {text}")
    path = Path(text).expanduser()
    suffix = path.suffix.lower()
    if suffix not in (".pt", ".yaml", ".yml"):
        raise MissingModelError(f"YOLO weights {path} must be a .pt checkpoint (or a .yaml model config)")
    if path.is_file():
        resolved = str(path.resolve())
        if suffix == ".pt":
            from ultralytics.utils.checks import check_yolov5u_filename

            if check_yolov5u_filename(resolved, verbose=False) != resolved:
                raise MissingModelError(
                    f"YOLO weights {path}: ultralytics renames legacy YOLOv5/v3 '.pt' names (and would "
                    "download the 'u' variant); rename the file"
                )
        return resolved, path
    if suffix != ".pt" and path.name == text:  # bare name of a config shipped with ultralytics
        return text, path
    raise MissingModelError(f"YOLO weights file not found: {path}")


class YoloSegmenter:
    """Ultralytics YOLO detector / instance segmenter (see the module docstring for offline & security notes).

    weights: local ``.pt`` checkpoint (``.yaml`` config = untrained model, for tests).
    device: torch device string (``"cpu"``, ``"cuda"``, ``"cuda:0"``). conf: score threshold.
    imgsz: inference size (long side, px). weights_name / sha256: recorded in ``Instance.weights``
    (default: the file name and ``""``). restricted_load: see the module docstring.
    """

    def __init__(
        self,
        weights: str | Path,
        *,
        device: str = "cpu",
        conf: float = 0.25,
        imgsz: int = 640,
        weights_name: str | None = None,
        sha256: str | None = None,
        restricted_load: bool = True,
    ) -> None:
        offline_ultralytics()
        target, path = _resolve_weights(weights)
        from ultralytics import YOLO

        restricted = bool(restricted_load) and restricted_load_supported()
        try:
            with _no_downloads(restricted):
                model = YOLO(target)
        except MissingModelError as e:
            raise MissingModelError(f"YOLO weights {path} could not be loaded: {e}") from None
        except Exception as e:  # ultralytics raises TypeError/KeyError/... for foreign or damaged files
            raise MissingModelError(f"YOLO weights {path} could not be loaded ({_one_line(e)})") from None
        if model.task not in ("segment", "detect", "pose"):
            raise MissingModelError(f"YOLO weights {path} are a '{model.task}' model, not detection/segmentation")

        if path.suffix.lower() != ".pt":  # untrained from a config: the shipped configs are COCO's 80 classes
            names = getattr(model.model, "names", None) or {}
            if len(names) == 80 and all(str(v) == str(k) for k, v in dict(names).items()):
                model.model.names = coco_names()

        self._model = model
        self._path = path
        self.loaded_restricted = restricted and path.suffix.lower() == ".pt"
        self.device = str(device)
        self.conf = float(conf)
        self.imgsz = int(imgsz)
        self.backend = f"yolo:{path.name}"
        self.weights: Mapping[str, str] = {"name": weights_name or path.name, "sha256": sha256 or ""}

    @property
    def class_names(self) -> tuple[str, ...]:
        """Class names in class-index order."""
        names = self._model.names
        return tuple(str(names[i]) for i in sorted(names))

    @property
    def task(self) -> str:
        """``"segment"`` (masks), ``"detect"`` or ``"pose"`` (boxes only)."""
        return str(self._model.task)

    @property
    def has_masks(self) -> bool:
        return self.task == "segment"

    def detect(self, image: ImageInput) -> list[Instance]:
        """All instances scoring at least ``conf``, best first."""
        rgb = image.rgb
        if not (isinstance(rgb, np.ndarray) and rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8):
            raise InputError("image.rgb must be an (H, W, 3) uint8 array")
        H, W = rgb.shape[:2]
        bgr = np.ascontiguousarray(rgb[..., ::-1])  # ultralytics takes numpy images as BGR (OpenCV order)
        results = self._model.predict(
            bgr,
            conf=self.conf,
            imgsz=self.imgsz,
            device=self.device,
            verbose=False,
            save=False,
            show=False,
            retina_masks=False,
        )
        res = results[0]
        if res.boxes is None or len(res.boxes) == 0:
            return []
        xyxy = res.boxes.xyxy.detach().cpu().numpy().astype(np.float64)
        scores = res.boxes.conf.detach().cpu().numpy().astype(np.float64)
        classes = res.boxes.cls.detach().cpu().numpy().astype(np.int64)
        masks = self._full_res_masks(res.masks.data, (H, W)) if res.masks is not None else None

        names = self._model.names
        out: list[Instance] = []
        for i in range(len(xyxy)):
            x0, y0, x1, y1 = (float(v) for v in xyxy[i])
            x0, x1 = min(max(x0, 0.0), W), min(max(x1, 0.0), W)
            y0, y1 = min(max(y0, 0.0), H), min(max(y1, 0.0), H)
            if not (x1 > x0 and y1 > y0):
                continue  # degenerate after clipping
            out.append(
                Instance(
                    label=str(names[int(classes[i])]),
                    box=Box(x0, y0, x1, y1),
                    score=float(min(max(scores[i], 0.0), 1.0)),
                    backend=self.backend,
                    mask=None if masks is None else masks[i],
                    weights=dict(self.weights),
                )
            )
        return out

    @staticmethod
    def _full_res_masks(data, shape: tuple[int, int]) -> np.ndarray:
        """(N, h, w) masks at the letterboxed inference size -> (N, H, W) bool at the original image size
        (padding removed, then bilinear resize and threshold at 0.5)."""
        from ultralytics.utils import ops

        H, W = shape
        n = int(data.shape[0])
        out = np.zeros((n, H, W), dtype=bool)
        for s in range(0, n, _MASK_CHUNK):
            chunk = data[s : s + _MASK_CHUNK].float()[:, None]  # (n, 1, h, w)
            scaled = ops.scale_masks(chunk, (H, W))  # letterbox-aware: crops the padding, resizes
            out[s : s + _MASK_CHUNK] = (scaled[:, 0] > 0.5).cpu().numpy()
        return out
