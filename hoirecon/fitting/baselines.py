"""The published objectives of InteractVLM and PHOSA, written from their papers' and code's recipes
(``shared/design/reference-facts.md``), on the same inputs as our fitter, for side-by-side benchmarks.

Both keep the body fixed and fit the object only. Differences from the originals, all forced by having
no differentiable mesh renderer: the soft silhouette is a Gaussian splat of projected object points
(``soft_silhouette``), and depths come from those points, not from a rasterised depth buffer. PHOSA's
2000 random starting rotations x 50 steps are cut to ``starts`` (default 24) x 50 steps at a coarser
silhouette, its learning
rate is 1e-2 instead of 1e-3 (the latter does not move metric translations in 400 steps), and its
person-scale term is dropped (the body is fixed here).

Both read the image through our :class:`~hoirecon.fitting.problem.FitProblem`; each of their loss
terms is a function below (weighted as in :mod:`hoirecon.fitting.terms`: ``weight * term``), with the
weights in ``FitConfig.weights.interactvlm`` / ``.phosa`` (:mod:`hoirecon.fitting.weights`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch

from hoirecon.fitting.config import FitConfig
from hoirecon.fitting.problem import FitProblem, build_problem, diagnostics, mask_centroid_at
from hoirecon.fitting.weights import InteractVLMWeights, PhosaWeights
from hoirecon.geometry.rotations import matrix_to_rot6d, rot6d_to_matrix
from hoirecon.geometry.torchops import sample_image
from hoirecon.types import BodyFit, CameraIntrinsics, ContactSet, FitResult, ObjectDetection, ObjectFit, ObjectMesh, PersonDetection

OBJECTIVES = ("ours", "interactvlm", "phosa")


def soft_silhouette(uv: torch.Tensor, h: int, w: int, sigma: float, radius: float = 4.0) -> torch.Tensor:
    """Soft silhouette (N, h, w) in [0, 1] of projected points uv (N, P, 2) (pixels of an h x w image):
    1 - prod_p (1 - exp(-|x - uv_p|^2 / (2 sigma^2))).

    Each point only touches the pixels within ``radius * sigma`` of it (beyond 4 sigma its factor
    differs from 1 by under 4e-4): the log-factors of those patches are scatter-added into the image,
    which is what makes the baselines' hundreds of steps affordable (``soft_silhouette_dense`` is the
    direct formula, the tests' reference)."""
    N, P, _ = uv.shape
    r = max(1, int(math.ceil(radius * sigma)))
    offs = torch.arange(-r, r + 1, device=uv.device)
    base = torch.floor(uv).long()  # (N, P, 2) pixel holding the point
    px = base[..., 0:1, None] + offs  # (N, P, 1, K)
    py = base[..., 1:2, None] + offs[:, None]  # (N, P, K, 1)
    gx = torch.exp(-((px + 0.5 - uv[..., 0:1, None]) ** 2) / (2 * sigma**2))
    gy = torch.exp(-((py + 0.5 - uv[..., 1:2, None]) ** 2) / (2 * sigma**2))
    g = gy * gx  # (N, P, K, K)
    valid = (px >= 0) & (px < w) & (py >= 0) & (py < h)
    vals = torch.log1p(-g.clamp(max=0.999)) * valid
    idx = (py.clamp(0, h - 1) * w + px.clamp(0, w - 1)).expand_as(g)
    logs = torch.zeros(N, h * w, device=uv.device, dtype=uv.dtype).scatter_add(1, idx.reshape(N, -1), vals.reshape(N, -1))
    return 1 - torch.exp(logs).reshape(N, h, w)


def soft_silhouette_dense(uv: torch.Tensor, h: int, w: int, sigma: float) -> torch.Tensor:
    """The same silhouette by the direct formula over every pixel and point (slow; the reference)."""
    xs = torch.arange(w, device=uv.device, dtype=uv.dtype) + 0.5
    ys = torch.arange(h, device=uv.device, dtype=uv.dtype) + 0.5
    gx = torch.exp(-((xs - uv[..., 0:1]) ** 2) / (2 * sigma**2))  # (N, P, w)
    gy = torch.exp(-((ys - uv[..., 1:2]) ** 2) / (2 * sigma**2))  # (N, P, h)
    g = gy[..., :, None] * gx[..., None, :]  # (N, P, h, w)
    return 1 - torch.exp(torch.log1p(-g.clamp(max=0.999)).sum(1))


@dataclass(frozen=True)
class BaselineConfig:
    sil_resolution: int = 64  # soft-silhouette image size (long side)
    points: int = 200  # object points splatted
    starts: int = 24  # PHOSA random rotations (PHOSA: 2000)
    start_resolution: int = 48  # silhouette size while ranking the starts
    start_points: int = 150
    seed: int = 0


