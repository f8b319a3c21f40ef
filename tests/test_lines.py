"""Vertical lines as gravity evidence (:mod:`hoirecon.ground.lines`) on the synthetic room of
``benchmarks.support.backdrop``: the up direction the segments agree on is the room's true up."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from benchmarks.support.backdrop import render_backdrop
from hoirecon.ground.lines import LineEvidence, vertical_lines
from hoirecon.types import CameraIntrinsics

CAM = CameraIntrinsics(fx=600.0, fy=600.0, cx=320.0, cy=240.0, width=640, height=480)
FLOOR_Y = 1.0  # world +y is down; the origin is 1 m above the floor


def _rot_x(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _rot_z(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _world_to_camera(roll_deg: float, pitch_deg: float) -> np.ndarray:
    """(3, 4) [R | t]: a camera 4 m in front of the origin (z = -4), 1.5 m above the floor, looking
    along world +z, pitched down by ``pitch_deg`` and rolled by ``roll_deg``."""
    camera_to_world = _rot_x(-np.radians(pitch_deg)) @ _rot_z(np.radians(roll_deg))
    centre = np.array([0.0, FLOOR_Y - 1.5, -4.0])
    R = camera_to_world.T
    return np.hstack([R, (-R @ centre)[:, None]])


def _person_mask(P: np.ndarray) -> np.ndarray:
    """(H, W) bool silhouette of a 1.75 m tall box standing at the origin."""
    corners = np.array([[x, y, z] for x in (-0.25, 0.25) for y in (FLOOR_Y, FLOOR_Y - 1.75) for z in (-0.15, 0.15)])
    uv = CAM.project(corners @ P[:, :3].T + P[:, 3])
    mask = np.zeros((CAM.height, CAM.width), np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(uv).astype(np.int32)), 1)
    return mask.astype(bool)


def _angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.degrees(np.arccos(np.clip(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b), -1.0, 1.0))))


@pytest.fixture(scope="module")
def scenes():
    out = {}
    for roll in (0.0, 12.0, 20.0):
        P = _world_to_camera(roll, 15.0)
        person = _person_mask(P)
        image = render_backdrop(CAM, P, FLOOR_Y, person_mask=person, seed=int(roll))
        exclude = cv2.dilate(person.astype(np.uint8), np.ones((15, 15), np.uint8)).astype(bool)
        out[roll] = (P, image, exclude)
    return out


def _check_empty(ev: LineEvidence) -> None:
    assert ev.up is None
    L = len(ev.segments)
    assert ev.normals.shape == (L, 3) and ev.weights.shape == (L,) and ev.segments.shape == (L, 4)
    assert ev.inliers.shape == (L,) and ev.inliers.dtype == bool and not ev.inliers.any()
    assert ev.spread == 0.0


@pytest.mark.parametrize("roll", [0.0, 12.0, 20.0])
def test_up_from_the_room_lines(scenes, roll):
    P, image, exclude = scenes[roll]
    assert image.shape == (CAM.height, CAM.width, 3) and image.dtype == np.uint8
    ev = vertical_lines(image, CAM.K, exclude=exclude)
    true_up = -P[:, 1]  # world -y in the camera frame
    assert ev.up is not None
    assert _angle_deg(ev.up, true_up) < 1.5
    assert ev.up @ np.array([0.0, -1.0, 0.0]) > 0.0
    assert abs(np.linalg.norm(ev.up) - 1.0) < 1e-9
    L = len(ev.segments)
    assert ev.normals.shape == (L, 3) and ev.weights.shape == (L,) and ev.inliers.shape == (L,)
    assert np.allclose(np.linalg.norm(ev.normals, axis=1), 1.0)
    assert ((ev.weights >= 0.0) & (ev.weights <= 1.0)).all()
    assert ev.count >= 3 and 0.5 < ev.spread <= 1.0
    # the inliers' planes contain the true vertical
    assert np.abs(ev.normals[ev.inliers] @ true_up).max() < np.sin(np.radians(3.0))
    # no kept segment has its midpoint on the person
    mid = 0.5 * (ev.segments[:, :2] + ev.segments[:, 2:])
    assert not exclude[mid[:, 1].astype(int), mid[:, 0].astype(int)].any()


def test_kept_segments_are_near_the_prior(scenes):
    _, image, exclude = scenes[12.0]
    max_angle = 20.0
    ev = vertical_lines(image, CAM.K, exclude=exclude, max_angle_deg=max_angle)
    assert len(ev.segments) > 0
    prior = np.array([0.0, -1.0, 0.0])
    assert (np.abs(ev.normals @ prior) <= np.sin(np.radians(max_angle)) + 1e-12).all()
    d = ev.segments[:, 2:] - ev.segments[:, :2]
    tilt = np.degrees(np.arctan2(np.abs(d[:, 0]), np.abs(d[:, 1])))  # from the image vertical
    assert (tilt <= max_angle + 1e-6).all()


def test_deterministic(scenes):
    _, image, exclude = scenes[20.0]
    a = vertical_lines(image, CAM.K, exclude=exclude, seed=3)
    b = vertical_lines(image, CAM.K, exclude=exclude, seed=3)
    assert np.array_equal(a.up, b.up) and np.array_equal(a.inliers, b.inliers)


def test_flat_image_has_no_lines():
    ev = vertical_lines(np.full((480, 640, 3), 128, np.uint8), CAM.K)
    _check_empty(ev)
    assert len(ev.segments) == 0


def test_excluding_everything_leaves_nothing(scenes):
    image = scenes[12.0][1]
    ev = vertical_lines(image, CAM.K, exclude=np.ones(image.shape[:2], bool))
    _check_empty(ev)
    assert len(ev.segments) == 0


def test_horizontal_stripes_are_not_vertical():
    image = np.full((480, 640, 3), 40, np.uint8)
    for y0 in range(20, 480, 60):
        image[y0 : y0 + 30] = 200
    ev = vertical_lines(image, CAM.K)
    _check_empty(ev)
    assert len(ev.segments) == 0


def test_vertical_stripes_give_the_camera_up():
    image = np.full((480, 640, 3), 40, np.uint8)
    for x0 in range(20, 640, 60):
        image[:, x0 : x0 + 30] = 200
    ev = vertical_lines(image, CAM.K)
    assert ev.up is not None and _angle_deg(ev.up, np.array([0.0, -1.0, 0.0])) < 0.5


def test_hough_fallback_when_lsd_fails(scenes, monkeypatch):
    P, image, exclude = scenes[12.0]

    def broken(*args, **kwargs):
        raise cv2.error("LSD unavailable")

    monkeypatch.setattr(cv2, "createLineSegmentDetector", broken)
    ev = vertical_lines(image, CAM.K, exclude=exclude)
    assert ev.up is not None and _angle_deg(ev.up, -P[:, 1]) < 1.5


def test_exclude_shape_is_checked():
    with pytest.raises(ValueError):
        vertical_lines(np.zeros((48, 64, 3), np.uint8), CAM.K, exclude=np.zeros((10, 10), bool))
