"""Body stage: the Anny model behind the interface, its part segmentation, and landmark fitting."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from benchmarks.support.synthetic import synthetic_person
from hoirecon.body.fit import fit_body
from hoirecon.body.model import KEYPOINT_NAMES, segment_parts
from hoirecon.types import CameraIntrinsics


def test_canonical_frame_is_camera_aligned(anny_body):
    out = anny_body.forward(torch.zeros(1, len(anny_body.pose_joints), 3), anny_body.default_shape()[None])
    kp = {n: k for n, k in zip(KEYPOINT_NAMES, out.keypoints[0].numpy())}
    assert kp["nose"][1] < kp["left_hip"][1] < kp["left_ankle"][1]  # y down
    assert kp["left_shoulder"][0] > kp["right_shoulder"][0]  # x toward the body's left
    assert kp["nose"][2] < kp["left_ear"][2]  # faces -z
    height = float(out.vertices[0, :, 1].max() - out.vertices[0, :, 1].min())
    assert 1.4 < height < 2.1


def test_part_segmentation_covers_every_part_in_the_right_place(anny_body):
    parts, names = anny_body.part_segmentation()
    out = anny_body.forward(torch.zeros(1, len(anny_body.pose_joints), 3), anny_body.default_shape()[None])
    v = out.vertices[0].numpy()
    centre = {n: v[parts == i].mean(0) for i, n in enumerate(names)}
    assert all((parts == i).sum() > 0 for i in range(len(names))), "every body part has vertices"
    assert centre["head"][1] < centre["chest"][1] < centre["hips"][1] < centre["left_calf"][1] < centre["left_foot"][1]
    assert centre["left_hand"][0] > 0.3 and centre["right_hand"][0] < -0.3
    assert centre["back"][2] > centre["chest"][2]  # the back is behind the chest
    assert centre["buttocks"][2] > centre["hips"][2] - 0.05


def test_segment_parts_on_a_hand_made_skeleton():
    """Two bones, four vertices: the argmax bone decides, then the front/back split applies."""
    bones = ["spine01", "wrist.L"]
    w = np.array([[1, 0], [0.9, 0.1], [0.2, 0.8], [1, 0]], np.float32)
    v = np.array([[0, -0.3, -0.1], [0, -0.3, 0.1], [0.6, -0.2, 0], [0, -0.35, 0.2]], np.float32)
    kps = {
        "left_hip": np.array([0.1, 0, 0]), "right_hip": np.array([-0.1, 0, 0]),
        "left_shoulder": np.array([0.15, -0.5, 0]), "right_shoulder": np.array([-0.15, -0.5, 0]),
        "left_knee": np.array([0.1, 0.45, 0]), "right_knee": np.array([-0.1, 0.45, 0]),
    }  # fmt: skip
    parts, names = segment_parts("anny", bones, w, v, kps)
    assert [names[p] for p in parts] == ["chest", "back", "left_hand", "back"]


@pytest.mark.parametrize("seed", [0, 1])
def test_fit_recovers_keypoints_from_known_parameters(anny_body, seed):
    from scipy.spatial.transform import Rotation

    cam = CameraIntrinsics(fx=800, fy=800, cx=320, cy=240, width=640, height=480)
    g = torch.Generator().manual_seed(seed)
    pose = 0.25 * torch.randn(len(anny_body.pose_joints), 3, generator=g)
    R = Rotation.from_rotvec([0.1, 0.6 * (seed - 0.5), 0.05]).as_matrix().astype(np.float32)
    t = np.array([0.1, 0.2, 3.0], np.float32)
    person, kp_true = synthetic_person(anny_body, pose, R, t, cam)
    fit = fit_body(anny_body, person, cam)
    assert fit.reprojection_error_px < 2.0
    err3d = np.linalg.norm(fit.keypoints3d - kp_true, axis=1).mean()
    assert err3d < 0.25, f"mean 3D keypoint error {err3d:.3f} m"
    assert fit.vertices.shape == (len(fit.part_of_vertex), 3)
    assert set(fit.params) >= {"global_orient", "transl", "bone_axis_angle", "phenotypes"}


def test_fit_without_world_landmarks_still_fits_2d(anny_body):
    cam = CameraIntrinsics(fx=800, fy=800, cx=320, cy=240, width=640, height=480)
    person, _ = synthetic_person(anny_body, torch.zeros(len(anny_body.pose_joints), 3), np.eye(3, dtype=np.float32),
                                  np.array([0, 0.1, 3.5], np.float32), cam)  # fmt: skip
    from dataclasses import replace

    person = replace(person, world_keypoints=np.zeros((33, 3), np.float32))
    fit = fit_body(anny_body, person, cam)
    assert fit.reprojection_error_px < 3.0
    assert 3.0 < float(np.median(fit.vertices[:, 2])) < 4.0


@pytest.mark.parametrize("model", ["anny", "smplx"])
def test_body_model_skin_is_the_fitted_body_with_rigid_bones_at_its_joints(model, anny_body, smplx_body):
    """`skin(state)`: its vertices are the posed body placed as x_cam = R(orient) x + transl; its bones
    are rigid, parents first, eight weights per vertex summing to 1; for SMPL-X each bone sits at the
    model's posed joint. `pipeline.body_skin` keeps a skin only for the mesh it belongs to."""
    import dataclasses

    from scipy.spatial.transform import Rotation

    from hoirecon.pipeline import body_skin
    from hoirecon.types import BodyFit, BodyState

    body = anny_body if model == "anny" else smplx_body
    rng = np.random.default_rng(3)
    st = BodyState(pose=(0.3 * rng.normal(size=(len(body.pose_joints), 3))).astype(np.float32),
                   shape=np.zeros(body.num_shape, np.float32), orient=np.array([0.1, 2.9, 0.2], np.float32),
                   transl=np.array([0.2, -0.1, 3.0], np.float32))  # fmt: skip
    skin = body.skin(st)
    with torch.no_grad():
        out = body.forward(torch.tensor(st.pose)[None], torch.tensor(st.shape)[None])
    R = Rotation.from_rotvec(st.orient).as_matrix()
    v = out.vertices[0].numpy().astype(np.float64) @ R.T + st.transl
    assert np.abs(skin.vertices - v).max() < 1e-5
    Rj = skin.joint_world[:, :3, :3]
    assert np.abs(Rj.transpose(0, 2, 1) @ Rj - np.eye(3)).max() < 1e-4 and np.linalg.det(Rj).min() > 0.999
    assert skin.parents[0] == -1 and all(0 <= p < i for i, p in enumerate(skin.parents) if i)
    assert skin.joints.shape == (len(v), 8) and np.allclose(skin.weights.sum(1), 1, atol=1e-5)
    assert skin.dropped < 0.01 and len(skin.joint_names) == len(skin.parents) == len(skin.joint_world)
    assert skin.joints.max() < len(skin.parents)
    if model == "smplx":
        with torch.no_grad():
            raw = body._raw(torch.tensor(st.pose)[None], torch.tensor(st.shape)[None])
        joints = raw.joints[0, :55].numpy().astype(np.float64) * np.array([1.0, -1.0, -1.0]) @ R.T + st.transl
        assert np.abs(skin.joint_world[:, :3, 3] - joints).max() < 1e-5
    fit = BodyFit(model_name=model, vertices=v.astype(np.float32), faces=body.faces, keypoints3d=np.zeros((1, 3)),
                  keypoint_names=("x",), part_of_vertex=np.zeros(len(v), np.int16), part_names=("x",), params={},
                  state=st)  # fmt: skip
    assert body_skin(body, fit) is not None
    moved = dataclasses.replace(fit, vertices=(v + [0.0, 0.02, 0.0]).astype(np.float32))  # not this skin's mesh
    assert body_skin(body, moved) is None and body_skin(body, dataclasses.replace(fit, state=None)) is None


