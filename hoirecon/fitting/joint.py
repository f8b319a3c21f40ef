"""Joint human-object fitting: object rotation, translation and scale plus the person's depth.

Unknowns, per hypothesis: object rotation (6D), translation (metres, camera frame), log-scale, and a
shift of the body along its viewing ray (``body + delta * centroid``, which keeps its projection).
Losses (all plain torch, batched over hypotheses):

* ``contact``: surface-to-surface attraction per contact pair: trimmed mean of the distances from the
  body part's points to the object part's surface (area samples, not only its vertices) and, for
  vertex-level contacts (``ContactSet.precise``), from the object part's vertices back to the body
  part: all of them with weight 30; for part-level contacts only the closest 5% of the body part's
  points, with weight 4, so that the image places the object; metres;
* ``sil_cover`` / ``sil_inside``: a 2D Chamfer silhouette: object mask pixels must be near a projected
  object point, projected points must fall inside the object mask (or on the person, who may occlude),
  in units of the object box diagonal;
* ``depth``: ordinal depth: object points that project onto person-only pixels must lie behind the body
  (person-only pixels start two reduced pixels away from the object mask, whose edge points project
  onto the person's edge while lying in front of it);
* ``penetration``: object points inside the body (negative body SDF), metres;
* ``scale``: Gaussian prior on log-scale; ``upright``: the object's up stays up (upright categories);
  ``body_shift``: prior on the body's depth change.

Several starting rotations run in one batch on point subsets; the best few are refined on all the
points, the best of those wins. Given the body model, a last phase re-poses the limbs in contact
(:mod:`hoirecon.fitting.limbs`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import cv2
import numpy as np
import torch

from hoirecon.errors import InputError
from hoirecon.fitting.limbs import LimbConfig, refine_contact_limbs
from hoirecon.geometry.raycast import depth_map
from hoirecon.geometry.rotations import cube_rotations, matrix_to_rot6d, rot6d_to_matrix, rot_y
from hoirecon.geometry.sdf import body_sdf_grid, signed_distance
from hoirecon.types import (
    BodyFit,
    BodyState,
    CameraIntrinsics,
    ContactSet,
    FitResult,
    ObjectDetection,
    ObjectFit,
    ObjectMesh,
    PersonDetection,
)


@dataclass(frozen=True)
class FitConfig:
    """Weights and schedule of the joint fit (recorded in the resolved config)."""

    steps_search: int = 60
    steps_refine: int = 150
    lr: float = 0.02
    yaw_starts: int = 8
    refine_top: int = 3  # hypotheses refined after the search; the best after refinement wins
    # Every starting rotation also starts centred on the mask's centroid ray, at the contacts' depth
    # plus each of these offsets (in object extents); () turns these starts off.
    mask_start_depths: tuple[float, ...] = (-0.5, 0.5)
    # Part-level contacts (a prior's whole hand against a whole grip) say that the parts touch
    # somewhere: only the closest few points attract, and weakly, so that the silhouette decides the
    # rest. Vertex-level contacts (ContactSet.precise) are the touching regions: all of them attract.
    keep_fraction: float = 0.05  # trimmed-mean fraction, body-to-object distances (part-level)
    # The same, object-to-body (part-level). 0: off, because a large part's vertices (a table top's)
    # lie far apart and would pull one of them into the hand.
    keep_fraction_back: float = 0.0
    keep_fraction_precise: float = 1.0  # both directions, vertex-level contacts
    w_contact: float = 30.0  # vertex-level contacts
    w_contact_part: float = 4.0  # part-level contacts
    w_sil_cover: float = 2.0
    w_sil_inside: float = 2.0
    w_depth: float = 20.0
    w_penetration: float = 100.0
    w_scale: float = 0.5
    w_upright: float = 1.0
    w_body_shift: float = 2.0
    body_shift_sigma: float = 0.1
    max_contact_points: int = 300
    region_points: int = 300  # area samples per contact pair's object region
    max_object_points: int = 800
    max_mask_points: int = 800
    search_points: int = 200  # object, mask and per-pair contact points while all the starts run
    mask_resolution: int = 256
    sdf_spacing: float = 0.02
    seed: int = 0
    limbs: LimbConfig = field(default_factory=LimbConfig)  # the last phase (needs the body model)

    def as_dict(self) -> dict:
        return asdict(self)


def _subsample(idx: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return idx if len(idx) <= n else np.sort(rng.choice(idx, n, replace=False))


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


def region_samples(V: np.ndarray, F: np.ndarray, vidx: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """About ``n`` area-weighted points on the surface region of vertex set ``vidx`` (plus the vertices
    themselves, subsampled): (M, 3) in the frame of ``V``. The region is the faces whose three vertices
    are all in the set; a set too sparse for that (a few vertices on large faces) takes the half of each
    face touching it that lies nearer its vertices in the set.

    A contact's body points are matched to these rather than to the object's vertices, which on a
    coarse mesh can lie centimetres apart: touching the surface between two vertices is then a touch."""
    vidx = np.asarray(vidx, np.int64)
    inset = np.zeros(len(V), bool)
    inset[vidx] = True
    k = inset[F].sum(1)
    faces = F[k == 3]
    if len(faces) == 0:
        faces = F[k > 0]
    if len(faces) == 0 or n <= 0:
        return V[vidx]
    a, b, c = (V[faces[:, i]].astype(np.float64) for i in range(3))
    area = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
    if area.sum() <= 0:
        return V[vidx]
    f = rng.choice(len(faces), n, p=area / area.sum())
    r1, r2 = np.sqrt(rng.random(n)), rng.random(n)
    pts = (1 - r1)[:, None] * a[f] + (r1 * (1 - r2))[:, None] * b[f] + (r1 * r2)[:, None] * c[f]
    m = inset[faces[f]]  # (n, 3): which corners are in the set
    if not m.all():  # partial faces: pull each sample halfway toward its face's corners in the set
        corners = np.stack([a[f], b[f], c[f]], 1)
        anchor = (corners * m[..., None]).sum(1) / m.sum(1, keepdims=True)
        pts = 0.5 * (pts + anchor)
    keep = vidx if len(vidx) <= n else rng.choice(vidx, n, replace=False)
    return np.concatenate([pts, V[keep]]).astype(np.float32)


def _trimmed_mean(d: torch.Tensor, frac: float) -> torch.Tensor:
    """Mean of the smallest ``frac`` of the last dimension."""
    k = max(1, int(math.ceil(frac * d.shape[-1])))
    return (-torch.topk(-d, k, dim=-1).values).mean(-1)


def contact_pairs(contacts: ContactSet, obj_vertices: np.ndarray, obj_faces: np.ndarray, max_points: int,
                  region_points: int, rng: np.random.Generator,
                  rng_region: np.random.Generator) -> list[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:  # fmt: skip
    """Per contact pair with vertices on both meshes: (its index in ``contacts.pairs``, body vertex
    indices, object vertex indices), the indices
    subsampled to ``max_points`` with ``rng``, and (M, 3) area samples of the pair's object region in the
    frame of ``obj_vertices`` (:func:`region_samples`, ``region_points``, ``rng_region``)."""
    out = []
    for k in range(len(contacts.pairs)):
        o_all = contacts.object_vertices[contacts.pair_of_object_vertex == k]
        h = _subsample(contacts.human_vertices[contacts.pair_of_human_vertex == k], max_points, rng)
        o = _subsample(o_all, max_points, rng)
        if len(h) and len(o):  # a pair with no vertices on one side attracts nothing
            out.append((k, h, o, region_samples(obj_vertices, obj_faces, o_all, region_points, rng_region)))
    return out


def pair_contact(H: torch.Tensor, S: torch.Tensor, O: torch.Tensor, keep: float, keep_back: float) -> torch.Tensor:
    """One pair's contact term, (N,) metres, for N hypotheses: the trimmed mean (closest ``keep``) of the
    distances from the body points H (N, P, 3) to the object region's area samples S (N, M, 3), plus,
    when ``keep_back`` > 0, that of the distances from the region's vertices O (N, Q, 3) back to H."""
    d = _trimmed_mean(nearest_distances(H, S, back=False)[0], keep)
    if keep_back > 0:
        d = d + _trimmed_mean(nearest_distances(O, H, back=False)[0], keep_back)
    return d


