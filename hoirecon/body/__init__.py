"""Body stage: body models behind one interface (:mod:`hoirecon.body.model`), landmark fitting, and the
canonical open pose the contact renders use (:mod:`hoirecon.body.open_pose`)."""

from __future__ import annotations

import os
from typing import Any, Callable

import torch

from hoirecon.body.open_pose import open_pose, open_pose_vertices

__all__ = ["BODY_MODELS", "load_body_model", "body_model_status", "open_pose", "open_pose_vertices"]


def _anny(device, gender: str, smplx_dir):  # noqa: ARG001 - Anny has one model for every body
    from hoirecon.body.anny_model import AnnyBody

    return AnnyBody(device=device)


def _smplx(device, gender: str, smplx_dir):
    from hoirecon.body.smplx_model import SMPLXBody

    return SMPLXBody(gender=gender, smplx_dir=smplx_dir, device=device)


#: the body models by name: ``(device, gender, smplx_dir) -> BodyModel`` (each imports its package
#: only when called). A new body model: one module with a ``BodyModel`` and one entry here.
BODY_MODELS: dict[str, Callable[..., Any]] = {"anny": _anny, "smplx": _smplx}


def load_body_model(name: str = "anny", *, device: str | torch.device = "cpu", gender: str = "neutral",
                    smplx_dir: str | os.PathLike[str] | None = None):  # fmt: skip
    """Construct a body model by name (:data:`BODY_MODELS`): ``anny`` (free, default) or ``smplx``
    (needs SMPL-X files)."""
    from hoirecon.errors import InputError

    if name not in BODY_MODELS:
        raise InputError(f"unknown body model '{name}'; available: {', '.join(BODY_MODELS)}")
    return BODY_MODELS[name](device, gender, smplx_dir)


def body_model_status(smplx_dir: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """Which body models are usable, for ``hoirecon doctor``: name -> (usable, detail)."""
    import importlib.util

    from hoirecon.errors import MissingModelError

    status: dict[str, Any] = {}
    status["anny"] = (importlib.util.find_spec("anny") is not None, "Apache-2.0, data ships with the package")
    if importlib.util.find_spec("smplx") is None:
        status["smplx"] = (False, "the smplx package is not installed")
    else:
        from hoirecon.body.smplx_model import GENDERS, find_smplx_file

        found, missing = [], None
        for g in GENDERS:
            try:
                found.append(f"{g}: {find_smplx_file(g, smplx_dir)}")
            except MissingModelError as exc:
                missing = missing or str(exc)
        status["smplx"] = (bool(found), "; ".join(found) if found else missing)
    return status
