"""The fitting problem of one image, as the loss terms (:mod:`hoirecon.fitting.terms`) read it, and the
pieces every objective shares: contact pairs and their object regions, the placement of N object
hypotheses, the diagnostics reported with every fit.

Units and frames: metres, camera frame (x right, y down, z forward); image quantities live at a reduced
"small" resolution (``FitProblem.mask_scale`` times the image's), in its pixels (x, y; pixel centres at
+0.5).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from hoirecon.errors import InputError
from hoirecon.fitting.config import FitConfig
from hoirecon.geometry.frames import body_forward
from hoirecon.geometry.projection import silhouette
from hoirecon.geometry.raycast import depth_map
from hoirecon.geometry.rotations import rot6d_to_matrix
from hoirecon.geometry.sdf import SDFGrid, body_sdf_grid, signed_distance
from hoirecon.types import BodyFit, CameraIntrinsics, ContactSet, ObjectDetection, ObjectMesh, PersonDetection


def subsample(idx: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``idx`` itself when it has at most ``n`` entries, else ``n`` of them drawn with ``rng``, sorted."""
    return idx if len(idx) <= n else np.sort(rng.choice(idx, n, replace=False))


def region_faces(faces: np.ndarray, vidx: np.ndarray, n_vertices: int) -> np.ndarray:
    """The faces (of a mesh of ``n_vertices``) of the surface region of vertex set ``vidx``: those whose
    three vertices are all in the set or, for a set too sparse for that (a few vertices on large
    faces), every face touching it."""
    inset = np.zeros(n_vertices, bool)
    inset[np.asarray(vidx, np.int64)] = True
    k = inset[np.asarray(faces, np.int64)].sum(1)
    return faces[k == 3] if (k == 3).any() else faces[k > 0]


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
    faces = region_faces(F, vidx, len(V))
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
        h = subsample(contacts.human_vertices[contacts.pair_of_human_vertex == k], max_points, rng)
        o = subsample(o_all, max_points, rng)
        if len(h) and len(o):  # a pair with no vertices on one side attracts nothing
            out.append((k, h, o, region_samples(obj_vertices, obj_faces, o_all, region_points, rng_region)))
    return out


def mask_centroid_at(obj_det: ObjectDetection, camera: CameraIntrinsics, z: float, dev) -> torch.Tensor:
    """The object mask's centroid back-projected to depth ``z`` (metres, camera frame): (3,)."""
    ys, xs = np.nonzero(obj_det.mask)
    return torch.tensor([(xs.mean() + 0.5 - camera.cx) / camera.fx * z, (ys.mean() + 0.5 - camera.cy) / camera.fy * z, z],
                        dtype=torch.float32, device=dev)  # fmt: skip


@dataclass(frozen=True)
class FitPoints:
    """The point sets the terms read (all of them, or the search phase's random subsets).

    pairs: per contact pair, (body vertex indices (P,) into ``FitProblem.body_vertices``, object vertex
    indices (Q,) into ``FitProblem.object_vertices``), int64 tensors.
    pair_surface: per contact pair, (M, 3) area samples of its object region, canonical object frame.
    surface: (S, 3) object vertices for the silhouette, depth and penetration terms, canonical frame.
    mask_pts: (K, 2) object-mask pixel centres, small pixels."""

    pairs: list[tuple[torch.Tensor, torch.Tensor]]
    pair_surface: list[torch.Tensor]
    surface: torch.Tensor
    mask_pts: torch.Tensor


@dataclass(frozen=True)
class FloorPoints:
    """What the floor terms read (:mod:`hoirecon.ground.floor`): ``soles`` per foot (P_i, 3) body
    vertices, camera frame (empty: the body is no support); ``body_probe`` (Q, 3) body vertices that
    must stay above the floor (empty when the body is no support: legs the posture does not trust); ``object_support`` (S, 3) the canonical object's lowest vertices (empty:
    the object is no support); ``object_always`` True when the object always rests on the floor
    (support "floor"), False when it may be carried ("either"); ``robust_m`` the supports' robust
    scale, metres (:func:`hoirecon.fitting.terms.floor_support`)."""

    soles: list[torch.Tensor]
    body_probe: torch.Tensor
    object_support: torch.Tensor
    object_always: bool
    robust_m: float

    @property
    def body_supports(self) -> bool:
        return len(self.soles) > 0

    @property
    def object_supports(self) -> bool:
        return len(self.object_support) > 0


