"""Synthetic benchmark scenes: presets, recipes, determinism, contacts, masks, landmarks."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from benchmarks.support import scenes as S
from hoirecon.body.model import KEYPOINT_NAMES

N_SCENES = 16


@pytest.fixture(scope="module")
def bench(anny_body):
    return S.generate_scenes(N_SCENES, seed=0, model=anny_body)


def _kp(model, pose):
    with torch.no_grad():
        out = model.forward(pose[None], model.default_shape()[None])
    k = out.keypoints[0].numpy()
    return {n: k[i] for i, n in enumerate(KEYPOINT_NAMES)}


def _o3d_scene(v, f):
    import open3d as o3d

    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(o3d.core.Tensor(np.ascontiguousarray(v, np.float32)),
                        o3d.core.Tensor(np.ascontiguousarray(f, np.uint32)))  # fmt: skip
    return scene


def _dist(scene, pts):
    import open3d as o3d

    return scene.compute_distance(o3d.core.Tensor(np.ascontiguousarray(pts, np.float32))).numpy()


def test_presets_put_the_limbs_where_their_names_say(anny_body):
    presets = S.pose_presets("anny")
    assert {"standing", "standing_arms_forward", "holding_right", "sitting", "standing_on_board"} <= set(presets)
    for name, bones in presets.items():
        assert set(bones) <= set(anny_body.pose_joints), name
    k = _kp(anny_body, S.preset_pose(anny_body, "sitting"))  # canonical: y down, front is -z
    for side in ("left", "right"):
        hip, knee, ankle = k[f"{side}_hip"], k[f"{side}_knee"], k[f"{side}_ankle"]
        assert knee[2] < hip[2] - 0.25  # knees well in front of the hips
        assert abs(knee[1] - hip[1]) < 0.1  # at about hip height (thighs horizontal)
        assert ankle[1] > knee[1] + 0.25  # ankles below the knees
        assert abs(ankle[2] - knee[2]) < 0.15  # shins roughly vertical
    k = _kp(anny_body, S.preset_pose(anny_body, "standing_arms_forward"))
    for side in ("left", "right"):
        assert k[f"{side}_wrist"][2] < k[f"{side}_shoulder"][2] - 0.3
        assert k[f"{side}_wrist"][1] < k[f"{side}_hip"][1] - 0.1  # raised above the hips
    k = _kp(anny_body, S.preset_pose(anny_body, "holding_right"))
    assert k["right_wrist"][2] < k["right_elbow"][2] - 0.15  # forearm forward
    assert abs(k["right_wrist"][1] - k["right_elbow"][1]) < 0.1  # and about level
    assert k["left_wrist"][2] > k["left_shoulder"][2] - 0.15  # the other arm hangs
    k = _kp(anny_body, S.preset_pose(anny_body, "standing_on_board"))
    assert k["left_ankle"][0] - k["right_ankle"][0] > 2.5 * (k["left_hip"][0] - k["right_hip"][0])  # feet apart
    k = _kp(anny_body, S.preset_pose(anny_body, "standing"))
    assert k["left_ankle"][1] > k["left_knee"][1] + 0.3 and abs(k["left_knee"][2] - k["left_hip"][2]) < 0.05
    with pytest.raises(KeyError):
        S.pose_presets("no-such-model")


def test_recipes_are_consistent_and_sixty_scenes_are_balanced(anny_body):
    from hoirecon.objects.library import build_mesh

    presets = S.pose_presets("anny")
    _, part_names = anny_body.part_segmentation()
    cfgs = S.category_configs()
    assert len(cfgs) >= 8
    for cat, c in cfgs.items():
        mesh = build_mesh(cat)
        assert c.preset in presets, cat
        assert c.primary[0] in part_names and set(c.target) <= set(part_names), cat
        assert len(mesh.part_vertices(c.primary[1])) > 0, cat
        assert np.allclose(c.rotation @ c.rotation.T, np.eye(3), atol=1e-9) and np.linalg.det(c.rotation) > 0
        assert c.pairs, cat  # the category has contact priors
    cats = S.sample_categories(60, seed=0)
    assert cats == S.sample_categories(60, seed=0)
    counts = Counter(cats)
    assert len(cats) == 60 and len(counts) >= 8
    assert max(counts.values()) - min(counts.values()) <= 1
    assert S.sample_categories(N_SCENES, seed=0) == cats[:N_SCENES]  # a prefix: scene i is the same scene


def test_scenes_are_deterministic(bench, anny_body):
    assert len({s.category for s in bench}) >= 8
    for i in (0, 5):
        again = S.generate_scene(bench[i].category, seed=0, index=i, model=anny_body)
        a = bench[i]
        assert np.array_equal(a.body.vertices, again.body.vertices)
        assert np.array_equal(a.object_vertices, again.object_vertices)
        assert np.array_equal(a.person.mask, again.person.mask) and np.array_equal(a.object.mask, again.object.mask)
        assert np.array_equal(a.person.keypoints, again.person.keypoints)
        assert a.camera == again.camera
    other = S.generate_scene(bench[0].category, seed=1, index=0, model=anny_body)
    assert not np.array_equal(other.body.vertices, bench[0].body.vertices)


def test_records_agree_with_each_other(bench, anny_body):
    for s in bench:
        assert isinstance(s, S.SyntheticScene)
        R, t = s.rotation.astype(np.float64), s.translation.astype(np.float64)
        assert np.allclose(R @ R.T, np.eye(3), atol=1e-5)
        assert np.allclose(s.mesh.vertices @ R.T + t, s.object_vertices, atol=1e-4)
        assert np.allclose(anny_body.rebuild_vertices(dict(s.body.params)), s.body.vertices, atol=1e-4)
        assert abs(np.linalg.norm(s.gravity) - 1) < 1e-5
        # the body stands/sits upright: feet further along gravity than the head
        k = {n: s.body.keypoints3d[i] for i, n in enumerate(KEYPOINT_NAMES)}
        assert (k["left_ankle"] - k["nose"]) @ s.gravity > 0.3
        dist = np.linalg.norm(0.5 * (k["left_hip"] + k["right_hip"]))
        assert 2.0 < dist < 5.6, s.category
        cam = s.camera
        assert (cam.width, cam.height) in ((640, 480), (480, 640)) and 500 <= cam.fx <= 1200
        px = cam.project(s.body.vertices.astype(np.float64))
        assert px.min() >= 0 and px[:, 0].max() <= cam.width and px[:, 1].max() <= cam.height  # body in frame
        assert s.object.mask.sum() >= 200 and s.person.mask.sum() > 0
        assert not (s.person.mask & s.object.mask).any()
        b = s.object.box
        assert 0 <= b.x0 < b.x1 <= cam.width and 0 <= b.y0 < b.y1 <= cam.height
        assert s.object.label == s.category.replace("_", " ")
        assert s.detections.person is s.person and s.primary_pair in s.contacts.pairs


def test_contacts_really_touch_without_penetration(bench):
    tol = 0.02
    for s in bench:
        body = _o3d_scene(s.body.vertices, s.body.faces)
        obj = _o3d_scene(s.object_vertices, s.mesh.faces)
        c = s.contacts
        assert c.pairs and len(c.human_vertices) and len(c.object_vertices)
        for k, (bpart, opart) in enumerate(c.pairs):
            h = c.human_vertices[c.pair_of_human_vertex == k]
            o = c.object_vertices[c.pair_of_object_vertex == k]
            assert len(h) + len(o) > 0
            if len(h):
                assert set(s.body.part_of_vertex[h]) == {s.body.part_names.index(bpart)}
                assert _dist(obj, s.body.vertices[h]).max() < tol
            if len(o):
                assert set(s.mesh.part_of_vertex[o]) == {s.mesh.part_names.index(opart)}
                assert _dist(body, s.object_vertices[o]).max() < tol
        # the meshes touch with a small gap (~3 mm): closest body vertex to the object and vice versa
        gap = min(_dist(obj, s.body.vertices).min(), _dist(body, s.object_vertices).min())
        assert 0.001 < gap < 0.008, (s.category, gap)
        assert s.primary_pair in c.pairs
        # no object vertex inside the body (signed distance, negative inside)
        import open3d as o3d

        sd = body.compute_signed_distance(o3d.core.Tensor(s.object_vertices)).numpy()
        assert sd.min() > -0.01, (s.category, float(sd.min()))


def test_masks_match_projected_triangles(bench):
    import cv2

    def raster(v, f, cam, ss=4):
        """Silhouette of the projected triangles: filled at ss x the resolution (cv2 fills a triangle's
        edge pixels too), a pixel is in when at least half of its ss x ss samples are."""
        img = np.zeros((cam.height * ss, cam.width * ss), np.uint8)
        px = cam.project(v.astype(np.float64)) * ss - 0.5  # OpenCV puts pixel centres on integers
        tri = np.round(px[f] * 16).astype(np.int32)  # 4 fractional bits
        for p in tri:
            cv2.fillConvexPoly(img, p, 1, lineType=cv2.LINE_8, shift=4)
        return img.reshape(cam.height, ss, cam.width, ss).mean((1, 3)) >= 0.5

    for s in bench:
        pr = raster(s.body.vertices, s.body.faces, s.camera)
        orr = raster(s.object_vertices, s.mesh.faces, s.camera)
        union = s.person.mask | s.object.mask
        iou = (union & (pr | orr)).sum() / (union | pr | orr).sum()
        assert iou > 0.95, (s.category, iou)  # thin parts (spokes, strings) differ most
        grow = np.ones((3, 3), np.uint8)
        assert (s.person.mask & cv2.dilate(pr.astype(np.uint8), grow).astype(bool)).sum() >= 0.99 * s.person.mask.sum()
        assert (s.object.mask & cv2.dilate(orr.astype(np.uint8), grow).astype(bool)).sum() >= 0.99 * s.object.mask.sum()


def test_landmarks_are_noisy_mediapipe_points(bench):
    from hoirecon.body.fit import MEDIAPIPE_INDEX, targets_from_person

    mapped = sorted(i for i in MEDIAPIPE_INDEX.values() if i is not None)
    hands = sorted(i for idx in S.HAND_LANDMARKS.values() for i in idx)
    errs, vis = [], []
    for s in bench:
        p = s.person
        assert p.keypoints.shape == (33, 2) and p.visibility.shape == (33,) and p.world_keypoints.shape == (33, 3)
        unmapped = np.setdiff1d(np.arange(33), mapped + hands)
        assert (p.visibility[unmapped] == 0).all()
        assert (p.visibility[hands] > 0).mean() > 0.5  # the hand points are drawn (a few dropped)
        true = s.landmarks_true[mapped]
        errs.append(np.linalg.norm(p.keypoints[mapped] - true, axis=1))
        vis.append(p.visibility[mapped])
        assert np.allclose(0.5 * (p.world_keypoints[23] + p.world_keypoints[24]), 0, atol=0.03)  # hip-centred
        k = s.body.keypoints3d
        px = s.camera.project(k.astype(np.float64))
        assert np.allclose(px[KEYPOINT_NAMES.index("nose")], s.landmarks_true[0], atol=1e-3)
        t = targets_from_person(p)  # the fitter accepts it
        assert t.weight.sum() > 5
    errs, vis = np.concatenate(errs), np.concatenate(vis)
    assert 1.5 < np.sqrt((errs**2).mean() / 2) < 2.6  # sigma ~ 2 px per axis
    dropped = (vis == 0).mean()
    assert 0.03 < dropped < 0.2


def test_hand_points_are_on_the_fingers(bench):
    """The stand-ins for MediaPipe's pinky, index and thumb landmarks lie on the hand, beyond the wrist
    (toward the fingertips), and do not change the other landmarks (their noise is a stream of their own)."""
    for s in bench:
        b = s.body
        pts = S.hand_points(b.vertices, b.part_of_vertex, b.part_names, b.keypoints3d)
        assert sorted(pts) == sorted(i for idx in S.HAND_LANDMARKS.values() for i in idx)
        for hand, idx in S.HAND_LANDMARKS.items():
            wrist = b.keypoints3d[KEYPOINT_NAMES.index(hand.replace("hand", "wrist"))]
            hv = b.vertices[b.part_of_vertex == b.part_names.index(hand)]
            p = pts[idx[1]]
            d = float(np.linalg.norm(p - wrist))
            assert 0.05 < d < 0.2, (s.category, hand, d)  # fingers, not the wrist, not the forearm
            # farther from the wrist than the hand's centroid, and on the hand (near some of its vertices)
            assert d > np.linalg.norm(hv.mean(0) - wrist)
            assert np.linalg.norm(hv - p, axis=1).min() < 0.03
            assert np.allclose(s.landmarks_true[idx[1]], s.camera.project(p[None].astype(np.float64))[0], atol=1e-2)
    # the body landmarks are those of a draw without the hand points
    s = bench[0]
    rng = np.random.default_rng(0)
    kp = s.body.keypoints3d
    a = S.scene_landmarks(kp, s.camera, s.object.mask, np.random.default_rng(5), S.scene_settings())
    b = S.scene_landmarks(kp, s.camera, s.object.mask, np.random.default_rng(5), S.scene_settings(),
                          S.hand_points(s.body.vertices, s.body.part_of_vertex, s.body.part_names, kp), rng)
    from hoirecon.body.fit import MEDIAPIPE_INDEX

    mapped = sorted(i for i in MEDIAPIPE_INDEX.values() if i is not None)
    assert np.array_equal(a[0][mapped], b[0][mapped]) and np.array_equal(a[1][mapped], b[1][mapped])
    assert (a[1][[17, 18, 19, 20, 21, 22]] == 0).all() and (b[0][[19, 20]] != 0).all()


def test_sitting_puts_the_buttocks_on_the_seat(anny_body):
    s = S.generate_scene("chair", seed=0, index=3, model=anny_body)
    assert ("buttocks", "seat") in s.contacts.pairs
    k = {n: s.body.keypoints3d[i] for i, n in enumerate(KEYPOINT_NAMES)}
    hips = 0.5 * (k["left_hip"] + k["right_hip"])
    seat = s.object_vertices[s.mesh.part_vertices("seat")].mean(0)
    g = s.gravity.astype(np.float64)
    assert 0.03 < (seat - hips) @ g < 0.25  # the seat is just below the hips
    assert abs((k["left_knee"] - hips) @ g) < 0.15  # thighs about level
    feet = s.object_vertices[s.mesh.part_vertices("legs")]
    assert (feet @ g).max() > (seat @ g) + 0.35  # the chair's legs reach down toward the floor
    h, _ = s.pair_vertices(("buttocks", "seat"))
    assert len(h) > 20


# ------------------------------------------------------------------ floor scenes (gravity benchmark)


@pytest.mark.parametrize("case", ["sitting/chair", "cycling/bicycle", "jumping/sports_ball", "lying/sports_ball"])
def test_floor_scene_supports_rest_on_the_true_floor(anny_body, case):
    from scipy.spatial.transform import Rotation

    from benchmarks.support import floor_scenes as F

    fs = F.generate_floor_scene(case, seed=0, index=0, model=anny_body)
    again = F.generate_floor_scene(case, seed=0, index=0, model=anny_body)
    sc = fs.scene
    np.testing.assert_array_equal(sc.body.vertices, again.scene.body.vertices)  # deterministic
    np.testing.assert_array_equal(fs.image.rgb, again.image.rgb)
    body_low, obj_low = fs.height(sc.body.vertices).min(), fs.height(sc.object_vertices).min()
    spec = F.CASES[case]
    if fs.body_on_floor:
        assert abs(body_low) < 1e-3
    elif "lift_m" in spec:
        assert abs(body_low - spec["lift_m"]) < 1e-3  # a jump: the feet that far above the floor
    else:
        assert body_low > 0.05  # on the object
    if fs.object_on_floor:
        assert abs(obj_low) < 1e-3
    assert obj_low > -1e-3 and body_low > -1e-3  # nothing under the floor
    assert F.SCALE_RANGE[0] <= fs.scale <= F.SCALE_RANGE[1]
    # the object's pose reproduces its vertices; the body's state reproduces its mesh
    posed = fs.scale * sc.mesh.vertices @ sc.rotation.T + sc.translation
    np.testing.assert_allclose(posed, sc.object_vertices, atol=2e-4)
    with torch.no_grad():
        out = anny_body.forward(torch.as_tensor(sc.pose)[None], torch.as_tensor(sc.shape)[None])
    R = Rotation.from_rotvec(sc.body.state.orient).as_matrix()
    np.testing.assert_allclose(out.vertices[0].numpy() @ R.T + sc.body.state.transl, sc.body.vertices, atol=2e-4)
    # the primary contact still holds after scaling, the camera looks through a tilted frame, masks are drawn
    hv, ov = sc.pair_vertices(sc.primary_pair)
    d = np.linalg.norm(sc.body.vertices[hv][:, None] - sc.object_vertices[ov][None], axis=-1).min()
    assert d < 0.03
    assert np.degrees(np.arccos(np.clip(-fs.up[1], -1, 1))) < 45.0
    assert sc.person.mask.sum() > 200 and sc.object.mask.sum() > 200
    assert fs.image.rgb.shape == (sc.camera.height, sc.camera.width, 3)


def test_mode_recipes_make_scenes_of_their_mode(anny_body):
    from hoirecon.contact.priors import category_modes

    extra = {k: v for k, v in S.mode_recipes().items() if "/" in k}
    assert len(extra) >= 5 and set(S.category_configs()) <= set(S.mode_recipes())
    assert S.category_configs()["suitcase"].mode == "carry" and S.category_configs()["chair"].mode == "sit"
    for recipe, cfg in extra.items():
        cat, _, mode = recipe.partition("/")
        assert cfg.category == cat and cfg.mode == mode and mode in {m["name"] for m in category_modes(cat)}
    # scenes of the first extra recipes (the new ones: test_new_mode_recipes_touch_with_their_primary_part)
    for recipe in ("chair/hand_on", "sports_ball/kick", "sports_ball/head", "helmet/hold", "skateboard/carry",
                   "backpack/carry"):  # fmt: skip
        cat, _, mode = recipe.partition("/")
        sc = S.generate_scene(recipe, seed=0, index=0, model=anny_body)
        assert sc.category == cat and sc.mode == mode and sc.mesh.category == cat
        assert sc.primary_pair in sc.contacts.pairs, recipe


def test_every_interaction_mode_has_a_recipe(anny_body):
    import json
    from importlib import resources

    from hoirecon.objects.library import build_mesh

    priors = json.loads(resources.files("hoirecon.data").joinpath("contacts.json").read_text(encoding="utf-8"))
    recipes = S.mode_recipes()
    covered = {(c.category, c.mode) for c in recipes.values()}
    cats = {c for c in priors if not c.startswith("_") and c != "proxy"}  # every library category
    assert len(cats) >= 60 and {c for c, _ in covered} == cats
    modes = {(cat, m["name"]) for cat in cats for m in priors[cat].get("modes", [])}
    assert modes - covered == set(), sorted(modes - covered)
    assert covered <= modes and len(modes) >= 200
    written = {(c.category, c.mode) for c in recipes.values() if not c.derived}
    assert len(written) == 49 and all(c.required and c.any_part for c in recipes.values() if c.derived)
    presets = S.pose_presets("anny")
    _, part_names = anny_body.part_segmentation()
    for recipe, c in recipes.items():
        mesh = build_mesh(c.category)
        assert c.preset in presets, recipe
        assert c.primary[0] in part_names and set(c.target) <= set(part_names) and c.primary[0] in c.target, recipe
        assert len(mesh.part_vertices(c.primary[1])) > 0, recipe
        assert np.allclose(c.body_rotation @ c.body_rotation.T, np.eye(3), atol=1e-9), recipe
        assert c.primary in c.pairs or c.primary[1] in {o for _, o in c.pairs}, recipe  # the mode's own object part
    held = S.held_out_categories()
    assert held == ["motorcycle"] and all(any(c.category == h for c in recipes.values()) for h in held)


@pytest.mark.parametrize("recipe", ["motorcycle/hand_on", "suitcase/sit_on", "bench/lie", "baseball_bat/on_shoulder"])
def test_new_mode_recipes_touch_with_their_primary_part(anny_body, recipe):
    cfg = S.mode_recipes()[recipe]
    sc = S.generate_scene(recipe, seed=0, index=1, model=anny_body)
    assert sc.mode == cfg.mode and tuple(cfg.primary) in sc.contacts.pairs, sc.contacts.pairs
    g = sc.gravity.astype(np.float64)
    body_low, obj_low = (sc.body.vertices @ g).max(), (sc.object_vertices @ g).max()  # lowest points (y down)
    if cfg.floor or cfg.floor_tol_m is not None:  # the object stands on the floor under the body's feet
        assert abs(obj_low - body_low) <= (cfg.floor_tol_m or 1e-3), obj_low - body_low
    # the body's state reproduces its mesh (a lying body's orientation is in it)
    assert np.allclose(anny_body.rebuild_vertices(dict(sc.body.params)), sc.body.vertices, atol=1e-4)
    k = {n: sc.body.keypoints3d[i] for i, n in enumerate(KEYPOINT_NAMES)}
    drop = (k["left_ankle"] - k["nose"]) @ g  # how far the feet are below the head
    if recipe == "bench/lie":
        assert abs(drop) < 0.5 and obj_low - body_low > 0.3  # lying along the seat, the bench's legs below
    else:
        assert drop > 0.8
    if recipe == "baseball_bat/on_shoulder":  # turned about the grip until the bat rests on the shoulder
        assert {("right_upper_arm", "barrel"), ("neck", "barrel"), ("back", "barrel")} & set(sc.contacts.pairs)


def test_mode_bench_reports_held_out_categories_apart():
    from benchmarks.mode_bench import ROWS, tables_markdown

    def rec(chamfer, right):
        return {"object_chamfer_cm": chamfer, "contact_f1": 0.5, "contact_f1_tol": 0.6, "seconds": 1.0, "mode_right": right,
                "mode": "ride"}

    res = [("motorcycle/ride", {row: rec(2.0, 1.0) for row in ROWS}),
           ("motorcycle/hand_on", {row: rec(4.0, 0.0) for row in ROWS}),
           ("chair/stand_on", {row: rec(8.0, 1.0) for row in ROWS})]  # fmt: skip
    text = tables_markdown({"results": res}, held_out=["motorcycle"])
    lines = text.splitlines()
    for row in ROWS:
        assert any(ln.startswith(f"| {row} | 67 % (2/3) | 4.00 /") for ln in lines), row
        assert any(ln.startswith(f"| {row} (held-out: motorcycle) | 50 % (1/2) | 3.00 /") for ln in lines), row
        assert any(ln.startswith(f"| {row} (other categories) | 100 % (1/1) | 8.00 /") for ln in lines), row
    assert "| motorcycle/ride (held out) | ride |" in text and "| chair/stand_on | ride |" in text
    plain = tables_markdown({"results": res[2:]}, held_out=["motorcycle"])
    assert "held-out" not in plain and "other categories" not in plain


def test_derived_recipes_follow_the_modes_data():
    """A mode nobody wrote a recipe for gets one from the ``derive`` rules: the template by its first
    required pair's body part (and both hands, the support, the posture), that pair's object part
    as the primary part, the mode's required body parts as the scene's check."""
    r = S.mode_recipes()
    assert r["cell_phone/hold"].derived == "hold" and r["cell_phone/hold"].primary == ("right_hand", "body")
    assert r["cell_phone/hold"].required == (("left_hand", "right_hand"),)  # either hand: one group
    assert r["couch/sit"].derived == "sit" and r["couch/sit"].primary == ("buttocks", "seat")
    assert r["horse/ride"].derived == "ride" and r["bed/lie"].derived == "lie" and r["bed/lie_front"].derived == "lie_front"
    assert r["shopping_cart/push"].derived == "two_hands_floor" and r["refrigerator/open"].derived == "hand_on_floor"
    assert r["sandwich/eat"].derived == "to_mouth" and r["tie/wear"].derived == "front"
    assert r["barbell/squat"].derived == "behind" and r["yoga_mat/stand"].derived == "stand_on"
    assert r["chair/hand_on"].derived == "" and not r["chair/hand_on"].any_part  # written recipes stay as written


@pytest.mark.parametrize("recipe", ["cell_phone/hold", "couch/sit", "horse/ride", "tie/wear", "refrigerator/open"])
def test_derived_recipes_make_scenes_of_their_mode(anny_body, recipe):
    cfg = S.mode_recipes()[recipe]
    sc = S.generate_scene(recipe, seed=0, index=0, model=anny_body)
    assert sc.mode == cfg.mode and sc.category == cfg.category
    touched = {b for b, _ in sc.contacts.pairs}
    assert all(touched & set(g) for g in cfg.required), (recipe, sc.contacts.pairs)
    assert sc.primary_pair in sc.contacts.pairs and sc.primary_pair[0] in cfg.target
    both = set(sc.contacts.pair_of_human_vertex.tolist()) & set(sc.contacts.pair_of_object_vertex.tolist())
    assert both  # a pair the fit can pull together
    if recipe == "refrigerator/open":  # a floor recipe: standing on the body's floor
        floor_y = float((sc.body.vertices @ sc.body_rotation).max(0)[1])
        assert abs(float((sc.object_vertices @ sc.body_rotation).max(0)[1]) - floor_y) < 0.01


def test_sample_recipes_show_every_category_once():
    a, b = S.sample_recipes(0), S.sample_recipes(1)
    cats = [S.mode_recipes()[t[0]].category for t in a]
    assert len(cats) == len(set(cats)) == len({c.category for c in S.mode_recipes().values()}) >= 60
    assert a == S.sample_recipes(0) and a != b  # deterministic in the seed; another seed, other modes
    for tries in a:  # each scene's fallbacks: the same category's other recipes
        assert len({S.mode_recipes()[t].category for t in tries}) == 1
        assert len(tries) == sum(c.category == S.mode_recipes()[tries[0]].category for c in S.mode_recipes().values())
    import json
    from importlib import resources

    priors = json.loads(resources.files("hoirecon.data").joinpath("contacts.json").read_text(encoding="utf-8"))
    shown = [S.mode_recipes()[t[0]] for t in a]
    default = sum(c.mode == priors[c.category]["modes"][0]["name"] for c in shown)
    assert default < 0.6 * len(shown)  # not the trivial "first mode" every time
