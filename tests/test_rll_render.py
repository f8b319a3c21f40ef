"""Render step of Render-Localize-Lift: view sets, camera convention, per-pixel triangle/barycentric/depth."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

from hoirecon.body import open_pose, open_pose_vertices
from hoirecon.body.open_pose import open_pose_angles
from hoirecon.contact import render as R
from hoirecon.objects import build_mesh


@pytest.fixture(scope="module")
def human_views(anny_body):
    return R.render_human_views(anny_body)


@pytest.fixture(scope="module")
def racket_views():
    return R.render_object_views(build_mesh("tennis_racket"))


def test_view_sets_are_interactvlms():
    human = {s.name: s.as_list() for s in R.view_specs("human")}
    assert human == {
        "topfront": [2, 45, 315, 0, 0], "bottomfront": [2, 315, 315, 0, 0.3],
        "topback": [2, 45, 135, 0, 0], "bottomback": [2, 315, 135, 0, 0.3],
    }  # fmt: skip
    obj = {s.name: s.as_list()[:3] for s in R.view_specs("object")}
    assert obj == {"frontleft": [1.5, 45, 315], "frontright": [1.5, 45, 45], "backleft": [1.5, 330, 135],
                   "backright": [1.5, 330, 225]}  # fmt: skip
    assert R.view_config()["fov_deg"] == 60.0 and R.view_config()["image_size"] == 1024


def test_look_at_follows_pytorch3d():
    """Eye on the spherical angles, looking at the origin, world +x on the right for an eye at +z,
    world +y up in the picture, the y-shift moving the mesh up."""
    K, Rm, t = R.look_at(R.ViewSpec("v", 2.0, 0.0, 0.0), 100, 60.0)
    assert np.allclose(-Rm.T @ t, [0, 0, 2])  # eye
    assert np.allclose(Rm @ Rm.T, np.eye(3)) and np.isclose(np.linalg.det(Rm), 1.0)
    proj = lambda p: (K @ (Rm @ p + t))[:2] / (K @ (Rm @ p + t))[2]  # noqa: E731
    assert np.allclose(proj(np.zeros(3)), [50, 50])
    assert proj(np.array([0.1, 0, 0]))[0] > 50 and proj(np.array([0, 0.1, 0]))[1] < 50
    assert np.isclose(K[0, 0], 50 / math.tan(math.radians(30)))
    K, Rm, t = R.look_at(R.ViewSpec("v", 2.0, 45.0, 315.0), 100, 60.0)
    e = math.radians(45)
    assert np.allclose(-Rm.T @ t, 2 * np.array([math.cos(e) * math.sin(-e), math.sin(e), math.cos(e) * math.cos(e)]))
    K, Rm, t = R.look_at(R.ViewSpec("v", 2.0, 0.0, 0.0, 0.0, 0.3), 100, 60.0)
    assert proj(np.zeros(3))[1] < 50  # shifted up


def test_canonical_to_world_is_a_rotation():
    p = np.array([[1.0, 2.0, 3.0]])
    assert np.allclose(R.canonical_to_world(p), [[1, -2, -3]])


def test_vitruvian_pose_opens_the_limbs(anny_body):
    from hoirecon.body.model import KEYPOINT_NAMES

    pose = open_pose(anny_body)
    assert pose.shape == (len(anny_body.pose_joints), 3)
    with torch.no_grad():
        kp = anny_body.forward(pose[None], anny_body.default_shape()[None]).keypoints[0].numpy()
    k = dict(zip(KEYPOINT_NAMES, kp))
    vit = open_pose_angles()
    for side, sx in (("left", 1), ("right", -1)):
        for a, b, target in ((f"{side}_shoulder", f"{side}_elbow", vit["arm_abduction_deg"]),
                             (f"{side}_elbow", f"{side}_wrist", vit["arm_abduction_deg"]),
                             (f"{side}_hip", f"{side}_knee", vit["leg_abduction_deg"])):  # fmt: skip
            d = k[b] - k[a]
            assert np.sign(d[0]) == sx and d[1] > 0  # out to its side and down (y down)
            assert abs(math.degrees(math.atan2(abs(d[0]), d[1])) - target) < 4.0
            assert abs(d[2]) / np.linalg.norm(d) < 0.1  # in the frontal plane
    assert np.allclose(open_pose(anny_body), pose)  # cached / deterministic


def _check_views(vs):
    F, V = len(vs.faces), vs.num_vertices
    for view in vs:
        m = view.mask
        assert m.any(), view.name
        assert not (m[0].any() or m[-1].any() or m[:, 0].any() or m[:, -1].any()), f"{view.name} is cut off"
        assert view.tri_id.dtype == np.int32 and view.tri_id[m].max() < F and view.tri_id[~m].max(initial=-1) == -1
        b = view.bary[m]
        assert np.allclose(b.sum(1), 1.0, atol=1e-5) and b.min() > -1e-4
        assert np.all(view.bary[~m] == 0)
        assert np.all(np.isfinite(view.depth[m])) and view.depth[m].min() > 0 and np.isinf(view.depth[~m]).all()
        assert view.image.shape == (vs.size, vs.size, 3) and view.image.dtype == np.uint8
        assert np.all(view.image[~m] == 255) and view.image[m].mean() < 250
    seen = np.zeros(V, bool)
    for view in vs:
        seen[vs.faces[view.tri_id[view.mask]].ravel()] = True
    return seen


def test_human_views_see_the_body(human_views, anny_body):
    assert human_views.names == ("topfront", "bottomfront", "topback", "bottomback")
    assert human_views.num_vertices == len(open_pose_vertices(anny_body))
    assert np.array_equal(human_views.faces, anny_body.faces)
    assert human_views.size == 1024
    seen = _check_views(human_views)
    parts, names = anny_body.part_segmentation()
    outside_head = parts != names.index("head")  # the head holds the mouth and eye interiors
    assert seen[outside_head].mean() > 0.95  # nearly every surface vertex is in some view


def test_object_views_see_the_normalised_object(racket_views):
    vs = racket_views
    ext = vs.vertices.max(0) - vs.vertices.min(0)
    assert np.isclose(ext.max(), 1.0, atol=1e-5)
    assert np.allclose(vs.vertices.max(0) + vs.vertices.min(0), 0.0, atol=1e-5)
    assert _check_views(vs).mean() > 0.9


def test_hit_points_reproject_to_their_pixel_and_depth(racket_views):
    """tri_id + barycentrics give a surface point that projects to the pixel centre at the stored depth."""
    for view in racket_views:
        ys, xs = np.nonzero(view.mask)
        sel = np.linspace(0, len(ys) - 1, 200).astype(int)
        ys, xs = ys[sel], xs[sel]
        tri = racket_views.faces[view.tri_id[ys, xs]]
        p = np.einsum("nk,nkc->nc", view.bary[ys, xs].astype(np.float64), racket_views.vertices[tri].astype(np.float64))
        cam = p @ view.R.T + view.t
        assert np.allclose(cam[:, 2], view.depth[ys, xs], atol=1e-4)
        assert np.allclose(view.project(p), np.stack([xs + 0.5, ys + 0.5], 1), atol=1e-2)


def test_rendering_is_deterministic(racket_views):
    again = R.render_object_views(build_mesh("tennis_racket"))
    for a, b in zip(racket_views, again):
        assert np.array_equal(a.tri_id, b.tri_id) and np.array_equal(a.bary, b.bary)
        assert np.array_equal(a.depth, b.depth) and np.array_equal(a.image, b.image)


def test_eight_views_at_1024_are_fast(anny_body, human_views):
    """Both view sets at 1024 px (the human one uncached) on the CPU; generous bound for a busy machine."""
    mesh = build_mesh("chair")
    R.render_object_views(mesh)  # warm
    t0 = time.perf_counter()
    R.render_human_views(anny_body, cache=False)
    R.render_object_views(mesh)
    assert time.perf_counter() - t0 < 3.0


def test_casting_only_covered_pixels_loses_nothing(anny_body):
    """The triangle-bounding-box shortcut gives exactly what casting every pixel gives."""
    w = R.canonical_to_world(open_pose_vertices(anny_body))
    w -= 0.5 * (w.min(0) + w.max(0))
    laptop = build_mesh("laptop")
    cases = ((w, anny_body.faces, "human"), (R.normalize_object(laptop.vertices)[0], laptop.faces, "object"))
    for verts, faces, kind in cases:
        specs = R.view_specs(kind)
        fast = R.render_views(verts, faces, specs, size=256, fov_deg=60.0)
        full = R.render_views(verts, faces, specs, size=256, fov_deg=60.0, exhaustive=True)
        for a, b in zip(fast, full):
            assert np.array_equal(a.tri_id, b.tri_id) and np.array_equal(a.bary, b.bary)
            assert np.array_equal(a.depth, b.depth) and np.array_equal(a.image, b.image)
