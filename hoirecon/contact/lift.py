"""Lift step of Render-Localize-Lift: per-view 2D probability maps <-> per-vertex scores.

Every pixel of a :class:`~hoirecon.contact.render.RenderedView` knows its triangle and the barycentric
weights of its three vertices. InteractVLM's rule (reference-facts.md):

* a vertex's score in one view = ``sum(b * p) / sum(b)`` over the pixels whose triangle contains it,
  ``b`` being that vertex's barycentric weight at the pixel and ``p`` the pixel's probability;
* a vertex is *seen* by a view when ``sum(b) > 0`` there; its final score is the mean of its per-view
  scores over the views that see it (0 when none does);
* optionally, pixels with ``p <= threshold`` count as 0 first (InteractVLM thresholds object maps at
  0.3 before lifting). ``threshold_mode="drop"`` instead leaves those pixels out of both sums, as
  InteractVLM's released object lift does: a vertex's view score is then the mean over its confident
  pixels only, and a view counts as seeing the vertex only through such pixels.

Everything is vectorised with ``np.bincount`` over the hit pixels (float64 sums). The inverse,
:func:`unlift`, paints vertex scores into per-view maps by barycentric interpolation (for pictures and
for sources that produce vertex sets: :func:`paint`). :func:`fill_unseen` gives vertices that no view sees (tiny
triangles between pixel centres, hidden folds) the mean of their seen neighbours.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from hoirecon.contact.render import RenderedView, ViewSet

__all__ = ["lift", "lift_view", "unlift", "unlift_view", "paint", "indicator", "fill_unseen", "mesh_neighbours"]


def _check_map(view: RenderedView, prob: np.ndarray) -> np.ndarray:
    p = np.asarray(prob, np.float64)
    if p.shape != view.tri_id.shape:
        raise ValueError(f"view '{view.name}': map shape {p.shape} != render shape {view.tri_id.shape}")
    return p


def lift_view(view: RenderedView, faces: np.ndarray, num_vertices: int, prob: np.ndarray,
              threshold: float | None = None, threshold_mode: str = "zero") -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """One view: ``(score (V,) float64, weight (V,) float64 = sum of the vertex's barycentrics)``.
    ``score`` is 0 where ``weight`` is 0 (the view does not see the vertex)."""
    p = _check_map(view, prob)
    tri = view.tri_id.reshape(-1)
    hit = np.flatnonzero(tri >= 0)
    pv = p.reshape(-1)[hit]
    if threshold is not None:
        if threshold_mode == "drop":
            keep = pv > threshold
            hit, pv = hit[keep], pv[keep]
        elif threshold_mode == "zero":
            pv = np.where(pv > threshold, pv, 0.0)
        else:
            raise ValueError(f"threshold_mode must be 'zero' or 'drop', not '{threshold_mode}'")
    b = view.bary.reshape(-1, 3)[hit].astype(np.float64)
    idx = np.asarray(faces, np.int64)[tri[hit]].reshape(-1)
    den = np.bincount(idx, weights=b.reshape(-1), minlength=num_vertices)
    num = np.bincount(idx, weights=(b * pv[:, None]).reshape(-1), minlength=num_vertices)
    score = np.divide(num, den, out=np.zeros(num_vertices), where=den > 0)
    return score, den


def lift(views: ViewSet | Sequence[RenderedView], maps: Sequence[np.ndarray], *, faces: np.ndarray | None = None,
         num_vertices: int | None = None, threshold: float | None = None,
         threshold_mode: str = "zero") -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Per-view maps -> ``(score (V,) float64, seen (V,) int = number of views that see the vertex)``.

    ``views``: a ViewSet (faces and vertex count taken from it) or a sequence of RenderedView with
    ``faces`` and ``num_vertices`` given. ``maps``: one (H, W) array per view, same order.
    """
    if isinstance(views, ViewSet):
        faces = views.faces if faces is None else faces
        num_vertices = views.num_vertices if num_vertices is None else num_vertices
        views = views.views
    if faces is None or num_vertices is None:
        raise ValueError("lift: pass a ViewSet, or faces and num_vertices")
    if len(maps) != len(views):
        raise ValueError(f"lift: {len(maps)} maps for {len(views)} views")
    total = np.zeros(num_vertices)
    seen = np.zeros(num_vertices, np.int64)
    for view, m in zip(views, maps):
        s, w = lift_view(view, faces, num_vertices, m, threshold, threshold_mode)
        total += s
        seen += w > 0
    return np.divide(total, seen, out=np.zeros(num_vertices), where=seen > 0), seen


def unlift_view(view: RenderedView, faces: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Vertex scores -> (H, W) float32 map: barycentric interpolation on the hit triangle, 0 elsewhere."""
    s = np.asarray(scores, np.float64).reshape(-1)
    tri = view.tri_id.reshape(-1)
    hit = np.flatnonzero(tri >= 0)
    out = np.zeros(tri.shape[0], np.float32)
    vals = s[np.asarray(faces, np.int64)[tri[hit]]]  # (N, 3)
    out[hit] = np.einsum("nk,nk->n", view.bary.reshape(-1, 3)[hit].astype(np.float64), vals)
    return out.reshape(view.tri_id.shape)


def unlift(views: ViewSet, scores: np.ndarray) -> list[np.ndarray]:
    """Vertex scores (V,) -> one (H, W) float32 map per view of ``views``."""
    s = np.asarray(scores).reshape(-1)
    if len(s) != views.num_vertices:
        raise ValueError(f"unlift: {len(s)} scores for a {views.kind} mesh of {views.num_vertices} vertices")
    return [unlift_view(v, views.faces, s) for v in views]


def paint(views: ViewSet, scores: np.ndarray, blur_px: float = 0.0) -> tuple[np.ndarray, ...]:
    """Vertex scores -> one float32 map per view (the inverse lift), optionally Gaussian-blurred."""
    maps = unlift(views, scores)
    if blur_px > 0:
        import cv2  # lazy: only blurred paint needs OpenCV

        maps = [np.clip(cv2.GaussianBlur(m, (0, 0), float(blur_px)), 0.0, 1.0) for m in maps]
    return tuple(m.astype(np.float32) for m in maps)


def indicator(num_vertices: int, idx: np.ndarray) -> np.ndarray:
    """(V,) float32: 1 at ``idx``, 0 elsewhere."""
    s = np.zeros(num_vertices, np.float32)
    s[np.asarray(idx, np.int64)] = 1.0
    return s


def mesh_neighbours(faces: np.ndarray, num_vertices: int):
    """Symmetric (V, V) scipy CSR adjacency (1 per edge) of a triangle mesh."""
    from scipy.sparse import coo_matrix

    f = np.asarray(faces, np.int64)
    i = np.concatenate([f[:, 0], f[:, 1], f[:, 2], f[:, 1], f[:, 2], f[:, 0]])
    j = np.concatenate([f[:, 1], f[:, 2], f[:, 0], f[:, 0], f[:, 1], f[:, 2]])
    a = coo_matrix((np.ones(len(i)), (i, j)), shape=(num_vertices, num_vertices)).tocsr()
    a.data[:] = 1.0
    return a


def fill_unseen(scores: np.ndarray, seen: np.ndarray, faces: np.ndarray, iterations: int = 10) -> np.ndarray:
    """Give vertices with ``seen == 0`` the mean score of their known neighbours, growing the known
    set ring by ring (``iterations`` rings at most; vertices still unknown keep their score)."""
    s = np.asarray(scores, np.float64).copy()
    known = np.asarray(seen) > 0
    if known.all() or not known.any():
        return s
    adj = mesh_neighbours(faces, len(s))
    for _ in range(iterations):
        k = known.astype(np.float64)
        cnt = adj @ k
        new = (~known) & (cnt > 0)
        if not new.any():
            break
        s[new] = (adj @ (s * k))[new] / cnt[new]
        known |= new
    return s
