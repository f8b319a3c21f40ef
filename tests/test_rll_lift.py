"""Lift step of Render-Localize-Lift: vectorised lift against a slow reference, inverse lift, round trips."""

from __future__ import annotations

import numpy as np
import pytest

from hoirecon.contact import render as R
from hoirecon.contact.lift import fill_unseen, lift, unlift
from hoirecon.objects import build_mesh


@pytest.fixture(scope="module")
def chair():
    return build_mesh("chair")


@pytest.fixture(scope="module")
def small_views(chair):
    return R.render_object_views(chair, size=40)


@pytest.fixture(scope="module")
def chair_views(chair):
    return R.render_object_views(chair, size=512)


def _slow_lift(views, maps, threshold=None, mode="zero"):
    """InteractVLM's rule, one pixel and one vertex at a time."""
    V = views.num_vertices
    total = [0.0] * V
    seen = [0] * V
    for view, m in zip(views, maps):
        num = [0.0] * V
        den = [0.0] * V
        H, W = view.tri_id.shape
        for i in range(H):
            for j in range(W):
                t = int(view.tri_id[i, j])
                if t < 0:
                    continue
                p = float(m[i, j])
                if threshold is not None and p <= threshold:
                    if mode == "drop":
                        continue
                    p = 0.0
                for k in range(3):
                    v = int(views.faces[t, k])
                    b = float(view.bary[i, j, k])
                    num[v] += b * p
                    den[v] += b
        for v in range(V):
            if den[v] > 0:
                total[v] += num[v] / den[v]
                seen[v] += 1
    return np.array([total[v] / seen[v] if seen[v] else 0.0 for v in range(V)]), np.array(seen)


@pytest.mark.parametrize("threshold, mode", [(None, "zero"), (0.3, "zero"), (0.3, "drop")])
def test_vectorised_lift_matches_the_slow_reference(small_views, threshold, mode):
    rng = np.random.default_rng(0)
    maps = [rng.uniform(0, 1, v.tri_id.shape).astype(np.float32) for v in small_views]
    fast, seen = lift(small_views, maps, threshold=threshold, threshold_mode=mode)
    slow, slow_seen = _slow_lift(small_views, maps, threshold, mode)
    assert seen.max() > 0
    assert np.array_equal(seen, slow_seen)
    np.testing.assert_allclose(fast, slow, rtol=1e-12, atol=1e-12)


def test_unlift_interpolates_with_barycentrics(small_views):
    rng = np.random.default_rng(1)
    s = rng.uniform(0, 1, small_views.num_vertices)
    for view, m in zip(small_views, unlift(small_views, s)):
        assert m.dtype == np.float32 and m.shape == view.tri_id.shape
        assert np.all(m[~view.mask] == 0)
        i, j = np.argwhere(view.mask)[0]
        expect = view.bary[i, j] @ s[small_views.faces[view.tri_id[i, j]]]
        assert np.isclose(m[i, j], expect, atol=1e-6)


def test_round_trip_recovers_vertex_scores(chair_views, chair):
    V = chair_views.num_vertices
    # Constant scores come back exactly wherever a view sees the vertex.
    back, seen = lift(chair_views, unlift(chair_views, np.full(V, 0.7)))
    assert (seen > 0).mean() > 0.9
    assert np.allclose(back[seen > 0], 0.7, atol=1e-6)
    # Smooth scores (a ramp over the height) come back within the blur of one triangle.
    y = chair_views.vertices[:, 1]
    smooth = (y - y.min()) / (y.max() - y.min())
    back, seen = lift(chair_views, unlift(chair_views, smooth))
    err = np.abs(back - smooth)[seen > 0]
    assert np.median(err) < 0.01 and np.percentile(err, 95) < 0.08
    # A part indicator comes back as the same vertex set at 0.5 (boundary vertices aside).
    seat = np.zeros(V)
    seat[chair.part_vertices("seat")] = 1.0
    back, seen = lift(chair_views, unlift(chair_views, seat))
    vis = seen > 0
    pred, true = (back >= 0.5) & vis, (seat > 0) & vis
    assert (pred & true).sum() / (pred | true).sum() > 0.85


def test_fill_unseen_takes_the_neighbours_mean():
    faces = np.array([[0, 1, 2], [1, 3, 2], [3, 4, 5]])
    scores = np.array([1.0, 1.0, 0.0, 0.0, 0.0, 0.0])
    seen = np.array([1, 1, 1, 0, 0, 0])
    out = fill_unseen(scores, seen, faces)
    assert np.allclose(out[:3], scores[:3])
    assert np.isclose(out[3], (1.0 + 0.0) / 2)  # first ring: known neighbours 1 and 2
    assert np.allclose(out[4:], out[3])  # second ring: only 3 is known around 4 and 5
    assert np.array_equal(fill_unseen(scores, np.zeros(6), faces), scores)  # nothing known: unchanged


def test_lift_checks_its_inputs(small_views):
    with pytest.raises(ValueError, match="maps"):
        lift(small_views, [np.zeros((40, 40))])
    with pytest.raises(ValueError, match="shape"):
        lift(small_views, [np.zeros((8, 8))] * len(small_views))
    with pytest.raises(ValueError, match="scores"):
        unlift(small_views, np.zeros(3))
