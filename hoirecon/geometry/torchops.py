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
        ia = D.argmin(2)
        ib = D.transpose(1, 2).contiguous().argmin(2) if back else None
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
