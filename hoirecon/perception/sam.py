"""Box-prompted mask refinement with Segment Anything (``segment_anything``), offline.

``SamRefiner(checkpoint).refine(image, box)`` -> (H, W) bool mask for the object in ``box``.

* The model is built with ``sam_model_registry[model_type](checkpoint=None)`` and the checkpoint's state
  dict is loaded by us with ``torch.load(path, map_location="cpu", weights_only=True)``: the
  ``segment_anything`` loader itself calls ``torch.load(f)`` without ``weights_only`` (arbitrary code
  execution from a crafted pickle on older torch), so it is never given the file.
* ``checkpoint=None``: an untrained (randomly initialised) model, for tests and timing.
* ``model=``: a prebuilt ``segment_anything.modeling.Sam`` (e.g. a tiny custom one for tests); if a
  checkpoint is also given, it is loaded into that model.
* The image embedding (the expensive part: a ViT over a 1024 x 1024 resize of the image) is cached: several
  boxes on the same image run the encoder once. The cache key is the image's shape plus a hash of its
  pixels, so a different image that happens to reuse an array's id is never confused with the old one.

Not thread-safe (one predictor state per instance).
"""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from hoirecon.errors import InputError, MissingModelError, first_line
from hoirecon.types import Box, ImageInput

__all__ = ["SamRefiner"]


def _load_state_dict(path: Path) -> Mapping[str, Any]:
    import torch

    if not path.is_file():
        raise MissingModelError(f"SAM checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # garbage bytes, truncated zip, a pickle with non-tensor globals, ...
        raise MissingModelError(
            f"SAM checkpoint {path} could not be read as a state dict ({type(e).__name__})"
        ) from None
    if isinstance(state, Mapping):
        for key in ("model", "state_dict"):  # tolerate {"model": state_dict} wrappers
            inner = state.get(key)
            if isinstance(inner, Mapping):
                state = inner
                break
    if not (isinstance(state, Mapping) and state and all(isinstance(v, torch.Tensor) for v in state.values())):
        raise MissingModelError(f"SAM checkpoint {path} is not a state dict of tensors")
    return state


class SamRefiner:
    """Segment Anything, prompted with one box at a time.

    checkpoint: local SAM state-dict file (``sam_vit_b_01ec64.pth`` etc.) or None (untrained).
    model_type: ``"vit_b"``, ``"vit_l"``, ``"vit_h"`` (``"default"`` = vit_h); with ``model=`` it is only
        used in the backend string. device: torch device string.
    weights_name / sha256: recorded in :attr:`weights` (``None`` when there is no checkpoint and no name).
    """

    def __init__(
        self,
        checkpoint: str | Path | None,
        *,
        model_type: str = "vit_b",
        device: str = "cpu",
        weights_name: str | None = None,
        sha256: str | None = None,
        model: Any = None,
    ) -> None:
        from segment_anything import SamPredictor, sam_model_registry

        path = None if checkpoint is None else Path(checkpoint).expanduser()
        if path is not None and "://" in str(checkpoint):
            raise MissingModelError(f"SAM checkpoint must be a local file, not a URL: {checkpoint}")
        if model is None:
            if model_type not in sam_model_registry:
                raise InputError(
                    f"unknown SAM model type {model_type!r} (one of {', '.join(sorted(sam_model_registry))})"
                )
            # Load the file first: a bad path fails fast, before building a large model.
            state = _load_state_dict(path) if path is not None else None
            model = sam_model_registry[model_type](checkpoint=None)  # never let it torch.load the file
        else:
            state = _load_state_dict(path) if path is not None else None
        if state is not None:
            try:
                model.load_state_dict(state)
            except RuntimeError as e:
                first = first_line(e)
                raise MissingModelError(
                    f"SAM checkpoint {path} does not fit SAM {model_type} ({first[:160]})"
                ) from None
        model.to(device)
        model.eval()

        self.model = model
        self.model_type = model_type
        self.device = str(device)
        self.backend = f"sam:{model_type}"
        name = weights_name or (path.name if path is not None else None)
        self.weights: Mapping[str, str] | None = (
            {"name": name, "sha256": sha256 or ""} if name is not None else None
        )
        self._predictor = SamPredictor(model)
        self._key: tuple | None = None
        self.encoder_runs = 0  # how many times the image encoder ran (set_image calls)

    @staticmethod
    def _image_key(rgb: np.ndarray) -> tuple:
        digest = hashlib.blake2b(np.ascontiguousarray(rgb).data, digest_size=16).hexdigest()
        return (rgb.shape, str(rgb.dtype), digest)

    def set_image(self, image: ImageInput) -> None:
        """Compute (or reuse) the image embedding for ``image``."""
        rgb = image.rgb
        if not (isinstance(rgb, np.ndarray) and rgb.ndim == 3 and rgb.shape[2] == 3 and rgb.dtype == np.uint8):
            raise InputError("image.rgb must be an (H, W, 3) uint8 array")
        key = self._image_key(rgb)
        if key != self._key or not self._predictor.is_image_set:
            self._key = None
            self._predictor.set_image(np.ascontiguousarray(rgb), image_format="RGB")
            self._key = key
            self.encoder_runs += 1

    def refine(self, image: ImageInput, box: Box) -> np.ndarray:
        """(H, W) bool mask of the object inside ``box`` (pixels; clipped to the image)."""
        H, W = image.rgb.shape[:2]
        coords = [box.x0, box.y0, box.x1, box.y1]
        if not all(math.isfinite(float(v)) for v in coords):
            raise InputError(f"box {box.as_list()} has non-finite coordinates")
        x0, x1 = min(max(float(box.x0), 0.0), W), min(max(float(box.x1), 0.0), W)
        y0, y1 = min(max(float(box.y0), 0.0), H), min(max(float(box.y1), 0.0), H)
        if not (x1 > x0 and y1 > y0):
            raise InputError(f"box {box.as_list()} is empty inside the {W}x{H} image")
        self.set_image(image)
        import torch

        with torch.inference_mode():
            masks, _, _ = self._predictor.predict(
                box=np.array([x0, y0, x1, y1], dtype=np.float32), multimask_output=False
            )
        return np.asarray(masks[0], dtype=bool)
