"""Gravity and the floor: where "down" is in the photo, and the plane that the person and the object stand on.

Entry points (the pipeline calls them in this order):

1. :func:`estimate_gravity` after the body fit: the up direction fused from the witnesses named in
   ``GroundConfig.witnesses`` (:data:`GRAVITY_WITNESSES`: the camera's own up as a weak prior, the
   image's vertical lines, what the body's posture says), with its standard error and confidence
   (:mod:`hoirecon.ground.gravity`);
2. :func:`body_prior`: what the body fit's gravity phase holds the body to (the torso's tilt, templates
   for the legs the photo does not show; ``hoirecon.body.fit.GravityPrior``);
3. :func:`ground_prior`: what the joint fit needs (gravity, which supports rest on the floor); the fit
   returns the floor (:class:`Floor`, :mod:`hoirecon.ground.floor`).

Frames and units: camera frame (x right, y down, z forward), metres, unit vectors; ``up`` points away
from the floor (about (0, -1, 0) for a level camera).
"""

from __future__ import annotations

import importlib
from typing import Any

from hoirecon.ground.config import GroundConfig

# Loaded on first use (PEP 562), so that ``hoirecon.config`` can import GroundConfig without torch.
_LAZY = {
    "BODY_SUPPORTS": "floor", "Floor": "floor", "GroundPrior": "floor",
    "Gravity": "gravity", "gravity_from_up": "gravity",
    "POSTURES": "posture", "Posture": "posture",
    "GRAVITY_WITNESSES": "stage", "body_prior": "stage", "estimate_gravity": "stage", "ground_prior": "stage",
    "keypoints_seen": "stage", "posture_templates": "stage",
}  # fmt: skip

__all__ = ["BODY_SUPPORTS", "Floor", "GRAVITY_WITNESSES", "Gravity", "GroundConfig", "GroundPrior", "POSTURES",
           "Posture", "body_prior", "estimate_gravity", "gravity_from_up", "ground_prior", "keypoints_seen",
           "posture_templates"]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"hoirecon.ground.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'hoirecon.ground' has no attribute {name!r}")
