"""Gravity and the floor (hoirecon.ground): the fusion, the posture rules, and the four behaviours the
issue names: a rolled camera recovered upright, a seated chair with every leg on the floor, standing
legs for a person whose legs are out of frame, a carried object left off the floor."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from hoirecon.ground import GroundConfig, GroundPrior, estimate_gravity, gravity_from_up, keypoints_seen
from hoirecon.ground.floor import sole_vertices, support_vertices
from hoirecon.ground.gravity import Witness, camera_witness, fuse
from hoirecon.ground.posture import classify_posture


def _rot(axis: str, deg: float) -> np.ndarray:
    c, s = math.cos(math.radians(deg)), math.sin(math.radians(deg))
    return {"x": np.array([[1, 0, 0], [0, c, -s], [0, s, c]]), "y": np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]]),
            "z": np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])}[axis]  # fmt: skip


def _angle(a, b) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    return math.degrees(math.acos(np.clip(a @ b / np.linalg.norm(a) / np.linalg.norm(b), -1, 1)))


def test_fuse_lines_against_camera_prior():
    """Interpretation planes of vertical segments pin up; the camera prior alone leaves it uncertain."""
    up = _rot("z", 14) @ _rot("x", -9) @ np.array([0.0, -1.0, 0.0])
    rng = np.random.default_rng(0)
    pts = rng.uniform([-2, -1, 3], [2, 1, 6], (12, 3))
    normals = np.cross(pts, pts + up)  # each plane holds a vertical segment through one point
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    lines = Witness("image_lines", perpendicular=normals, perpendicular_deg=np.full(12, 2.0), robust_deg=3.0)
    est, sigma = fuse([camera_witness(GroundConfig()), lines])
    assert _angle(est, up) < 0.3 and sigma < 4.0  # near-parallel segments: pitch is the weaker axis
    prior_only, sigma0 = fuse([camera_witness(GroundConfig())])
    assert _angle(prior_only, [0, -1, 0]) < 1e-3 and 14.0 < sigma0 < 16.0
    g = gravity_from_up(up)
    assert g.as_dict()["tilt_from_camera_up_deg"] == pytest.approx(_angle(up, [0, -1, 0]), abs=1e-3)


def _keypoints(anny_body, pose: torch.Tensor, R=np.eye(3), t=(0.0, 0.0, 3.0)) -> np.ndarray:
    with torch.no_grad():
        kp = anny_body.forward(pose[None], anny_body.default_shape()[None]).keypoints[0].numpy()
    return kp @ np.asarray(R).T + np.asarray(t)


def test_posture_rules(anny_body):
    from benchmarks.support.scenes import preset_pose

    K = len(_keypoints(anny_body, torch.zeros(len(anny_body.pose_joints), 3)))
    seen = np.ones(K, bool)
    standing = _keypoints(anny_body, torch.zeros(len(anny_body.pose_joints), 3))
    assert classify_posture(standing, seen).name == "standing"
    assert classify_posture(_keypoints(anny_body, preset_pose(anny_body, "sitting")), seen).name == "seated"
    lying = _keypoints(anny_body, torch.zeros(len(anny_body.pose_joints), 3), R=_rot("x", 90))
    assert classify_posture(lying, seen).name == "lying"
    from hoirecon.body.model import KEYPOINT_NAMES

    legs = [i for i, n in enumerate(KEYPOINT_NAMES) if any(p in n for p in ("knee", "ankle", "heel", "toe"))]
    no_legs = seen.copy()
    no_legs[legs] = False
    p = classify_posture(standing, no_legs)
    assert p.name == "unknown" and p.legs_seen == (False, False)


@pytest.fixture(scope="module")
def rolled_scene(anny_body, camera):
    """A standing person in a room seen by a camera rolled 15 degrees and pitched 10 degrees down."""
    from benchmarks.support.backdrop import render_backdrop
    from benchmarks.support.synthetic import synthetic_person

    pose = torch.zeros(len(anny_body.pose_joints), 3)
    R = _rot("z", 15) @ _rot("x", -10)  # world (y down = gravity) -> camera
    t = np.array([0.1, 0.1, 3.6])
    person, kp_true = synthetic_person(anny_body, pose, R, t, camera)
    with torch.no_grad():
        rest = anny_body.forward(pose[None], anny_body.default_shape()[None]).vertices[0].numpy()
    rgb = render_backdrop(camera, np.concatenate([R, t[:, None]], 1), floor_y=float(rest[:, 1].max()))
    return person, kp_true, R @ np.array([0.0, -1.0, 0.0]), rgb


def test_rolled_camera_recovered_upright(anny_body, camera, rolled_scene):
    """Gravity from the room's vertical lines and the standing body, then the body fit's gravity phase:
    the estimate is within 3 degrees of the truth, and the torso within 6 degrees of the true torso."""
    from hoirecon.body.fit import fit_body, targets_from_person
    from hoirecon.ground import body_prior

    person, kp_true, true_up, rgb = rolled_scene
    body = fit_body(anny_body, person, camera)
    tg = targets_from_person(person)
    seen = keypoints_seen(tg.weight, tg.xy, camera.width, camera.height)
    g = estimate_gravity(rgb, camera.K, None, body.keypoints3d, seen)
    assert _angle(g.up, true_up) < 3.0, g.as_dict()
    assert {s["name"] for s in g.sources} == {"camera_prior", "image_lines", "body"}
    assert g.posture.name == "standing" and g.confidence > 0.5
    prior = body_prior(g, body.state, seen)
    body2 = fit_body(anny_body, person, camera, targets=tg, gravity=prior)
    names = list(body2.keypoint_names)
    torso = lambda kp: 0.5 * (kp[names.index("left_shoulder")] + kp[names.index("right_shoulder")]) - 0.5 * (  # noqa: E731
        kp[names.index("left_hip")] + kp[names.index("right_hip")])
    assert _angle(torso(body2.keypoints3d), torso(kp_true)) < 6.0
    # no lines (a flat grey photo): the body and the camera prior still give the roll
    flat = np.full_like(rgb, 128)
    g2 = estimate_gravity(flat, camera.K, None, body.keypoints3d, seen)
    assert [s["name"] for s in g2.sources] == ["camera_prior", "body"] and g2.sigma_deg > g.sigma_deg


@pytest.mark.parametrize("limbs", ["legs", "arms"])
def test_unseen_limbs_get_plausible_poses(anny_body, camera, rolled_scene, limbs):
    """Legs out of frame (no knee, ankle or foot landmark) under an upright torso: the gravity phase
    gives straight legs hanging along gravity. Arms out of frame (no elbow or wrist): they hang."""
    from dataclasses import replace

    from hoirecon.body.fit import fit_body, targets_from_person
    from hoirecon.ground import body_prior

    person, kp_true, true_up, _ = rolled_scene
    vis = person.visibility.copy()
    hidden = {"legs": range(25, 33), "arms": range(13, 23)}[limbs]  # MediaPipe knees..toes / elbows..thumbs
    vis[list(hidden)] = 0.0
    cut = replace(person, visibility=vis)
    body = fit_body(anny_body, cut, camera)
    tg = targets_from_person(cut)
    seen = keypoints_seen(tg.weight, tg.xy, camera.width, camera.height)
    g = replace(gravity_from_up(true_up), posture=classify_posture(body.keypoints3d, seen))
    assert g.posture.name == ("unknown" if limbs == "legs" else "standing")
    prior = body_prior(g, body.state, seen)
    expect = {"legs": {"left_leg", "right_leg"}, "arms": {"left_arm", "right_arm"}}[limbs]
    assert set(prior.limbs) == expect
    body2 = fit_body(anny_body, cut, camera, targets=tg, gravity=prior)
    kp = body2.keypoints3d
    names = list(body2.keypoint_names)
    for side in ("left", "right"):
        if limbs == "legs":
            hip, knee, ankle = (kp[names.index(f"{side}_{j}")] for j in ("hip", "knee", "ankle"))
            assert _angle(hip - knee, ankle - knee) > 160.0  # a straight knee
            assert _angle(hip - ankle, true_up) < 15.0  # the leg hangs along gravity
        else:
            shoulder, wrist = (kp[names.index(f"{side}_{j}")] for j in ("shoulder", "wrist"))
            assert _angle(shoulder - wrist, true_up) < 25.0  # the arm hangs


def _fit(sc, ground):
    from hoirecon.fitting.joint import fit_object

    return fit_object(sc.body, sc.mesh, sc.contacts, sc.object, sc.person, sc.camera, upright=True, ground=ground)


def test_seated_chair_has_every_leg_on_the_floor():
    """A chair the person sits on: upright about gravity, all four leg tips on the fitted floor."""
    from benchmarks.support.scenes import generate_scene

    sc = generate_scene("chair", seed=0, index=1)
    up = -sc.gravity
    fit = _fit(sc, GroundPrior(gravity_from_up(up), body_support="seen", object_support="floor"))
    tips = support_vertices(sc.mesh.vertices)
    x = sc.mesh.vertices[tips]
    assert len(np.unique(np.sign(x[:, [0, 2]]), axis=0)) == 4  # the support points are the four legs' tips
    h = fit.floor.height_of(fit.object.vertices[tips])
    assert np.abs(h).max() < 0.015 and h.max() - h.min() < 0.01
    assert {s["name"] for s in fit.floor.supports} == {"feet", "object"} and fit.floor.visible
    assert fit.losses["floor"] >= 0 and "floor_penetration" in fit.losses


def test_carried_object_is_not_pulled_to_the_floor():
    """A suitcase carried by its handle ("either": on the floor or carried) well above the floor the
    feet stand on: the shared floor stays at the feet and the suitcase where the photo puts it."""
    from benchmarks.support.scenes import generate_scene

    sc = generate_scene("suitcase", seed=0, index=0)
    up = -sc.gravity
    b = sc.body
    feet = min((b.vertices[s] @ up).min() for s in sole_vertices(b.vertices, b.part_of_vertex, b.part_names, up))
    lift = float((sc.object_vertices @ up).min() - feet)
    assert lift > 0.12  # the scene's suitcase hangs this far above the soles
    free = _fit(sc, None)
    fit = _fit(sc, GroundPrior(gravity_from_up(up), body_support="seen", object_support="either"))
    obj = next(s for s in fit.floor.supports if s["name"] == "object")
    assert not obj["held"] and obj["gap_m"] > 0.1
    assert abs(float((fit.object.vertices @ up).min() - (free.object.vertices @ up).min())) < 0.03
