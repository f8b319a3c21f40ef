"""The fit-quality flags: thresholds from data/quality.json, the standing height of a crouching body."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from hoirecon.pipeline import standing_height
from hoirecon.quality import age_years, assess, height_band
from hoirecon.types import BodyState


def test_assess_marks_each_reason():
    good = {"silhouette_iou": 0.6, "contact_distance_m": 0.01}
    adult = {"phenotypes": {"age": 0.5}}
    assert assess(good, 1.75, adult)["status"] == "ok"
    q = assess({"silhouette_iou": 0.13, "contact_distance_m": 0.01}, 1.75, adult)
    assert q["status"] == "suspect" and "silhouette IoU 0.13" in q["reasons"][0]
    q = assess({"silhouette_iou": 0.6, "contact_distance_m": 0.39}, 1.75, adult)
    assert q["status"] == "suspect" and "39.0 cm" in q["reasons"][0]
    q = assess(good, 2.4, adult)
    assert q["status"] == "suspect" and "height" in q["reasons"][0]
    assert assess(good, 1.4, {"phenotypes": {"age": 0.1875}})["status"] == "ok"  # an 11-year-old
    assert assess(good, 1.2, {})["status"] == "suspect"  # no age (SMPL-X): an adult's band
    assert age_years({"phenotypes": {"age": 0.5}}) == 25 and height_band(None) == (1.40, 2.10)


def test_standing_height_ignores_the_pose(anny_body, rest_body):
    """A body with bent knees and hips is shorter as posed, not standing."""
    J = len(anny_body.pose_joints)
    pose = torch.zeros(J, 3)
    for name, angle in (("upperleg01.L", -1.4), ("upperleg01.R", -1.4), ("lowerleg01.L", 2.0), ("lowerleg01.R", 2.0)):
        pose[anny_body.pose_joints.index(name), 0] = angle
    with torch.no_grad():
        v = anny_body.forward(pose[None], anny_body.default_shape()[None]).vertices[0].numpy()
    state = BodyState(pose=pose.numpy(), shape=anny_body.default_shape().numpy(), orient=np.zeros(3, np.float32),
                      transl=np.zeros(3, np.float32))  # fmt: skip
    crouched = dataclasses.replace(rest_body, vertices=v.astype(np.float32), state=state)
    assert crouched.height_m < 0.85 * rest_body.height_m
    assert abs(standing_height(anny_body, crouched) - rest_body.height_m) < 0.03
    assert standing_height(anny_body, dataclasses.replace(crouched, state=None)) == crouched.height_m
