"""The frame the mesh files are written in: ``world`` (default) or ``camera``.

``camera``: the camera frame turned 180 degrees about x, glTF's +Y up with the photo's camera at the
origin looking down -Z (what every export was before ``--frame``).

``world``: a frame that stands on the floor, in glTF's convention (+Y up, metres; Blender shows it
+Z up), built from the fit's own estimates, no second estimator:

* +Y is gravity's up (``Reconstruction.gravity.up``, the ground stage's estimate), or the camera's up
  when the ground stage was off;
* the origin is on the floor under the pelvis: on the fitted floor plane (``FitResult.floor``) when
  the fit has one, else on the plane through the lowest body vertex along up;
* +Z is the way the person faces, made horizontal (the hips' and shoulders' left-right axis crossed
  with up), so Blender's front view (looking along +Y, i.e. at glTF +Z) shows the person's front; the
  camera's view direction when the body gives none.

``params.json`` keeps every parameter in the camera frame and records ``frames.camera_to_export``,
the (4, 4) transform the meshes (and the ``photo_camera`` node) went through.
"""

from __future__ import annotations

import numpy as np

from hoirecon.geometry.frames import CAMERA_TO_GLTF, body_forward, world_from_camera

__all__ = ["FRAMES", "export_transform"]

FRAMES = ("world", "camera")


def export_transform(recon, frame: str = "world") -> np.ndarray:
    """(4, 4) float64 camera frame -> the frame the files are written in (module docstring)."""
    if frame == "camera":
        return CAMERA_TO_GLTF.copy()
    if frame != "world":
        raise ValueError(f"unknown export frame '{frame}' (have: {', '.join(FRAMES)})")
    gravity = getattr(recon, "gravity", None)
    up = np.asarray(gravity.up, np.float64) if gravity is not None else np.array([0.0, -1.0, 0.0])
    up = up / np.linalg.norm(up)
    body = recon.fit.body
    v = np.asarray(body.vertices, np.float64)
    names = list(getattr(body, "keypoint_names", ()) or ())
    kp = np.asarray(getattr(body, "keypoints3d", np.zeros((0, 3))), np.float64)
    if {"left_hip", "right_hip"} <= set(names) and len(kp) == len(names):
        centre = 0.5 * (kp[names.index("left_hip")] + kp[names.index("right_hip")])  # the pelvis
    else:
        centre = v.mean(0)
    floor = getattr(recon.fit, "floor", None)
    if floor is not None:
        n = np.asarray(floor.normal, np.float64)
        n = n / np.linalg.norm(n)
        origin = centre - (float(centre @ n) - float(floor.height_m)) * n
        up = n
    else:
        origin = centre - (float(centre @ up) - float((v @ up).min())) * up
    return world_from_camera(up, origin, body_forward(names, kp, up))
