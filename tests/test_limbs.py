"""The contact-limb refinement phase, and the baselines' soft silhouette against its dense formula.
(The fast nearest-point matching against cdist: tests/test_geometry.py.)"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch


def test_free_joints_follow_the_contact_parts(anny_body):
    from hoirecon.fitting.limbs import free_joints

    names = anny_body.pose_joints
    right = [names[i] for i in free_joints(anny_body.name, names, ["right_hand"])]
    assert set(right) == {"shoulder01.R", "upperarm01.R", "lowerarm01.R", "wrist.R"}
    assert free_joints(anny_body.name, names, ["buttocks", "back"]) == []  # torso parts: translation only
    feet = [names[i] for i in free_joints(anny_body.name, names, ["left_foot", "right_foot"])]
    assert {"upperleg01.L", "foot.R"} <= set(feet) and not any("arm" in j for j in feet)


@pytest.mark.parametrize("category", ["cup", "baseball_bat"])
def test_limb_refinement_brings_a_missing_hand_back_to_the_object(anny_body, category):
    """A scene whose arm is turned away from the held object: re-posing only the contact limbs brings
    the hand back (contact distance falls several-fold), the other joints do not move, and the
    landmarks still fit."""
    from benchmarks.support.metrics import contact_distance_cm
    from benchmarks.support.scenes import generate_scene
    from hoirecon.fitting.limbs import free_joints, refine_contact_limbs
    from hoirecon.types import BodyFit, BodyState

    sc = generate_scene(category, seed=1, index=0, model=anny_body)
    c = sc.contacts
    hands = [b for b, _ in c.pairs if b.endswith("_hand")]
    assert hands, c.pairs
    st = sc.body.state
    pose = st.pose.copy()
    shoulder = anny_body.pose_joints.index("upperarm01.R" if hands[0].startswith("right") else "upperarm01.L")
    pose[shoulder] += np.array([0.0, 0.0, 0.25], np.float32)  # about 14 degrees off at the shoulder
    import roma

    with torch.no_grad():
        out = anny_body.forward(torch.as_tensor(pose)[None], torch.as_tensor(st.shape)[None])
        R = roma.rotvec_to_rotmat(torch.as_tensor(st.orient)).numpy()
    v = out.vertices[0].numpy() @ R.T + st.transl
    k = out.keypoints[0].numpy() @ R.T + st.transl
    off = BodyFit(model_name=sc.body.model_name, vertices=v.astype(np.float32), faces=sc.body.faces,
                  keypoints3d=k.astype(np.float32), keypoint_names=sc.body.keypoint_names,
                  part_of_vertex=sc.body.part_of_vertex, part_names=sc.body.part_names, params={},
                  state=replace(st, pose=pose))  # fmt: skip
    args = (c.human_vertices, c.object_vertices, c.pair_of_human_vertex, c.pair_of_object_vertex)
    before = contact_distance_cm(off.vertices, sc.object_vertices, *args)
    new, shift, losses = refine_contact_limbs(anny_body, off, sc.object_vertices, sc.mesh.faces, c, sc.person, sc.camera, 1.0)
    after = contact_distance_cm(new.vertices, sc.object_vertices, *args)
    print(f"contact distance {before:.2f} -> {after:.2f} cm")
    assert before > 3.0 and after < 0.4 * before, (before, after)
    free = set(free_joints(anny_body.name, anny_body.pose_joints, [b for b, _ in c.pairs]))
    fixed = [i for i in range(len(pose)) if i not in free]
    assert np.allclose(new.state.pose[fixed], pose[fixed])
    assert np.linalg.norm(shift) < 0.1
    assert new.reprojection_error_px < 15.0
    assert isinstance(new.state, BodyState) and 0 < losses["limb_joints_free"] <= len(free)
    # The exported parameters rebuild the refined mesh.
    assert np.abs(anny_body.rebuild_vertices(new.params) - new.vertices).max() < 1e-4
    # The true body already touches: nothing moves.
    same, shift, losses = refine_contact_limbs(anny_body, sc.body, sc.object_vertices, sc.mesh.faces, c, sc.person, sc.camera, 1.0)
    assert same is sc.body and not shift.any() and losses["limb_joints_free"] == 0


def test_patch_soft_silhouette_matches_the_dense_formula():
    """The baselines' scatter-added soft silhouette against the direct all-pixels formula: values and
    gradients, points inside, on the border and outside the image."""
    from hoirecon.fitting.baselines import soft_silhouette, soft_silhouette_dense

    g = torch.Generator().manual_seed(1)
    uv = (torch.rand(2, 60, 2, generator=g) * torch.tensor([40.0, 30.0]) - 2.0).requires_grad_(True)
    fast = soft_silhouette(uv, 26, 36, 1.0)
    (fast * torch.linspace(0, 1, 36)).sum().backward()
    g_fast = uv.grad.clone()
    uv.grad = None
    ref = soft_silhouette_dense(uv, 26, 36, 1.0)
    (ref * torch.linspace(0, 1, 36)).sum().backward()
    assert fast.shape == ref.shape == (2, 26, 36)
    assert (fast - ref).abs().max() < 2e-3 and ref.max() > 0.9
    assert torch.allclose(g_fast, uv.grad, atol=5e-3)


def test_object_sdf_spacing_resolves_thin_parts():
    """A skateboard's 1.5 cm deck gets cells inside it (the old 1/40 of the length gave 2 cm), a table
    stays under about 10^5 cells, a small cup is not refined below 7 mm."""
    from hoirecon.fitting.limbs import object_sdf_spacing
    from hoirecon.objects import build_mesh

    board = object_sdf_spacing(build_mesh("skateboard").vertices)
    assert board < 0.01
    table = build_mesh("table").vertices
    sp = object_sdf_spacing(table)
    cells = np.prod((table.max(0) - table.min(0) + 0.1) / sp + 1)
    assert cells < 1.3e5 and sp <= 1.2 / 40
    assert object_sdf_spacing(build_mesh("cup").vertices) == 0.007


def test_depth_behind_matches_the_exact_signed_distance_near_the_body(rest_body):
    """The limb phase's cheap depth of points behind a moving mesh (the tangent planes of the nearest
    vertices, torch vertex normals) against the exact signed distance (open3d) to the body, on points within
    3 cm of the feet and hands: the same sign, depths within a few millimetres; a point outside is
    never judged inside; one farther than the radius from every vertex is 0. The torch vertex
    normals match the numpy ones."""
    from hoirecon.geometry.mesh import signed_volume, vertex_normals as np_normals
    from hoirecon.geometry.sdf import signed_distance
    from hoirecon.geometry.torchops import depth_behind, vertex_normals

    V, F = rest_body.vertices.astype(np.float64), rest_body.faces
    Vt, Ft = torch.as_tensor(V, dtype=torch.float32), torch.as_tensor(np.asarray(F, np.int64))
    n = vertex_normals(Vt, Ft)
    assert np.allclose(n.numpy(), np_normals(V, F), atol=1e-4)
    n = n * (1.0 if signed_volume(V, F) >= 0 else -1.0)
    names = list(rest_body.part_names)
    ends = np.flatnonzero(np.isin(rest_body.part_of_vertex, [names.index(p) for p in ("left_foot", "right_hand")]))
    rng = np.random.default_rng(0)
    base = V[rng.choice(ends, 400)]
    pts = base + rng.normal(0, 0.015, base.shape)
    exact = signed_distance(V, F, pts)
    near = np.abs(exact) < 0.02
    depth = depth_behind(torch.as_tensor(pts, dtype=torch.float32), Vt[ends], n[ends], 0.05).numpy()
    inside = exact < -0.003
    assert inside.sum() > 30 and (near & ~inside).sum() > 30
    assert (depth[inside] > 0).mean() > 0.9
    assert (depth[exact > 0.003] == 0).mean() > 0.95
    err = np.abs(depth[near & inside] - (-exact[near & inside]))
    assert np.median(err) < 0.003, np.median(err)
    far = torch.as_tensor(V[ends].mean(0) + np.array([0.0, 0.0, -0.5]), dtype=torch.float32)[None]
    assert float(depth_behind(far, Vt[ends], -n[ends], 0.05)[0]) == 0.0  # even seen as "inside", too far to judge


def test_limb_phase_pushes_the_feet_out_of_a_thin_deck(anny_body):
    """A ridden skateboard whose 1.5 cm deck has risen 2 cm, its vertices into the soles. With every
    contact limb free to move, the contact term pulls the feet onto the deck; the object's own
    distance field sees a foot that has passed a thin deck outside it again, so without the
    object-into-body term the feet can stay sunk (a real photo of a skateboarder: 2.5 cm deep). With
    the term the deck's deepest vertex comes out of the feet."""
    from benchmarks.support.scenes import generate_scene
    from hoirecon.fitting.config import LimbConfig
    from hoirecon.fitting.limbs import refine_contact_limbs
    from hoirecon.fitting.weights import LimbWeights
    from hoirecon.geometry.sdf import signed_distance

    sc = generate_scene("skateboard", seed=0, index=0, model=anny_body)
    assert ("left_foot", "deck") in sc.contacts.pairs
    up = np.array([0.0, -1.0, 0.0], np.float32)
    board = sc.object_vertices + 0.02 * up
    # every contact part moves; the translation is held at the former 5 cm scale, as a photo's landmarks
    # hold it (these landmarks are the true body's, and at 15 cm the whole body just lifts off the deck)
    cfg = LimbConfig(reach_tol=-1.0, transl_sigma=0.05)

    def deepest(body):
        return float(max(0.0, -signed_distance(body.vertices, body.faces, board).min()))

    before = deepest(sc.body)
    with_term, _, losses = refine_contact_limbs(anny_body, sc.body, board, sc.mesh.faces, sc.contacts, sc.person,
                                                sc.camera, 0.05, cfg)  # fmt: skip
    without, _, _ = refine_contact_limbs(anny_body, sc.body, board, sc.mesh.faces, sc.contacts, sc.person, sc.camera,
                                         0.05, cfg, weights=LimbWeights(body_penetration=0.0))  # fmt: skip
    print(f"deepest deck point inside the feet {100 * before:.1f} cm -> {100 * deepest(with_term):.1f} cm "
          f"(without the term {100 * deepest(without):.1f} cm)")
    # Whether the feet sink without the term depends on the optimiser's path (1.5 cm here on 2 threads,
    # 0.3 cm on 1): it is printed, not asserted; what the term guarantees is asserted.
    assert before > 0.005 and losses["limb_body_penetration"] >= 0.0
    assert not np.array_equal(with_term.vertices, without.vertices)  # the term is wired in and acts
    assert deepest(with_term) < 0.5 * before and deepest(with_term) < 0.005


