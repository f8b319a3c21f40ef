"""The loss terms of our fits, one function each, batched over N hypotheses where shown. The objectives
compose them: the object fit (:func:`hoirecon.fitting.joint.object_fit_terms`), the limb phase
(:mod:`hoirecon.fitting.limbs`); the baselines (:mod:`hoirecon.fitting.baselines`) add the terms of
their published recipes.

Every term takes its ``weight`` (default 1: the plain term) and returns ``weight * term``, multiplied
in the order written in its docstring (the objectives' results do not depend on how a term is split
into functions). Frames and units: metres, camera frame (x right, y down, z forward); image terms in
small pixels of a :class:`~hoirecon.fitting.problem.FitProblem`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import torch

from hoirecon.fitting.problem import FitProblem
from hoirecon.geometry.sdf import SDFGrid
from hoirecon.geometry.torchops import depth_behind, nearest_distances, sample_image, trimmed_mean


def pair_contact(H: torch.Tensor, S: torch.Tensor, O: torch.Tensor, keep: float, keep_back: float) -> torch.Tensor:
    """One pair's contact distance, (N,) metres, for N hypotheses: the trimmed mean (closest ``keep``)
    of the distances from the body points H (N, P, 3) to the object region's area samples S (N, M, 3),
    plus, when ``keep_back`` > 0, that of the distances from the region's vertices O (N, Q, 3) back to H."""
    d = trimmed_mean(nearest_distances(H, S, back=False)[0], keep)
    if keep_back > 0:
        d = d + trimmed_mean(nearest_distances(O, H, back=False)[0], keep_back)
    return d


def contact(pairs: Iterable[tuple[torch.Tensor, torch.Tensor, torch.Tensor]], keep: float, keep_back: float, *,
            weight: float = 1.0) -> torch.Tensor:  # fmt: skip
    """Surface-to-surface attraction, (N,): ``weight * sum / n`` of :func:`pair_contact` over the ``n``
    contact pairs, each given as (body points H (N, P, 3), object-region samples S (N, M, 3), object
    region vertices O (N, Q, 3)), metres. ``pairs`` may be a generator (each pair is then built just
    before its distance)."""
    total, n = None, 0
    for H, S, O in pairs:
        d = pair_contact(H, S, O, keep, keep_back)
        total = d if total is None else total + d
        n += 1
    if total is None:
        raise ValueError("no contact pairs")
    return weight * total / n


def sil_cover(pb: FitProblem, uv: torch.Tensor, mask_pts: torch.Tensor, *, weight: float = 1.0) -> torch.Tensor:
    """Silhouette cover, (N,): ``weight * mean`` over the object-mask pixels ``mask_pts`` (K, 2) of the
    distance to the nearest projected object point ``uv`` (N, P, 2), in object box diagonals
    (``pb.norm``)."""
    cover = nearest_distances(mask_pts[None].expand(len(uv), -1, -1), uv, back=False)[0] / pb.norm
    return weight * cover.mean(1)


def sil_inside(pb: FitProblem, uv: torch.Tensor, *, weight: float = 1.0) -> torch.Tensor:
    """Silhouette inside, (N,): ``weight * mean`` over the projected object points ``uv`` (N, P, 2) of
    their distance to the object or person mask (the person may occlude) plus their distance outside
    the image, in object box diagonals."""
    w, h = pb.size
    outside = (torch.relu(-uv[..., 0]) + torch.relu(uv[..., 0] - w) + torch.relu(-uv[..., 1])
               + torch.relu(uv[..., 1] - h)) / pb.norm  # fmt: skip
    return weight * (sample_image(pb.allowed_distance, uv) + outside).mean(1)


def depth_order(pb: FitProblem, P: torch.Tensor, uv: torch.Tensor, delta: torch.Tensor, *,
                weight: float = 1.0) -> torch.Tensor:  # fmt: skip
    """Ordinal depth, (N,): ``weight * mean`` over the object points P (N, P, 3) (projecting to ``uv``
    (N, P, 2)) that fall on person-only pixels (``pb.person_only``, where the body is seen) of how far
    they lie in front of the body shifted by ``delta`` (N,) (plus 1 cm), metres."""
    with torch.no_grad():
        person_only = sample_image(pb.person_only, uv) * sample_image(pb.body_hit, uv)
        bdepth = sample_image(pb.body_depth, uv)
    bz = bdepth + delta[:, None] * pb.body_centroid[2]
    return weight * (person_only * torch.relu(bz + 0.01 - P[..., 2])).mean(1)


def occluder(pb: FitProblem, P: torch.Tensor, uv: torch.Tensor, delta: torch.Tensor, keep: float = 0.2, *,
             weight: float = 1.0) -> torch.Tensor:  # fmt: skip
    """Occluder depth, (N,): where the object is seen over the body (object-only pixels, ``pb.object_only``,
    that the body shifted by ``delta`` (N,) projects to), the object covers the body, so its nearest
    surface lies in front of it: ``weight *`` how far behind the body (plus 1 cm) the closest ``keep``
    fraction of the object points P (N, P, 3) (projecting to ``uv`` (N, P, 2)) that fall there lie,
    metres (a trimmed mean: the far side of the object may lie behind the body; 0 where no point falls
    there)."""
    with torch.no_grad():
        there = sample_image(pb.object_only, uv) * sample_image(pb.body_hit, uv)
        bdepth = sample_image(pb.body_depth, uv)
    bz = bdepth + delta[:, None] * pb.body_centroid[2]
    behind = torch.relu(P[..., 2] - bz + 0.01)
    inside = there > 0.5
    n = inside.sum(1)  # (N,) points there, per hypothesis
    ordered = torch.sort(torch.where(inside, behind, torch.full_like(behind, float("inf"))), dim=1).values
    k = torch.clamp(torch.ceil(keep * n.float()).long(), min=1)  # the closest keep of the points there
    sums = torch.cumsum(torch.where(torch.isfinite(ordered), ordered, torch.zeros_like(ordered)), 1)
    per = sums.gather(1, (k - 1)[:, None])[:, 0] / k.float()
    frac = n.float() / P.shape[1]  # weighed by the share of the object's points that fall there
    return weight * per * frac