class _Sil:
    """Low-resolution mask targets for the soft silhouette."""

    def __init__(self, pb: FitProblem, res: int):
        w, h = pb.size
        self.scale = min(1.0, res / max(w, h))
        self.h, self.w = max(1, round(h * self.scale)), max(1, round(w * self.scale))
        import cv2

        def down(m):
            return torch.tensor(cv2.resize(m.astype(np.float32), (self.w, self.h), interpolation=cv2.INTER_AREA), device=pb.device)

        self.obj = down(pb.object_mask)
        self.person_only = down(pb.person_mask & ~pb.object_mask)
        self.sigma = max(0.7, 1.0)

    def render(self, pb: FitProblem, P: torch.Tensor) -> torch.Tensor:
        return soft_silhouette(pb.project(P) * self.scale, self.h, self.w, self.sigma)


# ------------------------------------------------------------------------------ InteractVLM's terms


def mask_overlap(A: torch.Tensor, B: torch.Tensor, *, weight: float = 1.0) -> torch.Tensor:
    """InteractVLM's mask term, a scalar: ``weight * (1 - sum(A B) / sum(A + B))`` of the soft
    silhouette A and the mask B (both (h, w) in [0, 1])."""
    return weight * (1 - (A * B).sum() / (A + B).sum().clamp(min=1e-6))


def silhouette_centroid(A: torch.Tensor, box_centre: torch.Tensor, full: float, *, weight: float = 1.0) -> torch.Tensor:
    """InteractVLM's centroid term, a scalar: ``weight * |c - box_centre|^2`` of the soft silhouette
    A's (h, w) centroid c, in image pixels (``full``: image pixels per silhouette pixel)."""
    h, w = A.shape
    yy, xx = torch.meshgrid(torch.arange(h, device=A.device) + 0.5, torch.arange(w, device=A.device) + 0.5, indexing="ij")
    cen = torch.stack([(A * xx).sum(), (A * yy).sum()]) / A.sum().clamp(min=1e-6) * full
    return weight * ((cen - box_centre) ** 2).sum()


def all_pairs_contact(O: torch.Tensor, H: torch.Tensor, *, weight: float = 1.0) -> torch.Tensor:
    """InteractVLM's contact term, a scalar: ``weight * mean`` distance over all (object contact point
    O (P, 3), body contact point H (Q, 3)) pairs, metres."""
    return weight * torch.cdist(O, H).mean()


# ------------------------------------------------------------------------------------ PHOSA's terms


def occluded_silhouette(A: torch.Tensor, target: torch.Tensor, person_only: torch.Tensor) -> torch.Tensor:
    """PHOSA's occlusion-aware silhouette L2, (N,): mean over pixels of ``(A - target)^2`` where the
    person does not hide the object; A (N, h, w) soft silhouettes, target and person_only (h, w)."""
    return (((A - target) ** 2) * (1 - person_only)).mean((1, 2))


def centroid_interaction(H: torch.Tensor, O: torch.Tensor, *, weight: float = 1.0) -> torch.Tensor:
    """PHOSA's coarse interaction, a scalar: ``weight * |mean(H) - mean(O)|^2`` of the body (P, 3) and
    object (Q, 3) contact points, metres squared."""
    return weight * ((H.mean(0) - O.mean(0)) ** 2).sum()


def part_interaction(pairs: Iterable[tuple[torch.Tensor, torch.Tensor]], *, weight: float = 1.0) -> torch.Tensor:
    """PHOSA's part interaction, a scalar: ``weight * sum`` over the contact pairs (body points (P, 3),
    object points (Q, 3)) of the squared distance between their means, metres squared."""
    total = None
    for H, O in pairs:
        d = ((H.mean(0) - O.mean(0)) ** 2).sum()
        total = d if total is None else total + d
    if total is None:
        raise ValueError("no contact pairs")
    return weight * total


def ordinal_depth(pb: FitProblem, uv: torch.Tensor, z: torch.Tensor, *, weight: float = 1.0) -> torch.Tensor:
    """PHOSA's ordinal depth, a scalar: ``weight *`` (mean of ``log(1 + exp(clamp(bz - z, 0, 2)))``
    over the object points on person-only pixels plus mean of ``log(1 + exp(clamp(z - bz, 0, 2)))``
    over those on object pixels, where the body is seen at depth bz); the points project to ``uv``
    (P, 2) small pixels and lie at depth ``z`` (P,), metres."""
    with torch.no_grad():
        person_only = sample_image(pb.person_only, uv) * sample_image(pb.body_hit, uv)
        on_obj = sample_image(torch.as_tensor(pb.object_mask, dtype=torch.float32, device=pb.device), uv) * sample_image(pb.body_hit, uv)
        bz = sample_image(pb.body_depth, uv)
    depth = (person_only * torch.log1p(torch.exp((bz - z).clamp(0, 2)))).mean() + (on_obj * torch.log1p(torch.exp((z - bz).clamp(0, 2)))).mean()
    return weight * depth