@dataclass(frozen=True)
class FitProblem:
    """Precomputed, device-resident data of one image (build it with :func:`build_problem`).

    Objects and body: ``object_vertices`` (V, 3) the canonical object mesh's vertices, metres;
    ``body_vertices`` (B, 3) the fitted body, camera frame, and ``body_centroid`` (3,) their mean;
    ``body_sdf`` the body's signed-distance grid (metres, negative inside).
    Contacts: ``precise`` (vertex-level contacts, else part-level), the trimmed-mean fractions
    ``keep_fraction`` (body to object) and ``keep_fraction_back`` (object to body, 0: off).
    Points: ``full`` and ``coarse`` (:class:`FitPoints`).
    Image, at ``size`` = (w, h) small pixels (``mask_scale`` times the image's): ``K`` (3, 3) the
    intrinsics at that size; ``object_mask`` / ``person_mask`` (h, w) bool arrays; ``norm`` the object
    box's diagonal (small pixels, at least 8 image pixels' worth); ``allowed_distance`` (h, w) distance
    to the union of both masks in ``norm`` units; ``person_only`` (h, w) 1 where the person hides the
    object (two small pixels away from the object mask), else 0; ``object_only`` (h, w) 1 where the
    object is seen and the person is not (two small pixels away from the person mask), else 0;
    ``body_depth`` (h, w) the body's depth (metres, 0 where missed) and ``body_hit`` (h, w) 1 where the
    body is seen.
    Priors: ``scale_sigma`` (log-scale), ``upright`` (the object's up stays up), ``up`` (3,) gravity's
    up in the camera frame (None: the camera's -y, without the ground stage), ``floor`` the floor terms'
    points (:class:`FloorPoints`; None: no floor); ``facing`` (3,) unit horizontal, camera frame, the
    way the object's front should face (:func:`facing_direction`; None: no facing prior);
    ``deep_fraction`` the deepest object points that the penetration term also counts on their own
    (``FitConfig.penetration_deep_fraction``)."""

    device: torch.device
    camera: CameraIntrinsics
    scale_sigma: float
    upright: bool
    object_vertices: torch.Tensor
    body_vertices: torch.Tensor
    body_centroid: torch.Tensor
    body_sdf: SDFGrid
    precise: bool
    keep_fraction: float
    keep_fraction_back: float
    full: FitPoints
    coarse: FitPoints
    mask_scale: float
    size: tuple[int, int]
    K: np.ndarray
    object_mask: np.ndarray
    person_mask: np.ndarray
    norm: float
    allowed_distance: torch.Tensor
    person_only: torch.Tensor
    object_only: torch.Tensor
    body_depth: torch.Tensor
    body_hit: torch.Tensor
    up: torch.Tensor | None = None
    floor: FloorPoints | None = None
    deep_fraction: float = 0.0
    facing: torch.Tensor | None = None

    @property
    def pairs(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """All the contact pairs' (body, object) vertex indices (``full.pairs``)."""
        return self.full.pairs

    def points(self, coarse: bool = False) -> FitPoints:
        return self.coarse if coarse else self.full

    def project(self, P: torch.Tensor) -> torch.Tensor:
        """(..., 3) camera-frame points -> (..., 2) small pixels (depths clamped at 1 mm)."""
        K = self.K
        z = P[..., 2:3].clamp(min=1e-3)
        return torch.cat([P[..., 0:1] / z * K[0, 0] + K[0, 2], P[..., 1:2] / z * K[1, 1] + K[1, 2]], -1)


def build_problem(body: BodyFit, mesh: ObjectMesh, contacts: ContactSet, obj_det: ObjectDetection,
                  person_det: PersonDetection, camera: CameraIntrinsics, scale_sigma: float, upright: bool,
                  cfg: FitConfig, device: str | torch.device, ground=None,
                  facing: str | None = None) -> FitProblem:  # fmt: skip
    """The :class:`FitProblem` of one image: subsampled point sets (``cfg``'s budgets, seeded with
    ``cfg.seed``), reduced masks, the body's depth map and signed-distance grid; with ``ground`` (a
    :class:`hoirecon.ground.GroundPrior`) gravity's up and the floor's points; with ``facing`` (a
    mode's, :func:`facing_direction`) the facing prior's direction."""
    rng = np.random.default_rng(cfg.seed)
    dev = torch.device(device)
    f = lambda a: torch.tensor(np.asarray(a), dtype=torch.float32, device=dev)  # noqa: E731
    X = f(mesh.vertices)  # canonical object vertices
    body_v = f(body.vertices)
    centroid = body_v.mean(0)
    # Part-level contacts (a whole hand, a whole seat) only partly touch: a trimmed mean lets the
    # closest few points of each set do the touching. Vertex-level contacts are the touching regions.
    keep = cfg.keep_fraction_precise if contacts.precise else cfg.keep_fraction
    keep_back = cfg.keep_fraction_precise if contacts.precise else cfg.keep_fraction_back
    # Contact pairs: subsampled index sets, and canonical area samples of each object region (their
    # own random stream: the other subsets stay as they were).
    found = contact_pairs(contacts, mesh.vertices, mesh.faces, cfg.max_contact_points, cfg.region_points,
                          rng, np.random.default_rng(cfg.seed + 1))  # fmt: skip
    pairs = [(torch.as_tensor(h, device=dev), torch.as_tensor(o, device=dev)) for _, h, o, _ in found]
    pair_surface = [f(S) for *_, S in found]
    if not pairs:
        raise InputError("no contact pair has vertices on both the body and the object")
    # Silhouette/depth/penetration points: a vertex subset (library meshes are densest at edges
    # and contact surfaces, which suits the silhouette better than uniform surface samples).
    surface = X[torch.as_tensor(subsample(np.arange(len(mesh.vertices)), cfg.max_object_points, rng), device=dev)]
    # Masks at reduced resolution.
    H, W = obj_det.mask.shape
    mask_scale = min(1.0, cfg.mask_resolution / max(H, W))
    h, w = max(1, round(H * mask_scale)), max(1, round(W * mask_scale))
    om = cv2.resize(obj_det.mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    pm = cv2.resize(person_det.mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
    if not om.any():  # a mask smaller than one reduced pixel: keep its box centre
        cy, cx = np.argwhere(obj_det.mask).mean(0) * mask_scale
        om[min(h - 1, int(cy)), min(w - 1, int(cx))] = True
    b = obj_det.box
    norm = max(8.0, math.hypot(b.width, b.height)) * mask_scale  # object box diagonal, small px
    allowed = (om | pm).astype(np.uint8)
    dt = cv2.distanceTransform(1 - allowed, cv2.DIST_L2, 3).astype(np.float32) / norm
    ys, xs = np.nonzero(om)
    pick = subsample(np.arange(len(xs)), cfg.max_mask_points, rng)
    mask_pts = f(np.stack([xs[pick] + 0.5, ys[pick] + 0.5], 1))
    # Random subsets for the search phase (many hypotheses, coarse is enough to rank them).
    gen = torch.Generator().manual_seed(cfg.seed)

    def few(x: torch.Tensor) -> torch.Tensor:
        return x[torch.randperm(len(x), generator=gen)[: cfg.search_points].to(dev)]

    coarse_surface, coarse_mask_pts = few(surface), few(mask_pts)
    coarse_pairs = [(few(hh), few(oo)) for hh, oo in pairs]
    coarse_pair_surface = [few(S) for S in pair_surface]
    # Pixels where the person hides the object, at least two reduced pixels away from the object
    # mask: object points at the mask's edge project there too (bilinear sampling, the masks'
    # resolution) while lying in front of the body, and the depth order must not push them back.
    away = cv2.distanceTransform((~om).astype(np.uint8), cv2.DIST_L2, 3) >= 2.0
    person_only = f((pm & ~om & away).astype(np.float32))
    away_p = cv2.distanceTransform((~pm).astype(np.uint8), cv2.DIST_L2, 3) >= 2.0
    object_only = f((om & ~pm & away_p).astype(np.float32))
    Ks = camera.K * np.array([[mask_scale], [mask_scale], [1.0]])
    bd = depth_map(body.vertices, body.faces, Ks, w, h)
    up = f(ground.up) if ground is not None else None  # None: the camera's -y (the terms' own default)
    floor = floor_points(ground, body, mesh, cfg, np.random.default_rng(cfg.seed + 2), f)
    fd = facing_direction(body, facing, ground)
    return FitProblem(
        device=dev,
        camera=camera,
        scale_sigma=scale_sigma,
        upright=upright,
        object_vertices=X,
        body_vertices=body_v,
        body_centroid=centroid,
        body_sdf=body_sdf_grid(body.vertices, body.faces, spacing=cfg.sdf_spacing, device=dev),
        precise=bool(contacts.precise),
        keep_fraction=keep,
        keep_fraction_back=keep_back,
        deep_fraction=cfg.penetration_deep_fraction,
        full=FitPoints(pairs=pairs, pair_surface=pair_surface, surface=surface, mask_pts=mask_pts),
        coarse=FitPoints(pairs=coarse_pairs, pair_surface=coarse_pair_surface, surface=coarse_surface,
                         mask_pts=coarse_mask_pts),
        mask_scale=mask_scale,
        size=(w, h),
        K=Ks,
        object_mask=om,
        person_mask=pm,
        norm=norm,
        allowed_distance=f(dt),
        person_only=person_only,
        object_only=object_only,
        body_depth=f(np.where(np.isfinite(bd), bd, 0.0)),
        body_hit=f(np.isfinite(bd).astype(np.float32)),
        up=up,
        floor=floor,
        facing=None if fd is None else f(fd),
    )


#: a mode's ``facing`` (contacts.json) -> the sign of the body's forward that the object's front takes
FACING = {"same": 1.0, "toward": -1.0}


def facing_direction(body: BodyFit, facing: str | None, ground=None) -> np.ndarray | None:
    """(3,) float64 unit, camera frame, horizontal: the way the object's front (canonical -z) should
    face for a mode's ``facing``: ``"same"``, the body's forward (a chair sat on, a bicycle ridden, a
    cart pushed); ``"toward"``, back at the body (a laptop's screen on the lap). Horizontal about
    gravity's up (``ground.up``; None: the camera's -y). None without ``facing`` or when the body's
    hips and shoulders give no direction."""
    if facing is None:
        return None
    if facing not in FACING:
        raise ValueError(f"unknown facing '{facing}' (have: {', '.join(FACING)})")
    up = np.asarray(ground.up, np.float64) if ground is not None else np.array([0.0, -1.0, 0.0])
    fwd = body_forward(body.keypoint_names, body.keypoints3d, up)
    return None if not fwd.any() else FACING[facing] * fwd


def floor_points(ground, body: BodyFit, mesh: ObjectMesh, cfg: FitConfig, rng: np.random.Generator, f) -> FloorPoints | None:
    """The floor terms' points for ``ground`` (a :class:`hoirecon.ground.GroundPrior`), or None when it
    is None or nothing supports the floor."""
    from hoirecon.ground.floor import sole_vertices, support_vertices

    if ground is None or not ground.has_support:
        return None
    soles = []
    if ground.body_support != "none":
        for idx in sole_vertices(body.vertices, body.part_of_vertex, body.part_names, ground.up, ground.config.sole_band_m):
            soles.append(f(body.vertices[subsample(idx, cfg.max_contact_points, rng)]))
    support = support_vertices(mesh.vertices) if ground.object_support != "none" else np.zeros(0, np.int64)
    if not soles and not len(support):
        return None
    # the body stays above the floor only when its legs are trusted to stand on it (a support)
    probe = body.vertices[subsample(np.arange(len(body.vertices)), cfg.max_object_points, rng)] if soles else body.vertices[:0]
    return FloorPoints(soles=soles, body_probe=f(probe), object_support=f(mesh.vertices[support]).reshape(-1, 3),
                       object_always=ground.object_support == "floor", robust_m=ground.config.floor_robust_m)  # fmt: skip


@dataclass(frozen=True)
class Placement:
    """N object hypotheses placed in the camera frame, and the body shifted along its viewing ray.

    rotation: (N, 3, 3) canonical object frame -> camera frame; log_scale: (N,) and scale (N, 1, 1) its
    exp; translation: (N, 3) metres; body_delta: (N,) the body's depth change as a fraction of its
    centroid's (``body + body_delta * centroid``, which keeps its projection); body_shift: (N, 3) that
    shift, metres."""

    rotation: torch.Tensor
    log_scale: torch.Tensor
    scale: torch.Tensor
    translation: torch.Tensor
    body_delta: torch.Tensor
    body_shift: torch.Tensor

    @staticmethod
    def of(rot6d: torch.Tensor, t: torch.Tensor, log_s: torch.Tensor, delta: torch.Tensor,
           centroid: torch.Tensor) -> Placement:  # fmt: skip
        """From the fit's unknowns: rot6d (N, 6), t (N, 3), log_s (N,), delta (N,); centroid (3,)."""
        R = rot6d_to_matrix(rot6d)
        s = log_s.exp()[:, None, None]
        shift = delta[:, None] * centroid
        return Placement(rotation=R, log_scale=log_s, scale=s, translation=t, body_delta=delta, body_shift=shift)

    def object_points(self, points: torch.Tensor) -> torch.Tensor:
        """Canonical object points (P, 3) -> (N, P, 3), camera frame."""
        return self.scale * (points @ self.rotation.transpose(1, 2)) + self.translation[:, None]


def contact_distance(body_vertices: np.ndarray, contacts: ContactSet, obj_v: np.ndarray, obj_faces: np.ndarray) -> float:
    """The contact distance people read, metres (NaN without pairs): the mean over the contact pairs of
    the mean over the closest 30 % of a pair's body vertices (``body_vertices`` (Vb, 3)) of their exact
    distance to the surface of the pair's object region (:func:`region_faces` of ``obj_v`` (Vo, 3),
    ``obj_faces``; open3d), as the contact loss measures it on area samples, not to its vertices
    alone: on a coarse mesh (a deck of vertices 10 cm apart) a foot flat on the surface between them is
    a touch."""
    import open3d as o3d

    from hoirecon.geometry.raycast import raycasting_scene

    dists = []
    faces = np.asarray(obj_faces, np.int64)
    for k in range(len(contacts.pairs)):
        h = body_vertices[contacts.human_vertices[contacts.pair_of_human_vertex == k]]
        o_idx = contacts.object_vertices[contacts.pair_of_object_vertex == k]
        if not len(h) or not len(o_idx):
            continue
        sub = region_faces(faces, o_idx, len(obj_v))
        if len(sub):
            scene = raycasting_scene(obj_v, sub)
            d = scene.compute_distance(o3d.core.Tensor(np.ascontiguousarray(h, np.float32))).numpy()
        else:  # no face: the vertices alone
            from scipy.spatial import cKDTree

            d = cKDTree(obj_v[o_idx]).query(h)[0]
        dists.append(float(np.sort(d)[: max(1, int(0.3 * len(d)))].mean()))
    return float(np.mean(dists)) if dists else float("nan")


def diagnostics(body: BodyFit, contacts: ContactSet, obj_v: np.ndarray, shift: np.ndarray, mesh: ObjectMesh,
                pb: FitProblem) -> dict[str, float]:  # fmt: skip
    """Unweighted numbers for people: contact distance (:func:`contact_distance`, metres), deepest
    object point inside the body (metres), silhouette IoU of the object's projection (less what the
    person hides) against the object mask. obj_v: (V, 3) the posed object, shift: (3,) added to the
    body, metres, camera frame."""
    sdf = signed_distance(body.vertices + shift, body.faces, obj_v)
    w, h = pb.size
    uv = pb.project(torch.as_tensor(obj_v, device=pb.device)).cpu().numpy()
    om = pb.object_mask
    seen = silhouette(uv, mesh.faces, h, w) & ~(pb.person_only.cpu().numpy() > 0)  # the person may hide the object
    inter = float((seen & om).sum())
    union = float((seen | om).sum())
    return {
        "contact_distance_m": contact_distance(body.vertices + shift, contacts, obj_v, mesh.faces),
        "penetration_max_m": float(max(0.0, -sdf.min())),
        "silhouette_iou": inter / union if union else 0.0,
    }
