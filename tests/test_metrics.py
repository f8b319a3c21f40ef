"""Every metric in benchmarks.support.metrics against a case worked out by hand."""

from __future__ import annotations

import time

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from benchmarks.support import metrics as M


def _rot(axis: str, deg: float) -> np.ndarray:
    return Rotation.from_euler(axis, deg, degrees=True).as_matrix()


def _cube_vertices() -> np.ndarray:
    return np.array([[x, y, z] for x in (0.0, 1.0) for y in (0.0, 1.0) for z in (0.0, 1.0)])


def _box(extent: float = 0.2):
    """Closed axis-aligned box centred at the origin: (8, 3) vertices, (12, 3) faces."""
    import trimesh

    m = trimesh.creation.box(extents=(extent, extent, extent))
    assert m.is_watertight
    return np.asarray(m.vertices), np.asarray(m.faces)


def _grid(n: int = 6, z: float = 0.0, size: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Square n x n vertex grid in the plane z, side `size`: vertices, faces."""
    xs = np.linspace(0.0, size, n)
    X, Y = np.meshgrid(xs, xs, indexing="ij")
    v = np.stack([X.ravel(), Y.ravel(), np.full(X.size, z)], 1)
    f = []
    for i in range(n - 1):
        for j in range(n - 1):
            a, b, c, d = i * n + j, (i + 1) * n + j, (i + 1) * n + j + 1, i * n + j + 1
            f += [[a, b, c], [a, c, d]]
    return v, np.array(f)


# ------------------------------------------------------------------------------------ pose errors


def test_translation_error_cm():
    assert M.translation_error_cm([0, 0, 2.0], [0.03, 0.04, 2.0]) == pytest.approx(5.0)
    batch = M.translation_error_cm(np.zeros((2, 3)), np.array([[0.0, 0, 0.1], [0, 0.02, 0]]))
    np.testing.assert_allclose(batch, [10.0, 2.0])


def test_rotation_error_cube_turned_about_y():
    R_true = np.eye(3)
    R_pred = _rot("y", 90)  # the cube turned a quarter about its own y axis
    assert M.rotation_error_deg(R_pred, R_true, "none") == pytest.approx(90.0)
    assert M.rotation_error_deg(R_pred, R_true, "mirror_x") == pytest.approx(90.0)  # plain geodesic
    assert M.rotation_error_deg(R_pred, R_true, "rot_y") == pytest.approx(0.0, abs=1e-9)
    assert M.rotation_error_deg(R_pred, R_true, "sphere") == 0.0
    assert M.rotation_error_deg(R_true, R_true) == pytest.approx(0.0, abs=1e-6)
    assert M.rotation_error_deg(_rot("z", 180), R_true) == pytest.approx(180.0)


def test_rotation_error_rot_y_is_axis_angle():
    R_true = _rot("x", 30)
    # spin about the object's own (canonical) y axis: x_cam = R_true @ Ry(70) @ x_canonical
    assert M.rotation_error_deg(R_true @ _rot("y", 70), R_true, "rot_y") == pytest.approx(0.0, abs=1e-6)
    assert M.rotation_error_deg(R_true @ _rot("y", 70), R_true, "none") == pytest.approx(70.0)
    # spin about the *camera* y axis is not a symmetry when the object is tilted
    assert M.rotation_error_deg(_rot("y", 70) @ R_true, R_true, "rot_y") > 1.0
    # a 25 degree tilt of the axis (about canonical z, perpendicular to it) on top of a spin reads 25
    R_pred = R_true @ _rot("z", 25) @ _rot("y", 123)
    assert M.rotation_error_deg(R_pred, R_true, "rot_y") == pytest.approx(25.0)
    # upside down is 180 (y -> -y is not a symmetry)
    assert M.rotation_error_deg(_rot("x", 180), np.eye(3), "rot_y") == pytest.approx(180.0)


def test_rotation_error_rot_y_equals_minimum_over_spins():
    rng = np.random.default_rng(3)
    thetas = np.linspace(0, 360, 3601)[:-1]
    spins = Rotation.from_euler("y", thetas[:, None], degrees=True).as_matrix()
    for _ in range(5):
        Rp, Rt = Rotation.random(2, random_state=rng).as_matrix()
        brute = min(M.rotation_error_deg(Rp, Rt @ S) for S in spins)
        assert M.rotation_error_deg(Rp, Rt, "rot_y") == pytest.approx(brute, abs=0.1)


def test_rotation_error_rejects_unknown_symmetry():
    with pytest.raises(ValueError):
        M.rotation_error_deg(np.eye(3), np.eye(3), "rot_z")


# ---------------------------------------------------------------------------- sampling / Chamfer


def test_surface_samples_uniform_and_deterministic():
    # two disjoint triangles of area 0.5 and 1.5 in the plane z = 0
    v = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [5, 0, 0], [8, 0, 0], [5, 1, 0]], float)
    f = np.array([[0, 1, 2], [3, 4, 5]])
    a = M.surface_samples(v, f, n=8000, seed=1)
    assert a.shape == (8000, 3)
    np.testing.assert_array_equal(a, M.surface_samples(v, f, n=8000, seed=1))
    assert not np.array_equal(a, M.surface_samples(v, f, n=8000, seed=2))
    assert np.all(a[:, 2] == 0)
    first = a[:, 0] < 2
    assert first.mean() == pytest.approx(0.25, abs=0.02)  # area-weighted: 0.5 / 2.0
    # inside the triangles, uniformly: mean = centroid
    assert np.all(a[first, 0] + a[first, 1] <= 1 + 1e-12) and np.all(a[first] >= -1e-12)
    np.testing.assert_allclose(a[first, :2].mean(0), [1 / 3, 1 / 3], atol=0.02)
    np.testing.assert_allclose(a[~first, :2].mean(0), [6.0, 1 / 3], atol=0.03)


def test_chamfer_unit_cubes_offset():
    a = _cube_vertices()
    b = a + [0.1, 0.0, 0.0]  # every vertex's nearest neighbour is its own copy, 0.1 m away
    assert M.chamfer_cm(a, b) == pytest.approx(10.0)
    assert M.chamfer_cm(a, b, reduction="sum") == pytest.approx(20.0)  # CONTHO/BEHAVE convention
    assert M.chamfer_cm(a, a) == 0.0


def test_chamfer_is_mean_of_the_two_directions():
    a = np.array([[0.0, 0, 0]])
    b = np.array([[0.0, 0, 0], [1.0, 0, 0]])  # a->b: 0; b->a: (0 + 1) / 2 = 0.5 m
    assert M.chamfer_cm(a, b) == pytest.approx(25.0)
    assert M.chamfer_cm(b, a) == pytest.approx(25.0)
    assert M.chamfer_cm(a, b, reduction="sum") == pytest.approx(50.0)


def test_object_chamfer_planes_offset_along_normal():
    v, f = _grid(z=0.0)
    assert M.object_chamfer_cm(v, v, f, f) == 0.0
    # same faces + same seed -> the samples are offset copies; nothing is closer than the offset
    assert M.object_chamfer_cm(v + [0, 0, 0.02], v, f, f) == pytest.approx(2.0)


# ---------------------------------------------------------------------------------- alignment


def test_rigid_align_recovers_known_transform():
    rng = np.random.default_rng(0)
    src = rng.normal(size=(50, 3))
    R = Rotation.from_rotvec([0.3, -1.1, 0.7]).as_matrix()
    t = np.array([0.5, -0.2, 3.0])
    dst = src @ R.T + t
    R_est, t_est, aligned = M.rigid_align(src, dst)
    np.testing.assert_allclose(R_est, R, atol=1e-10)
    np.testing.assert_allclose(t_est, t, atol=1e-10)
    np.testing.assert_allclose(aligned, dst, atol=1e-10)
    s, R_s, t_s, al_s = M.similarity_align(src, 1.7 * src @ R.T + t)
    assert s == pytest.approx(1.7)
    np.testing.assert_allclose(R_s, R, atol=1e-10)
    np.testing.assert_allclose(t_s, t, atol=1e-10)


def test_rigid_align_never_reflects():
    rng = np.random.default_rng(1)
    src = rng.normal(size=(30, 3))
    dst = src * [-1.0, 1.0, 1.0]  # a mirror image: the best *rotation* is not the reflection
    R, _, _ = M.rigid_align(src, dst)
    assert np.linalg.det(R) == pytest.approx(1.0)
    np.testing.assert_allclose(R @ R.T, np.eye(3), atol=1e-10)


def test_combined_chamfer_of_rigidly_moved_copy_is_zero():
    import trimesh

    body = trimesh.creation.icosphere(subdivisions=2, radius=0.3)
    bv, bf = np.asarray(body.vertices), np.asarray(body.faces)
    ov, of = _box(0.2)
    ov = ov + [0.45, 0.0, 0.0]  # object beside the "body"
    R = Rotation.from_rotvec([0.2, 0.9, -0.4]).as_matrix()
    t = np.array([0.1, 0.3, 2.5])
    res = M.combined_chamfer_cm(bv @ R.T + t, bf, ov @ R.T + t, of, bv, bf, ov, of, n=2000)
    assert set(res) == {"human_cm", "object_cm"}
    assert res["human_cm"] == pytest.approx(0.0, abs=1e-6)
    assert res["object_cm"] == pytest.approx(0.0, abs=1e-6)
    # a scaled copy: rigid alignment keeps the size error, similarity alignment (CONTHO's) removes it
    rigid = M.combined_chamfer_cm(1.2 * bv, bf, 1.2 * ov, of, bv, bf, ov, of, n=2000)
    sim = M.combined_chamfer_cm(1.2 * bv, bf, 1.2 * ov, of, bv, bf, ov, of, n=2000, with_scale=True)
    assert rigid["human_cm"] > 1.0 and rigid["object_cm"] > 1.0
    assert sim["human_cm"] == pytest.approx(0.0, abs=1e-6)
    assert sim["object_cm"] == pytest.approx(0.0, abs=1e-6)
    # the object moved relative to the body: the relative error survives the joint alignment
    moved = M.combined_chamfer_cm(bv, bf, ov + [0.1, 0, 0], of, bv, bf, ov, of, n=2000)
    assert moved["object_cm"] > 1.0


# ----------------------------------------------------------------------------------- contacts


def test_contact_distance_parallel_planes_2cm():
    bv, _ = _grid(z=0.0)
    ov, _ = _grid(z=0.02)
    idx = np.arange(len(bv))
    assert M.contact_distance_cm(bv, ov, idx, idx) == pytest.approx(2.0)
    # only the true contact vertices count: an object vertex elsewhere changes nothing
    ov2 = np.vstack([ov, [[0.05, 0.05, 0.001]]])
    assert M.contact_distance_cm(bv, ov2, idx, idx) == pytest.approx(2.0)
    assert np.isnan(M.contact_distance_cm(bv, ov, [], idx))


def test_contact_distance_respects_pairs():
    bv = np.array([[0.0, 0, 0], [1.0, 0, 0]])
    ov = np.array([[0.0, 0, 0.02], [1.0, 0, 0.02]])
    idx = np.array([0, 1])
    assert M.contact_distance_cm(bv, ov, idx, idx) == pytest.approx(2.0)
    # body vertex 0 belongs with object vertex 1 and vice versa -> each must reach across 1 m
    d = M.contact_distance_cm(bv, ov, idx, idx, pair_of_human=[0, 1], pair_of_object=[1, 0])
    assert d == pytest.approx(100.0 * np.hypot(1.0, 0.02))
    # a body vertex whose pair has no object vertex is skipped
    d = M.contact_distance_cm(bv, ov, idx, [0], pair_of_human=[0, 1], pair_of_object=[0])
    assert d == pytest.approx(2.0)
    with pytest.raises(ValueError):
        M.contact_distance_cm(bv, ov, idx, idx, pair_of_human=[0, 1])


def _fibonacci_sphere(center, r: float, n: int) -> np.ndarray:
    """n points on a sphere whose x offsets r*u are evenly spaced: u_i = 1 - (2i + 1) / n."""
    i = np.arange(n)
    u = 1.0 - (2 * i + 1) / n
    rho = np.sqrt(1 - u**2)
    phi = i * np.pi * (3 - np.sqrt(5))
    return np.asarray(center) + r * np.stack([u, rho * np.cos(phi), rho * np.sin(phi)], 1)


def test_penetration_sphere_half_inside_box():
    bv, bf = _box(0.2)  # box [-0.1, 0.1]^3 stands in for the body
    r, n = 0.02, 200
    pts = _fibonacci_sphere([0.1, 0.0, 0.0], r, n)  # centred on the face x = 0.1
    res = M.penetration_cm(bv, bf, pts)
    # inside: the n/2 points with u < 0, depth = -r u = r (2k + 1) / n, k < n/2
    assert res["fraction_inside"] == pytest.approx(0.5)
    assert res["max_cm"] == pytest.approx(100 * r * (n - 1) / n, abs=1e-4)
    assert res["mean_cm"] == pytest.approx(100 * r / 2, abs=1e-4)  # sum_k (2k+1) = (n/2)^2
    out = M.penetration_cm(bv, bf, pts + [0.05, 0, 0])  # moved clear of the box
    assert out == {"max_cm": 0.0, "mean_cm": 0.0, "fraction_inside": 0.0}


def test_contact_prf_hand_made():
    obj = np.zeros((1, 3))
    # distances to the object: 1, 2, 3, 4 cm (predicted in contact), 10, 20, 50, 50 cm (not)
    dist = np.array([0.01, 0.02, 0.03, 0.04, 0.10, 0.20, 0.5, 0.5])
    body = np.stack([dist, np.zeros(8), np.zeros(8)], 1)
    true = [0, 1, 2, 4, 5]  # TP {0, 1, 2}, FP {3}, FN {4, 5}
    res = M.contact_prf(body, obj, true)
    assert (res["tp"], res["fp"], res["fn"]) == (3, 1, 2)
    assert res["precision"] == pytest.approx(3 / 4)
    assert res["recall"] == pytest.approx(3 / 5)
    assert res["f1"] == pytest.approx(2 * 3 / (2 * 3 + 1 + 2))


def test_contact_prf_empty_sets():
    obj = np.zeros((1, 3))
    far = np.array([[1.0, 0, 0], [2.0, 0, 0]])
    near = np.array([[0.01, 0, 0], [2.0, 0, 0]])
    both_empty = M.contact_prf(far, obj, [])
    assert (both_empty["precision"], both_empty["recall"], both_empty["f1"]) == (1.0, 1.0, 1.0)
    missed = M.contact_prf(far, obj, [0])
    assert (missed["precision"], missed["recall"], missed["f1"]) == (1.0, 0.0, 0.0)
    spurious = M.contact_prf(near, obj, [])
    assert (spurious["precision"], spurious["recall"], spurious["f1"]) == (0.0, 1.0, 0.0)


# --------------------------------------------------------------------------------- aggregation


def test_summarize():
    s = M.summarize(list(range(1, 11)))
    assert s["median"] == pytest.approx(5.5)
    assert s["p90"] == pytest.approx(9.1)  # np.percentile: 9 + 0.1 * (10 - 9)
    assert s["n"] == 10
    assert M.summarize([1.0, float("nan"), 3.0])["median"] == pytest.approx(2.0)  # NaN dropped
    with_inf = M.summarize([1.0, 2.0, 3.0, float("inf")])
    assert with_inf["median"] == pytest.approx(2.5) and with_inf["p90"] == float("inf")
    assert np.isnan(M.summarize([])["median"])


def test_timer():
    with M.Timer() as t:
        time.sleep(0.05)
        assert t.elapsed > 0
    assert 0.04 < t.seconds < 2.0
    assert float(t) == t.seconds