class _Problem:
    """Precomputed, device-resident data for one image."""

    def __init__(self, body, mesh, contacts, obj_det, person_det, camera, scale_sigma, upright, cfg, device):
        rng = np.random.default_rng(cfg.seed)
        dev = torch.device(device)
        self.dev, self.cfg, self.upright = dev, cfg, upright
        self.camera = camera
        self.scale_sigma = scale_sigma
        f = lambda a: torch.tensor(np.asarray(a), dtype=torch.float32, device=dev)  # noqa: E731
        self.X = f(mesh.vertices)  # canonical object vertices
        self.body_v = f(body.vertices)
        self.centroid = self.body_v.mean(0)
        # Part-level contacts (a whole hand, a whole seat) only partly touch: a trimmed mean lets the
        # closest few points of each set do the touching. Vertex-level contacts are the touching regions.
        self.keep = cfg.keep_fraction_precise if contacts.precise else cfg.keep_fraction
        self.keep_back = cfg.keep_fraction_precise if contacts.precise else cfg.keep_fraction_back
        self.w_contact = cfg.w_contact if contacts.precise else cfg.w_contact_part
        # Contact pairs: subsampled index sets, and canonical area samples of each object region (their
        # own random stream: the other subsets stay as they were).
        found = contact_pairs(contacts, mesh.vertices, mesh.faces, cfg.max_contact_points, cfg.region_points,
                              rng, np.random.default_rng(cfg.seed + 1))  # fmt: skip
        self.pairs = [(torch.as_tensor(h, device=dev), torch.as_tensor(o, device=dev)) for _, h, o, _ in found]
        self.pair_surface = [f(S) for *_, S in found]
        if not self.pairs:
            raise InputError("no contact pair has vertices on both the body and the object")
        # Silhouette/depth/penetration points: a vertex subset (library meshes are densest at edges
        # and contact surfaces, which suits the silhouette better than uniform surface samples).
        self.surface = self.X[torch.as_tensor(_subsample(np.arange(len(mesh.vertices)), cfg.max_object_points, rng), device=dev)]
        # Masks at reduced resolution.
        H, W = obj_det.mask.shape
        self.mask_scale = min(1.0, cfg.mask_resolution / max(H, W))
        h, w = max(1, round(H * self.mask_scale)), max(1, round(W * self.mask_scale))
        self.small = (w, h)
        om = cv2.resize(obj_det.mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
        pm = cv2.resize(person_det.mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
        if not om.any():  # a mask smaller than one reduced pixel: keep its box centre
            cy, cx = np.argwhere(obj_det.mask).mean(0) * self.mask_scale
            om[min(h - 1, int(cy)), min(w - 1, int(cx))] = True
        self.obj_mask_small = om
        self.person_mask_small = pm
        b = obj_det.box
        self.norm = max(8.0, math.hypot(b.width, b.height)) * self.mask_scale  # object box diagonal, small px
        allowed = (om | pm).astype(np.uint8)
        dt = cv2.distanceTransform(1 - allowed, cv2.DIST_L2, 3).astype(np.float32) / self.norm
        self.dt_allowed = f(dt)
        ys, xs = np.nonzero(om)
        pick = _subsample(np.arange(len(xs)), cfg.max_mask_points, rng)
        self.mask_pts = f(np.stack([xs[pick] + 0.5, ys[pick] + 0.5], 1))
        # Random subsets for the search phase (many hypotheses, coarse is enough to rank them).
        gen = torch.Generator().manual_seed(cfg.seed)

        def few(x: torch.Tensor) -> torch.Tensor:
            return x[torch.randperm(len(x), generator=gen)[: cfg.search_points].to(dev)]

        self.coarse = {
            "surface": few(self.surface),
            "mask_pts": few(self.mask_pts),
            "pairs": [(few(h), few(o)) for h, o in self.pairs],
            "pair_surface": [few(S) for S in self.pair_surface],
        }
        # Pixels where the person hides the object, at least two reduced pixels away from the object
        # mask: object points at the mask's edge project there too (bilinear sampling, the masks'
        # resolution) while lying in front of the body, and the depth order must not push them back.
        away = cv2.distanceTransform((~om).astype(np.uint8), cv2.DIST_L2, 3) >= 2.0
        self.person_only = f((pm & ~om & away).astype(np.float32))
        Ks = camera.K * np.array([[self.mask_scale], [self.mask_scale], [1.0]])
        self.K_small = Ks
        bd = depth_map(body.vertices, body.faces, Ks, w, h)
        self.body_depth = f(np.where(np.isfinite(bd), bd, 0.0))
        self.body_hit = f(np.isfinite(bd).astype(np.float32))
        self.sdf = body_sdf_grid(body.vertices, body.faces, spacing=cfg.sdf_spacing, device=dev)

    def project_small(self, P: torch.Tensor) -> torch.Tensor:
        K = self.K_small
        z = P[..., 2:3].clamp(min=1e-3)
        return torch.cat([P[..., 0:1] / z * K[0, 0] + K[0, 2], P[..., 1:2] / z * K[1, 1] + K[1, 2]], -1)

    def _sample(self, img: torch.Tensor, uv: torch.Tensor) -> torch.Tensor:
        h, w = img.shape
        g = torch.stack([uv[..., 0] / w * 2 - 1, uv[..., 1] / h * 2 - 1], -1)
        shp = g.shape[:-1]
        out = torch.nn.functional.grid_sample(
            img[None, None], g.reshape(1, 1, -1, 2), mode="bilinear", padding_mode="border", align_corners=False
        )
        return out.reshape(shp)

    def losses(self, rot6d, t, log_s, delta, coarse: bool = False) -> dict[str, torch.Tensor]:
        """Per-hypothesis weighted loss terms, each (N,). ``coarse``: on the search-phase point subsets."""
        cfg = self.cfg
        pairs, pair_surface, surface, mask_pts = self.pairs, self.pair_surface, self.surface, self.mask_pts
        if coarse:
            c = self.coarse
            pairs, pair_surface, surface, mask_pts = c["pairs"], c["pair_surface"], c["surface"], c["mask_pts"]
        R = rot6d_to_matrix(rot6d)  # (N,3,3)
        s = log_s.exp()[:, None, None]
        shift = delta[:, None] * self.centroid  # (N,3)

        def obj(points):
            return s * (points @ R.transpose(1, 2)) + t[:, None]

        terms = {}
        contact = torch.zeros_like(log_s)
        for (h_idx, o_idx), S in zip(pairs, pair_surface):
            Hp = self.body_v[h_idx][None] + shift[:, None]
            contact = contact + pair_contact(Hp, obj(S), obj(self.X[o_idx]), self.keep, self.keep_back)
        terms["contact"] = self.w_contact * contact / max(1, len(pairs))

        P = obj(surface)
        uv = self.project_small(P)
        cover = nearest_distances(mask_pts[None].expand(len(uv), -1, -1), uv, back=False)[0] / self.norm
        terms["sil_cover"] = cfg.w_sil_cover * cover.mean(1)
        w, h = self.small
        outside = (torch.relu(-uv[..., 0]) + torch.relu(uv[..., 0] - w) + torch.relu(-uv[..., 1])
                   + torch.relu(uv[..., 1] - h)) / self.norm  # fmt: skip
        terms["sil_inside"] = cfg.w_sil_inside * (self._sample(self.dt_allowed, uv) + outside).mean(1)

        with torch.no_grad():
            person_only = self._sample(self.person_only, uv) * self._sample(self.body_hit, uv)
            bdepth = self._sample(self.body_depth, uv)
        bz = bdepth + delta[:, None] * self.centroid[2]
        terms["depth"] = cfg.w_depth * (person_only * torch.relu(bz + 0.01 - P[..., 2])).mean(1)

        sdf = self.sdf(P - shift[:, None])
        terms["penetration"] = cfg.w_penetration * torch.relu(-sdf).mean(1)
        terms["scale"] = cfg.w_scale * (log_s / self.scale_sigma) ** 2
        terms["body_shift"] = cfg.w_body_shift * (delta / cfg.body_shift_sigma) ** 2
        if self.upright:
            up = R[:, :, 1]  # canonical +y (down) in the camera frame
            terms["upright"] = cfg.w_upright * (1 - up[:, 1])
        return terms


def _diagnostics(body, contacts, obj_v, shift, mesh, pb) -> dict[str, float]:
    """Unweighted numbers for people: contact distance (mean over pairs of the closest body-part to
    object-part distance, metres), deepest object point inside the body (metres), silhouette IoU of the
    object's projection (less what the person hides) against the object mask."""
    from scipy.spatial import cKDTree

    dists = []
    for k in range(len(contacts.pairs)):
        h = body.vertices[contacts.human_vertices[contacts.pair_of_human_vertex == k]] + shift
        o = obj_v[contacts.object_vertices[contacts.pair_of_object_vertex == k]]
        if not len(h) or not len(o):
            continue
        d, _ = cKDTree(o).query(h)
        dists.append(float(np.sort(d)[: max(1, int(0.3 * len(d)))].mean()))
    sdf = signed_distance(body.vertices + shift, body.faces, obj_v)
    w, h = pb.small
    uv = pb.project_small(torch.as_tensor(obj_v, device=pb.dev)).cpu().numpy()
    drawn = np.zeros((h, w), np.uint8)
    tris = np.round(uv[mesh.faces] * 8).astype(np.int32)  # 3 bits of sub-pixel precision
    cv2.fillPoly(drawn, list(tris), 1, lineType=cv2.LINE_8, shift=3)
    om = pb.obj_mask_small
    seen = drawn.astype(bool) & ~(pb.person_only.cpu().numpy() > 0)  # the person may hide the object
    inter = float((seen & om).sum())
    union = float((seen | om).sum())
    return {
        "contact_distance_m": float(np.mean(dists)) if dists else float("nan"),
        "penetration_max_m": float(max(0.0, -sdf.min())),
        "silhouette_iou": inter / union if union else 0.0,
    }


def mask_centroid_at(obj_det: ObjectDetection, camera: CameraIntrinsics, z: float, dev) -> torch.Tensor:
    """The object mask's centroid back-projected to depth ``z`` (metres, camera frame)."""
    ys, xs = np.nonzero(obj_det.mask)
    return torch.tensor([(xs.mean() + 0.5 - camera.cx) / camera.fx * z, (ys.mean() + 0.5 - camera.cy) / camera.fy * z, z],
                        dtype=torch.float32, device=dev)  # fmt: skip


def initial_rotations(upright: bool, yaw_starts: int) -> np.ndarray:
    if upright:
        return np.stack([rot_y(2 * math.pi * k / yaw_starts) for k in range(yaw_starts)])
    return cube_rotations()


def fit_object(
    body: BodyFit,
    mesh: ObjectMesh,
    contacts: ContactSet,
    obj_det: ObjectDetection,
    person_det: PersonDetection,
    camera: CameraIntrinsics,
    *,
    scale_sigma: float = 0.15,
    upright: bool = True,
    config: FitConfig = FitConfig(),
    device: str | torch.device = "cpu",
    body_model=None,
) -> FitResult:
    """Fit the object (and the person's depth) jointly; see the module docstring. With ``body_model``
    (the model behind ``body.state``) a last phase re-poses the limbs in contact
    (:mod:`hoirecon.fitting.limbs`)."""
    torch.manual_seed(config.seed)
    pb = _Problem(body, mesh, contacts, obj_det, person_det, camera, scale_sigma, upright, config, device)
    dev = pb.dev
    Rs = torch.as_tensor(initial_rotations(upright, config.yaw_starts), dtype=torch.float32, device=dev)
    # Starts: each rotation placed so that the object's contact points sit on the body's contact points
    # and, per ``mask_start_depths``, with its centre on the mask's centroid ray in front of and behind
    # the contacts: a large object centred on the hands (a table) would otherwise have to pass through
    # the body to reach its side of it.
    h_all = torch.cat([h for h, _ in pb.pairs])
    o_all = torch.cat([o for _, o in pb.pairs])
    target = pb.body_v[h_all].mean(0)
    starts = [target - pb.X[o_all].mean(0) @ Rs.transpose(1, 2)]
    extent = float((pb.X.max(0).values - pb.X.min(0).values).max())
    for k in config.mask_start_depths:
        centre = mask_centroid_at(obj_det, camera, max(0.1, float(target[2]) + k * extent), dev)
        starts.append(centre - pb.X.mean(0) @ Rs.transpose(1, 2))
    t0 = torch.cat(starts)
    Rs = Rs.repeat(len(starts), 1, 1)
    N = len(Rs)
    rot6d = matrix_to_rot6d(Rs).clone().requires_grad_(True)
    t = t0.clone().requires_grad_(True)
    log_s = torch.zeros(N, device=dev, requires_grad=True)
    delta = torch.zeros(N, device=dev, requires_grad=True)

    def run(params, steps, coarse=False):
        opt = torch.optim.Adam(params, lr=config.lr)
        for _ in range(steps):
            opt.zero_grad()
            total = sum(pb.losses(rot6d, t, log_s, delta, coarse).values())
            total.sum().backward()
            opt.step()

    run([rot6d, t, log_s, delta], config.steps_search, coarse=True)
    with torch.no_grad():
        totals = sum(pb.losses(rot6d, t, log_s, delta).values())
        top = torch.argsort(totals)[: config.refine_top]
    rot6d, t, log_s, delta = (p.detach()[top].clone().requires_grad_(True) for p in (rot6d, t, log_s, delta))
    run([rot6d, t, log_s, delta], config.steps_refine)
    with torch.no_grad():
        k = int(torch.argmin(sum(pb.losses(rot6d, t, log_s, delta).values())))
        best = int(top[k])
    rot6d, t, log_s, delta = (p.detach()[k : k + 1] for p in (rot6d, t, log_s, delta))

    with torch.no_grad():
        terms = pb.losses(rot6d, t, log_s, delta)
        R = rot6d_to_matrix(rot6d)[0]
        s = float(log_s.exp()[0])
        shift = (delta[0] * pb.centroid).cpu().numpy().astype(np.float32)
        verts = (s * pb.X @ R.T + t[0]).cpu().numpy().astype(np.float32)
    losses = {k: float(v[0]) for k, v in terms.items()}
    losses["total"] = float(sum(losses.values()))
    losses["start_index"] = best
    st = body.state
    body_moved = BodyFit(
        model_name=body.model_name,
        vertices=(body.vertices + shift).astype(np.float32),
        faces=body.faces,
        keypoints3d=(body.keypoints3d + shift).astype(np.float32),
        keypoint_names=body.keypoint_names,
        part_of_vertex=body.part_of_vertex,
        part_names=body.part_names,
        params={**body.params, "transl": (np.asarray(body.params.get("transl", [0, 0, 0])) + shift).round(6).tolist()},
        reprojection_error_px=body.reprojection_error_px,
        state=None if st is None else BodyState(st.pose, st.shape, st.orient, (st.transl + shift).astype(np.float32)),
    )
    if body_model is not None and body.state is not None and config.limbs.steps > 0:
        body_moved, extra, limb_losses = refine_contact_limbs(
            body_model, body_moved, verts, mesh.faces, contacts, person_det, camera, pb.keep, config.limbs, pb.keep_back
        )
        shift = (shift + extra).astype(np.float32)
        losses.update(limb_losses)
    losses.update(_diagnostics(body_moved, contacts, verts, np.zeros(3, np.float32), mesh, pb))
    fit = ObjectFit(
        mesh=mesh,
        rotation=R.cpu().numpy().astype(np.float32),
        translation=t[0].detach().cpu().numpy().astype(np.float32),
        scale=s,
        vertices=verts,
    )
    return FitResult(body=body_moved, object=fit, losses=losses, body_translation=shift)
