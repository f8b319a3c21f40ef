"""Geometry helpers against slow references: the SDF grid against an exact signed distance, 6D
rotations and the cube group, ray-cast depth maps, the fast nearest-point matching against cdist."""

from __future__ import annotations

import numpy as np
import torch
import trimesh

from hoirecon.geometry.raycast import depth_map
from hoirecon.geometry.rotations import cube_rotations, matrix_to_rot6d, rot6d_to_matrix
from hoirecon.geometry.sdf import body_sdf_grid
from hoirecon.geometry.torchops import nearest_distances


def test_rot6d_round_trip_and_cube_rotations():
    Rs = torch.as_tensor(cube_rotations(), dtype=torch.float32)
    assert Rs.shape == (24, 3, 3)
    assert len({tuple(r.flatten().tolist()) for r in Rs}) == 24
    assert torch.allclose(torch.det(Rs), torch.ones(24))
    assert torch.allclose(rot6d_to_matrix(matrix_to_rot6d(Rs)), Rs, atol=1e-6)


def test_sdf_grid_matches_the_exact_box_sdf():
    """Trilinear SDF grid against the closed-form signed distance of a box (negative inside)."""
    half = np.array([0.2, 0.3, 0.15])
    box = trimesh.creation.box(2 * half).subdivide()
    grid = body_sdf_grid(box.vertices.astype(np.float32), box.faces, spacing=0.02, margin=0.1)
    rng = np.random.default_rng(0)
    pts = rng.uniform(-(half + 0.08), half + 0.08, (2000, 3)).astype(np.float32)  # inside the grid
    q = np.abs(pts) - half
    exact = np.linalg.norm(np.maximum(q, 0), axis=1) + np.minimum(q.max(1), 0)
    ours = grid(torch.as_tensor(pts)).numpy()
    far = np.abs(exact) > 0.03
    assert np.all(np.sign(ours[far]) == np.sign(exact[far]))
    assert np.abs(ours - exact).max() < 0.02


def test_sdf_grid_cache_evicts_the_grid_used_least_recently(monkeypatch):
    """The grid cache evicts the least recently used grid (here with room for two): a body whose grid
    is read between two objects' grids (the makes of a category, each followed by its limb phase) is
    not computed again."""
    import hoirecon.geometry.sdf as sdf

    monkeypatch.setattr(sdf, "_SDF_CACHE", {})
    monkeypatch.setattr(sdf, "_SDF_KEEP", 2)
    computed = []
    real = sdf._compute_sdf_grid
    monkeypatch.setattr(sdf, "_compute_sdf_grid", lambda v, f, *a: computed.append(len(v)) or real(v, f, *a))
    meshes = [trimesh.creation.box((0.2, 0.2, 0.2 + 0.1 * k)) for k in range(3)]
    body, objs = meshes[0], meshes[1:]
    first = body_sdf_grid(body.vertices.astype(np.float32), body.faces)
    for obj in objs:  # body, object, body, object: the body's grid stays
        body_sdf_grid(obj.vertices.astype(np.float32), obj.faces)
        assert body_sdf_grid(body.vertices.astype(np.float32), body.faces) is first
    assert len(computed) == 3  # the body once, each object once
    body_sdf_grid(objs[0].vertices.astype(np.float32), objs[0].faces)  # evicted by the second object
    assert len(computed) == 4


def test_depth_map_matches_brute_force_ray_plane():
    """A plane at z = 2 seen by the camera: depth is 2 wherever it is hit."""
    plane = trimesh.Trimesh(vertices=[[-1, -1, 2], [1, -1, 2], [1, 1, 2], [-1, 1, 2]], faces=[[0, 1, 2], [0, 2, 3]])
    K = np.array([[50.0, 0, 32], [0, 50.0, 32], [0, 0, 1]])
    d = depth_map(plane.vertices.astype(np.float32), plane.faces, K, 64, 64)
    u = (np.arange(64) + 0.5 - 32) / 50 * 2  # x on the plane for each column
    inside = np.abs(u) < 1
    assert np.allclose(d[32, inside], 2.0, atol=1e-5)
    assert np.isinf(d[32, ~inside]).all()