def test_surface_penetration_pushes_a_mesh_off_the_points_inside_it():
    """The object-into-body term's gradient: a sphere (the body) with a patch of object points 1 cm
    inside its top, free to translate, is pushed off them by the term alone (the points end outside
    it, checked on the exact sphere); turned the other way (inward normals), the term sees nothing,
    and the sphere stays. Its value at the start is the points' depth behind the nearest tangent
    planes (about 1 cm)."""
    import trimesh

    from hoirecon.fitting.terms import surface_penetration
    from hoirecon.geometry.torchops import vertex_normals

    ball = trimesh.creation.icosphere(subdivisions=4, radius=0.05)
    V0 = torch.as_tensor(ball.vertices, dtype=torch.float32)
    F = torch.as_tensor(np.asarray(ball.faces, np.int64))
    g = np.linspace(-0.01, 0.01, 5)
    pts = torch.as_tensor([[x, y, 0.04] for x in g for y in g], dtype=torch.float32)
    inside = lambda t: float((0.05 - (pts - t).norm(dim=1)).clamp(min=0).max())  # noqa: E731
    assert 0.008 < inside(torch.zeros(3)) < 0.011

    def push(sign: float) -> torch.Tensor:
        t = torch.zeros(3, requires_grad=True)
        opt = torch.optim.Adam([t], lr=1e-3)
        for _ in range(200):
            opt.zero_grad()
            V = V0 + t
            surface_penetration(pts, V, sign * vertex_normals(V, F), 0.05).backward()
            opt.step()
        return t.detach()

    with torch.no_grad():
        start = float(surface_penetration(pts, V0, vertex_normals(V0, F), 0.05))
    assert 0.007 < start < 0.012, start
    t = push(1.0)
    assert inside(t) < 0.001 and float(t[2]) < -0.008, t  # moved down, off the patch
    assert np.allclose(push(-1.0).numpy(), 0.0)