def test_annealed_robust_scale_reaches_a_seated_persons_legs(anny_body):
    """A seated person's knees lie far from the standing start: at the final robust scale alone they are
    outliers the pose prior outweighs; annealed from a wide scale, the fit follows them."""
    from dataclasses import replace

    from scipy.spatial.transform import Rotation

    from hoirecon.body.fit import _annealed_sigma
    from hoirecon.config import BodyFitConfig

    cfg = BodyFitConfig()
    assert _annealed_sigma(cfg, 0, 120) == pytest.approx(cfg.robust_sigma_start)
    assert _annealed_sigma(cfg, 60, 120) == _annealed_sigma(cfg, 119, 120) == cfg.robust_sigma
    sig = [_annealed_sigma(cfg, i, 120) for i in range(61)]
    assert all(a >= b for a, b in zip(sig, sig[1:]))  # shrinks monotonically
    assert _annealed_sigma(replace(cfg, robust_sigma_start=None), 0, 120) == cfg.robust_sigma

    joints = list(anny_body.pose_joints)
    pose = torch.zeros(len(joints), 3)
    for side in "LR":  # thighs forward, shins down: seated
        pose[joints.index(f"upperleg01.{side}"), 0] = -1.4
        pose[joints.index(f"lowerleg01.{side}"), 0] = 1.4
    cam = CameraIntrinsics(fx=800, fy=800, cx=320, cy=240, width=640, height=480)
    R = Rotation.from_rotvec([0.15, 0.8, 0.0]).as_matrix().astype(np.float32)
    person, kp_true = synthetic_person(anny_body, pose, R, np.array([0, 0.1, 3.0], np.float32), cam)
    person = replace(person, world_keypoints=np.zeros((33, 3), np.float32))  # the 2D landmarks alone
    legs = [KEYPOINT_NAMES.index(n) for n in ("left_knee", "right_knee", "left_ankle", "right_ankle")]

    def leg_error(config) -> float:
        fit = fit_body(anny_body, person, cam, config)
        uv, true = cam.project(fit.keypoints3d.astype(np.float64)), cam.project(kp_true.astype(np.float64))
        return float(np.linalg.norm(uv - true, axis=1)[legs].mean())

    annealed, fixed = leg_error(cfg), leg_error(replace(cfg, robust_sigma_start=None))
    assert annealed < 10.0 and annealed < 0.5 * fixed, (annealed, fixed)