def test_nearest_distances_match_cdist_values_and_gradients():
    """The no-autograd matching + gathered distances give cdist(...).min's values and gradients."""
    g = torch.Generator().manual_seed(0)
    A0, B0 = torch.randn(3, 40, 3, generator=g), torch.randn(3, 55, 3, generator=g)
    A1, B1 = A0.clone().requires_grad_(True), B0.clone().requires_grad_(True)
    da, db = nearest_distances(A1, B1)
    (da.sum() + 2 * db.sum()).backward()
    A2, B2 = A0.clone().requires_grad_(True), B0.clone().requires_grad_(True)
    D = torch.cdist(A2, B2)
    ra, rb = D.min(2).values, D.min(1).values
    (ra.sum() + 2 * rb.sum()).backward()
    assert torch.allclose(da, ra, atol=1e-5) and torch.allclose(db, rb, atol=1e-5)
    assert torch.allclose(A1.grad, A2.grad, atol=1e-4) and torch.allclose(B1.grad, B2.grad, atol=1e-4)
    only, none = nearest_distances(A0, B0, back=False)
    assert none is None and torch.allclose(only, ra, atol=1e-5)


def test_trimmed_mean_and_image_sampling_match_their_formulas():
    """trimmed_mean: the mean of the sorted smallest fraction; sample_image: the pixel's value at its
    centre, the linear blend between centres, the border value outside."""
    from hoirecon.geometry.torchops import sample_image, trimmed_mean

    d = torch.tensor([[5.0, 1.0, 4.0, 2.0, 3.0], [0.5, 0.1, 0.9, 0.3, 0.7]])
    assert torch.allclose(trimmed_mean(d, 0.4), torch.tensor([1.5, 0.2]))
    assert torch.allclose(trimmed_mean(d, 0.0), torch.tensor([1.0, 0.1]))  # at least one
    img = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    uv = torch.tensor([[0.5, 0.5], [3.5, 2.5], [1.0, 0.5], [-5.0, 1.5]])
    assert torch.allclose(sample_image(img, uv), torch.tensor([0.0, 11.0, 0.5, 4.0]), atol=1e-5)


def test_silhouette_against_per_pixel_reference() -> None:
    """Fast per-triangle fill against a slow per-pixel inside-any-triangle test, on a closed sphere whose
    front and back triangles overlap (OpenCV's fillPoly on the list would cut holes there)."""
    import trimesh

    from hoirecon.geometry.projection import project, silhouette

    m = trimesh.creation.icosphere(2)
    v = m.vertices * 0.2 + np.array([0.05, -0.02, 1.0])
    uv = project(v, 100.0, 100.0, 40.0, 30.0)
    got = silhouette(uv, m.faces, 60, 80)
    ys, xs = np.mgrid[0:60, 0:80]
    p = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64)  # integer pixel positions, as OpenCV's
    ref = np.zeros(len(p), bool)
    def cross(e, q):  # z of the 2D cross product
        return e[0] * q[:, 1] - e[1] * q[:, 0]

    for a, b, c in uv[m.faces]:
        d1, d2, d3 = cross(b - a, p - a), cross(c - b, p - b), cross(a - c, p - c)
        ref |= ((d1 >= 0) & (d2 >= 0) & (d3 >= 0)) | ((d1 <= 0) & (d2 <= 0) & (d3 <= 0))
    ref = ref.reshape(60, 80)
    assert ref.sum() > 500
    # the same pixels up to the rasteriser's edge rule
    assert (got ^ ref).sum() <= 0.06 * ref.sum()
    assert got[ref].mean() > 0.99  # no holes inside
    # the even-odd fill would have lost most of the disc
    import cv2

    xor = np.zeros((60, 80), np.uint8)
    cv2.fillPoly(xor, list(np.round(uv[m.faces] * 8).astype(np.int32)), 1, shift=3)
    assert xor.sum() < 0.9 * ref.sum()
