"""Settings of the gravity and floor stage (``PipelineConfig.ground``, ``config.json``: ``ground``).

Every spread is the standard deviation, in degrees, of one witness's error about the up direction: a
witness with a smaller spread counts more (:func:`hoirecon.ground.gravity.fuse`). They are stated, not
fitted: the camera prior from how people hold cameras (roll and pitch rarely beyond 15 degrees), the body
witnesses from how far a standing person's legs, a seated person's shins and thighs depart from vertical
and horizontal (anatomical ranges), the image lines from the angular accuracy of a segment's endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GroundConfig:
    """Gravity and floor estimation (:mod:`hoirecon.ground`)."""

    enabled: bool = True  # False: no gravity, no floor (the fit's upright prior uses the camera's -y)
    # the witnesses fused (hoirecon.ground.GRAVITY_WITNESSES)
    witnesses: tuple[str, ...] = ("camera_prior", "image_lines", "body")
    camera_prior_deg: float = 15.0  # the camera's own up (-y): photos are taken roughly level
    line_deg: float = 2.0  # one full-weight segment (a quarter of the image diagonal long)
    line_robust_deg: float = 3.0  # Cauchy scale of the segments' residuals (not every kept segment is vertical)
    standing_legs_deg: float = 6.0  # mid-ankle -> mid-hip of a standing person
    standing_torso_deg: float = 12.0  # mid-hip -> mid-shoulder of a standing person (people lean)
    seated_shin_deg: float = 15.0  # ankle -> knee of a seated person
    seated_thigh_deg: float = 15.0  # hip -> knee of a seated person: horizontal
    torso_deg: float = 25.0  # any other posture whose torso is within `upright_max_deg` of the camera's up
    lying_deg: float = 20.0  # a lying body's axis: horizontal
    upright_max_deg: float = 50.0  # a body axis further than this from the camera's up is not upright
    # The body fit's gravity phase (hoirecon.body.fit.refine_with_gravity)
    refine_steps: int = 60
    refine_lr: float = 0.01
    w_torso_up: float = 0.2  # per (1 - cos) of the torso's tilt from gravity, in units of its spread's
    w_unseen_limbs: float = 0.2  # per (1 - cos) of each unseen leg or arm segment from the posture's template
    # The floor: the scale of the robust functions that hold each support to the shared plane (far
    # supports, such as a jumping person's feet, are not pulled); body soles are the foot vertices this
    # close to the lowest one
    floor_robust_m: float = 0.08
    sole_band_m: float = 0.02