def test_contact_regions_are_the_touching_side_of_their_parts(anny_body):
    """The sole is the bottom of the foot, the back of the thigh its back, the face the head's front;
    every region lies inside its parts, and the fitted body carries them."""
    from hoirecon.body.model import _part_rules, body_regions, region_names, segment_regions

    parts, names = anny_body.part_segmentation()
    v = anny_body.forward(torch.zeros(1, len(anny_body.pose_joints), 3), anny_body.default_shape()[None]).vertices[0].numpy()
    regions = body_regions(anny_body)
    assert set(regions) == set(region_names()) >= {"sole", "upper_foot", "back_of_thigh", "front_of_thigh", "face"}
    for name, idx in regions.items():
        allowed = [names.index(p) for p in _part_rules()["regions"][name]["parts"]]
        assert len(idx) > 20 and np.isin(parts[idx], allowed).all(), name
    foot = np.flatnonzero(parts == names.index("left_foot"))
    sole = np.intersect1d(regions["sole"], foot)
    assert v[sole, 1].mean() > np.percentile(v[foot, 1], 60)  # y down: the sole is the foot's bottom
    assert not np.intersect1d(regions["sole"], regions["upper_foot"]).size
    assert len(np.union1d(regions["sole"], regions["upper_foot"])) == (np.isin(parts, [names.index("left_foot"), names.index("right_foot")])).sum()
    thigh = np.flatnonzero(parts == names.index("left_thigh"))
    assert v[np.intersect1d(regions["back_of_thigh"], thigh), 2].mean() > v[thigh, 2].mean() + 0.03  # z back
    assert v[np.intersect1d(regions["front_of_thigh"], thigh), 2].mean() < v[thigh, 2].mean() - 0.03
    head = np.flatnonzero(parts == names.index("head"))
    mid = 0.5 * (v[head, 2].min() + v[head, 2].max())  # z back: the face lies in the head's front half
    # (less eyes, teeth and tongue inside the head, whose forward-facing vertices count too)
    assert (v[regions["face"], 2] < mid).mean() > 0.8 and (v[head, 2] > mid).mean() > 0.2
    # the normals' sign does not depend on the mesh's winding
    flipped = segment_regions(v, anny_body.faces[:, ::-1], parts, names)
    assert all(np.array_equal(flipped[k], regions[k]) for k in regions)