def unit_scale_prior(s: torch.Tensor, *, weight: float = 1.0) -> torch.Tensor:
    """PHOSA's scale prior: ``weight * (s - 1)^2`` of the object scale s."""
    return weight * (s - 1) ** 2


# ---------------------------------------------------------------------------------------- the fits


def _result(pb: FitProblem, body, mesh, contacts, R, t, s, terms) -> FitResult:
    with torch.no_grad():
        verts = (s * pb.object_vertices @ R.T + t).cpu().numpy().astype(np.float32)
    losses = {k: float(v) for k, v in terms.items()}
    losses["total"] = float(sum(losses.values()))
    losses.update(diagnostics(body, contacts, verts, np.zeros(3, np.float32), mesh, pb))
    fit = ObjectFit(mesh=mesh, rotation=R.cpu().numpy().astype(np.float32), translation=t.cpu().numpy().astype(np.float32),
                    scale=float(s), vertices=verts)  # fmt: skip
    return FitResult(body=body, object=fit, losses=losses)


def _setup(body, mesh, contacts, obj_det, person_det, camera, device, config: BaselineConfig) -> tuple[FitProblem, _Sil]:
    pb = build_problem(body, mesh, contacts, obj_det, person_det, camera, 0.15, True,
                       FitConfig(max_object_points=config.points, seed=config.seed), device)  # fmt: skip
    return pb, _Sil(pb, config.sil_resolution)