def penetration(sdf: SDFGrid, points: torch.Tensor, *, weight: float = 1.0, deep_fraction: float = 0.0) -> torch.Tensor:
    """Penetration, (...): ``weight`` times, over the last point dimension of ``points`` (..., P, 3), the
    mean of how deep they lie inside the mesh of ``sdf`` (negative signed distance), metres, plus, with
    ``deep_fraction``, the mean depth of the deepest ``deep_fraction`` of the points: a foot sunk 3 cm
    into a deck is a few points among hundreds, and the plain mean barely sees it."""
    return weight * _depth_mean(torch.relu(-sdf(points)), deep_fraction)


def surface_penetration(points: torch.Tensor, V: torch.Tensor, normals: torch.Tensor, radius: float, *,
                        weight: float = 1.0, deep_fraction: float = 0.0) -> torch.Tensor:  # fmt: skip
    """Penetration into a moving mesh, a scalar: ``weight`` times the mean over ``points`` (K, 3) of how
    deep they lie behind the surface of the mesh with vertices V (P, 3) and outward unit ``normals``
    (:func:`hoirecon.geometry.torchops.depth_behind`, within ``radius``), metres, plus, with
    ``deep_fraction``, the mean depth of the deepest ``deep_fraction``. The limb phase's object points
    inside the re-posed body: a foot pulled onto a deck 1.5 cm thin can pass through it, and the
    object's own distance field then sees the foot outside it again."""
    return weight * _depth_mean(depth_behind(points, V, normals, radius), deep_fraction)


def _depth_mean(depth: torch.Tensor, deep_fraction: float) -> torch.Tensor:
    """Mean over the last dimension of ``depth`` (..., P), plus that of its largest ``deep_fraction``."""
    out = depth.mean(-1)
    if deep_fraction > 0:
        k = max(1, int(math.ceil(deep_fraction * depth.shape[-1])))
        out = out + depth.topk(k, dim=-1).values.mean(-1)
    return out


def gaussian_prior(x: torch.Tensor, sigma: float = 1.0, *, weight: float = 1.0, total: bool = False) -> torch.Tensor:
    """Gaussian prior around 0: ``weight * (x / sigma) ** 2`` element-wise, or with ``total``
    ``weight * sum((x / sigma) ** 2)`` (a scalar). The object fit's log-scale (``scale``) and body-shift
    priors, the limb phase's pose (radians, sigma 1) and translation priors."""
    z = (x / sigma) ** 2
    return weight * (z.sum() if total else z)


def upright(R: torch.Tensor, up: torch.Tensor | None = None, *, weight: float = 1.0) -> torch.Tensor:
    """Upright, (N,): ``weight * (1 - cos)`` of the angle between the object's canonical up (-y is up;
    +y down) turned by R (N, 3, 3) and gravity's ``up`` (3,) camera frame (None: the camera's -y)."""
    down = R[:, :, 1]  # canonical +y (down) in the camera frame
    if up is None:
        return weight * (1 - down[:, 1])
    return weight * (1 + down @ up)


def facing(R: torch.Tensor, forward: torch.Tensor, up: torch.Tensor | None = None, *,
           weight: float = 1.0) -> torch.Tensor:  # fmt: skip
    """Facing, (N,): ``weight * (1 - cos)`` of the angle about gravity's ``up`` (3,) camera frame (None:
    the camera's -y) between the object's front (canonical -z, the side a person faces or uses; turned
    by R (N, 3, 3)) and ``forward`` (3,) unit horizontal, the way the front should face (the body's
    forward for a seated person, reversed for a screen the person looks at); both made horizontal, so
    that a tilt is the upright term's business. 0 when aligned, ``2 * weight`` when reversed."""
    if up is None:
        up = torch.tensor([0.0, -1.0, 0.0], dtype=R.dtype, device=R.device)
    front = -R[:, :, 2]
    front = front - (front @ up)[:, None] * up
    cos = (front @ forward) / front.norm(dim=1).clamp(min=1e-6)
    return weight * (1 - cos)


def floor_support(heights: torch.Tensor, floor: torch.Tensor, robust_m: float, *, redescending: bool = False,
                  weight: float = 1.0) -> torch.Tensor:  # fmt: skip
    """A support on the floor, (N,): ``weight * mean`` over the support's points of a robust function of
    their heights ``heights`` (N, P) above the floor height ``floor`` (N,), metres along gravity's up,
    in units of ``robust_m``: the Cauchy ``log(1 + g^2)`` (a long reach: what always rests on the floor
    is pulled to it from afar) or, with ``redescending``, the Geman-McClure ``g^2 / (1 + g^2)`` (what
    may be off the floor, a carried suitcase or a jumping person's feet, is held only when near it, and
    two such supports far apart do not meet half-way)."""
    g = (heights - floor[:, None]) / robust_m
    g2 = g * g
    return weight * (g2 / (1 + g2) if redescending else torch.log1p(g2)).mean(-1)


def floor_penetration(heights: torch.Tensor, floor: torch.Tensor, *, weight: float = 1.0) -> torch.Tensor:
    """Below the floor, (N,): ``weight * mean`` over the points of how far their heights ``heights``
    (N, P) lie below the floor height ``floor`` (N,), metres."""
    return weight * torch.relu(floor[:, None] - heights).mean(-1)