def test_silhouette_term_against_a_brute_force_reference(rest_body, camera):
    """The body fit's silhouette Chamfer (sampled mask pixels to the nearest projected vertex, projected
    vertices' distance outside the mask or an occluder) against cKDTree and an exhaustive search; it
    vanishes on the body's own silhouette, grows as the body slides off it, and an occluder's pixels
    count as the person's."""
    from dataclasses import replace

    from scipy.spatial import cKDTree

    from hoirecon.body.fit import silhouette_loss, silhouette_targets
    from hoirecon.config import BodyFitConfig
    from hoirecon.geometry.projection import silhouette

    uv = camera.project(rest_body.vertices.astype(np.float64))
    mask = silhouette(uv, rest_body.faces, camera.height, camera.width)
    person = type("P", (), {"mask": mask})()
    cfg = BodyFitConfig(w_silhouette=1.0, silhouette_pixels=400, silhouette_vertices=600)
    scale = 500.0
    V = torch.as_tensor(rest_body.vertices)
    for dx in (0.0, 0.15):  # metres, sideways
        shifted = V + torch.tensor([dx, 0.0, 0.0])
        sil = silhouette_targets(person, camera, scale, cfg, len(V))
        fast = float(silhouette_loss(shifted, camera, sil, scale))
        p = camera.project(shifted.numpy().astype(np.float64))[sil.vertices.numpy()]
        cover = cKDTree(p).query(sil.pixels.numpy())[0].mean() / scale
        on = np.argwhere(mask)[:, ::-1] + 0.5  # (x, y) pixel centres of the mask
        outside = np.array([0.0 if mask[int(y), int(x)] else np.min(np.hypot(*(on - [x, y]).T)) for x, y in p]) / scale
        slow = cover + outside.mean()
        assert fast == pytest.approx(slow, rel=0.05, abs=2e-4), (dx, fast, slow)
        inside_only = float(silhouette_loss(shifted, camera, sil, scale, cover_weight=0.0))  # the shipped default
        assert inside_only == pytest.approx(outside.mean(), rel=0.05, abs=2e-4), (dx, inside_only)
        if dx == 0.0:
            assert fast < 0.02  # the sampled vertices lie a few pixels apart
            at_rest = fast
    assert fast > 5 * at_rest and inside_only > 0.01  # slid 15 cm off the mask
    # the body slid onto an occluder (the object in front of the person) is not outside the person
    beside = np.zeros_like(mask)
    beside[:, : int(camera.project(np.array([[0.15 + rest_body.vertices[:, 0].max(), 0, 3.0]]))[0, 0]) + 2] = True
    sil = silhouette_targets(person, camera, scale, cfg, len(V), occluders=beside | mask)
    assert float(silhouette_loss(V + torch.tensor([0.15, 0.0, 0.0]), camera, sil, scale)) < fast
    assert silhouette_targets(person, camera, scale, replace(cfg, w_silhouette=0.0), len(V)) is None  # off
