"""Body stage: body models behind one interface (:mod:`hoirecon.body.model`) and landmark fitting."""

from __future__ import annotations

import os
from typing import Any

import torch

BODY_MODELS = ("anny", "smplx")


def load_body_model(name: str = "anny", *, device: str | torch.device = "cpu", gender: str = "neutral",
                    smplx_dir: str | os.PathLike[str] | None = None):  # fmt: skip
    """Construct a body model by name: ``anny`` (free, default) or ``smplx`` (needs SMPL-X files)."""
    from hoirecon.errors import InputError

    if name == "anny":
        from hoirecon.body.anny_model import AnnyBody

        return AnnyBody(device=device)
    if name == "smplx":
        from hoirecon.body.smplx_model import SMPLXBody

        return SMPLXBody(gender=gender, smplx_dir=smplx_dir, device=device)
    raise InputError(f"unknown body model '{name}'; available: {', '.join(BODY_MODELS)}")


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
