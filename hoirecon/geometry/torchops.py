"""Torch math shared by the fits: nearest-point distances with cheap gradients, trimmed means, bilinear
reads of an image at pixel coordinates. Batched over a leading hypothesis dimension N where shown."""

from __future__ import annotations

import math

import torch


def nearest_distances(A: torch.Tensor, B: torch.Tensor, back: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Distances from every point of A (N, P, D) to its nearest point of B (N, Q, D) and, with ``back``,
    from B to A: (N, P) and (N, Q) (else None). The same values and gradients as
    ``cdist(A, B).min(...)``, but the matching runs without autograd and only the matched pairs are
    differentiated (cdist's backward would otherwise dominate the fit's time)."""
    with torch.no_grad():
        D = torch.cdist(A, B)
        # min(...).indices: the same first-minimum indices as argmin, 2 to 3 times faster on CPU (torch 2.14)
        ia = D.min(2).indices
        ib = D.min(1).indices if back else None
    da = (A - torch.gather(B, 1, ia[..., None].expand(-1, -1, B.shape[-1]))).norm(dim=-1)
    if ib is None:
        return da, None
    return da, (B - torch.gather(A, 1, ib[..., None].expand(-1, -1, A.shape[-1]))).norm(dim=-1)


def trimmed_mean(d: torch.Tensor, frac: float) -> torch.Tensor:
    """Mean of the smallest ``frac`` (at least one) of the last dimension: (..., K) -> (...)."""
    k = max(1, int(math.ceil(frac * d.shape[-1])))
    return (-torch.topk(-d, k, dim=-1).values).mean(-1)


def sample_image(img: torch.Tensor, uv: torch.Tensor) -> torch.Tensor:
    """Bilinear read of the image ``img`` (h, w) at pixel coordinates ``uv`` (..., 2) (x, y; pixel
    centres at +0.5; outside the image: the border value): (...)."""
    h, w = img.shape
    g = torch.stack([uv[..., 0] / w * 2 - 1, uv[..., 1] / h * 2 - 1], -1)
    shp = g.shape[:-1]
    out = torch.nn.functional.grid_sample(
        img[None, None], g.reshape(1, 1, -1, 2), mode="bilinear", padding_mode="border", align_corners=False
    )
    return out.reshape(shp)


def vertex_normals(V: torch.Tensor, F: torch.Tensor) -> torch.Tensor:
    """(P, 3) unit area-weighted vertex normals of the mesh with vertices V (P, 3) and faces F (F, 3)
    long, right-hand winding (the torch twin of :func:`hoirecon.geometry.mesh.vertex_normals`;
    differentiable); zero for vertices that no face uses."""
    fn = torch.cross(V[F[:, 1]] - V[F[:, 0]], V[F[:, 2]] - V[F[:, 0]], dim=-1)
    n = torch.zeros_like(V).index_add_(0, F.reshape(-1), fn.repeat_interleave(3, 0))
    return n / n.norm(dim=-1, keepdim=True).clamp(min=1e-12)


def depth_behind(points: torch.Tensor, V: torch.Tensor, normals: torch.Tensor, radius: float, k: int = 4) -> torch.Tensor:
    """How deep each of ``points`` (K, 3) lies behind the surface of a mesh near it, (K,) >= 0: the
    least of its distances behind the tangent planes of its ``k`` nearest vertices of V (P, 3) with
    outward unit ``normals`` (P, 3); 0 in front of any of them (in a concave fold, between the fingers
    round a handle, the planes disagree: not judged inside), and where the nearest vertex is farther
    than ``radius`` (a point far from every vertex given is not judged). Same units as V. A cheap,
    differentiable stand-in for a signed distance to a mesh that moves (a limb being re-posed): exact
    on a plane, a good guess within a few centimetres of a smooth surface."""
    k = min(k, len(V))
    with torch.no_grad():
        nn = torch.cdist(points, V).topk(k, dim=1, largest=False).indices  # (K, k)
    d = points[:, None] - V[nn]  # (K, k, 3)
    depth = torch.relu(-(d * normals[nn]).sum(-1)).min(1).values
    return depth * (d[:, 0].norm(dim=-1) < radius).to(depth.dtype)