def _kabsch(src: torch.Tensor, dst: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    cs, cd = src.mean(0), dst.mean(0)
    U, _, Vt = torch.linalg.svd((src - cs).T @ (dst - cd))
    d = torch.sign(torch.det(Vt.T @ U.T))
    D = torch.diag(torch.tensor([1.0, 1.0, float(d)], device=src.device))
    R = Vt.T @ D @ U.T
    return R, cd - R @ cs


def fit_interactvlm(body: BodyFit, mesh: ObjectMesh, contacts: ContactSet, obj_det: ObjectDetection,
                    person_det: PersonDetection, camera: CameraIntrinsics, *, device="cpu",
                    config: BaselineConfig = BaselineConfig(),
                    weights: InteractVLMWeights = InteractVLMWeights()) -> FitResult:  # fmt: skip
    """InteractVLM's released object fit: mask-centroid init at the contacts' depth, 10 ICP steps on the
    contact sets, then Adam 250 steps (lr 5e-2 rotation 6D, 1e-2 translation) on mask 5.0 x (1 - IoU-like
    ratio) + centroid 1e-4 x squared pixel distance to the box centre + contact 10 x mean distance over
    all object x human contact pairs (``weights``). No scale, no penetration, no depth order."""
    pb, sil = _setup(body, mesh, contacts, obj_det, person_det, camera, device, config)
    X, dev = pb.object_vertices, pb.device
    H = pb.body_vertices[torch.cat([h for h, _ in pb.pairs])]
    O_idx = torch.cat([o for _, o in pb.pairs])
    c = mask_centroid_at(obj_det, camera, float(H[:, 2].mean()), dev)
    R = torch.eye(3, device=dev)
    t = c - X.mean(0)
    for _ in range(10):  # ICP: object contact vertices -> nearest human contact vertices
        P = X[O_idx] @ R.T + t
        nn = torch.cdist(P, H).argmin(1)
        dR, dt = _kabsch(P, H[nn])
        R, t = dR @ R, dR @ t + dt
    rot6d = matrix_to_rot6d(R).clone().requires_grad_(True)
    t = t.clone().requires_grad_(True)
    opt = torch.optim.Adam([{"params": [rot6d], "lr": 5e-2}, {"params": [t], "lr": 1e-2}])
    b = obj_det.box
    box_c = torch.tensor([0.5 * (b.x0 + b.x1), 0.5 * (b.y0 + b.y1)], device=dev)
    full = 1.0 / (pb.mask_scale * sil.scale)  # silhouette pixel -> full-image pixel

    def terms():
        Rm = rot6d_to_matrix(rot6d)
        P = pb.full.surface @ Rm.T + t
        A = sil.render(pb, P[None])[0]
        mask = mask_overlap(A, sil.obj, weight=weights.mask)
        centroid = silhouette_centroid(A, box_c, full, weight=weights.centroid)
        O = X[O_idx] @ Rm.T + t
        contact = all_pairs_contact(O, H, weight=weights.contact)
        return {"mask": mask, "centroid": centroid, "contact": contact}

    for _ in range(250):
        opt.zero_grad()
        sum(terms().values()).backward()
        opt.step()
    with torch.no_grad():
        final = terms()
        return _result(pb, body, mesh, contacts, rot6d_to_matrix(rot6d), t.detach(), 1.0, final)


def _random_rotations(n: int, seed: int) -> np.ndarray:
    from scipy.spatial.transform import Rotation

    return Rotation.random(n, random_state=seed).as_matrix()


def fit_phosa(body: BodyFit, mesh: ObjectMesh, contacts: ContactSet, obj_det: ObjectDetection,
              person_det: PersonDetection, camera: CameraIntrinsics, *, device="cpu",
              config: BaselineConfig = BaselineConfig(), weights: PhosaWeights = PhosaWeights()) -> FitResult:  # fmt: skip
    """PHOSA's recipe: random-rotation starts fitted to the silhouette (50 steps each, best kept), then
    400 Adam steps over rotation, translation and scale on: occlusion-aware silhouette L2 (10), coarse
    interaction = squared distance of body and object contact centroids (20), part interaction = squared
    distance of each pair's part means (50), ordinal depth log(1 + exp(clamp(dz, 0, 2))) where masks and
    render disagree (1), scale prior (s - 1)^2 (100) (``weights``)."""
    pb, sil = _setup(body, mesh, contacts, obj_det, person_det, camera, device, config)  # sil: occlusion-aware
    X, dev, surface = pb.object_vertices, pb.device, pb.full.surface
    c = mask_centroid_at(obj_det, camera, float(pb.body_vertices[:, 2].mean()), dev)
    Rs = torch.tensor(_random_rotations(config.starts, config.seed), dtype=torch.float32, device=dev)
    rot6d = matrix_to_rot6d(Rs).clone().requires_grad_(True)
    t = (c - X.mean(0) @ Rs.transpose(1, 2)).clone().requires_grad_(True)
    log_s = torch.zeros(len(Rs), device=dev, requires_grad=True)

    def sil_loss(target: _Sil = sil, points: torch.Tensor = surface):
        P = log_s.exp()[:, None, None] * (points @ rot6d_to_matrix(rot6d).transpose(1, 2)) + t[:, None]
        return occluded_silhouette(target.render(pb, P), target.obj, target.person_only), P

    coarse = _Sil(pb, config.start_resolution)
    few = surface[: config.start_points]
    opt = torch.optim.Adam([rot6d, t, log_s], lr=1e-2)
    for _ in range(50):
        opt.zero_grad()
        sil_loss(coarse, few)[0].sum().backward()
        opt.step()
    with torch.no_grad():
        best = int(torch.argmin(sil_loss(coarse, few)[0]))
    rot6d = rot6d.detach()[best : best + 1].clone().requires_grad_(True)
    t = t.detach()[best : best + 1].clone().requires_grad_(True)
    log_s = log_s.detach()[best : best + 1].clone().requires_grad_(True)
    H_all = torch.cat([h for h, _ in pb.pairs])

    def terms():
        silt, P = sil_loss()
        Rm = rot6d_to_matrix(rot6d)[0]
        s = log_s.exp()[0]
        obj = lambda idx: s * (X[idx] @ Rm.T) + t[0]  # noqa: E731
        O_all = obj(torch.cat([o for _, o in pb.pairs]))
        return {
            "silhouette": weights.silhouette * silt[0],
            "interaction": centroid_interaction(pb.body_vertices[H_all], O_all, weight=weights.interaction),
            "part": part_interaction(((pb.body_vertices[h], obj(o)) for h, o in pb.pairs), weight=weights.part),
            "depth": ordinal_depth(pb, pb.project(P[0]), P[0, :, 2], weight=weights.depth),
            "scale": unit_scale_prior(s, weight=weights.scale),
        }

    opt = torch.optim.Adam([rot6d, t, log_s], lr=1e-2)
    for _ in range(400):
        opt.zero_grad()
        sum(terms().values()).backward()
        opt.step()
    with torch.no_grad():
        final = terms()
        return _result(pb, body, mesh, contacts, rot6d_to_matrix(rot6d)[0], t.detach()[0], float(log_s.exp()[0]), final)