@pytest.mark.parametrize("depth_m", [-0.25, -0.18])
def test_limb_phase_moves_a_seated_body_along_the_view_onto_the_seat(anny_body, depth_m):
    """A person sat on a chair, moved 18 or 25 cm along the viewing ray toward the camera (what the body
    fit's depth, the least certain of its numbers, gets wrong when the person is taller than the
    model; a real office chair's sitter was fitted 15 to 20 cm in front of it): the image is nearly
    the same, and the buttocks have no limb joints, so only the person's translation can bring them
    back to the seat. With the translation prior's scale of 15 cm they come most of the way (8.0 ->
    2.2 cm, 4.7 -> 1.0 cm); with the former 5 cm they stay nearly twice as far (3.9, 2.4 cm)."""
    from benchmarks.support.scenes import generate_scene
    from hoirecon.fitting.config import LimbConfig
    from hoirecon.fitting.limbs import refine_contact_limbs
    from hoirecon.fitting.problem import contact_distance

    sc = generate_scene("chair", seed=0, index=0, model=anny_body)
    c = sc.contacts
    keep = [k for k, (b, _) in enumerate(c.pairs) if b == "buttocks"]
    assert keep, c.pairs
    hv, ov = np.isin(c.pair_of_human_vertex, keep), np.isin(c.pair_of_object_vertex, keep)
    c = replace(c, human_vertices=c.human_vertices[hv], pair_of_human_vertex=np.zeros(hv.sum(), np.int16),
                object_vertices=c.object_vertices[ov], pair_of_object_vertex=np.zeros(ov.sum(), np.int16),
                pairs=(c.pairs[keep[0]],), precise=False)  # fmt: skip
    ray = sc.body.vertices.mean(0) / np.linalg.norm(sc.body.vertices.mean(0))
    off = (depth_m * ray).astype(np.float32)
    st = sc.body.state
    moved = replace(sc.body, vertices=sc.body.vertices + off, keypoints3d=sc.body.keypoints3d + off,
                    state=replace(st, transl=st.transl + off))  # fmt: skip
    before = 100 * contact_distance(moved.vertices, c, sc.object_vertices, sc.mesh.faces)
    now, _, _ = refine_contact_limbs(anny_body, moved, sc.object_vertices, sc.mesh.faces, c, sc.person, sc.camera, 0.3)
    tight, _, _ = refine_contact_limbs(anny_body, moved, sc.object_vertices, sc.mesh.faces, c, sc.person, sc.camera, 0.3,
                                       LimbConfig(transl_sigma=0.05))  # fmt: skip
    after, old = (100 * contact_distance(b.vertices, c, sc.object_vertices, sc.mesh.faces) for b in (now, tight))
    print(f"buttocks to seat {before:.1f} -> {after:.1f} cm (5 cm prior: {old:.1f} cm)")
    assert after < 0.5 * before and after < 0.7 * old, (before, after, old)


def test_limb_phase_gives_the_same_body_every_run(anny_body):
    """The same scene re-posed three times gives the same vertices to the bit: the object-into-body
    term's gradients through repeated indices used to be summed in no fixed order (1 to 2 cm apart
    on this cup), and the torch flag the phase sets while it runs is restored afterwards."""
    from benchmarks.support.scenes import generate_scene
    from hoirecon.fitting.config import LimbConfig
    from hoirecon.fitting.limbs import refine_contact_limbs

    sc = generate_scene("cup", seed=0, index=0, model=anny_body)
    cup = sc.object_vertices + np.array([0.0, -0.02, 0.0], np.float32)
    was = torch.are_deterministic_algorithms_enabled()
    runs = [refine_contact_limbs(anny_body, sc.body, cup, sc.mesh.faces, sc.contacts, sc.person, sc.camera, 0.3,
                                 LimbConfig(reach_tol=-1.0))[0].vertices for _ in range(3)]  # fmt: skip
    assert np.abs(runs[0] - sc.body.vertices).max() > 0.005  # it did move
    assert all(np.array_equal(runs[0], r) for r in runs[1:])
    assert torch.are_deterministic_algorithms_enabled() == was
