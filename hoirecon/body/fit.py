"""Fit a body model to one person's 2D landmarks (SMPLify style, plain torch on any device).

Camera model: ``x_cam = R @ x_canonical + t`` then pinhole projection with the image intrinsics.
Losses: robust (Geman-McClure) 2D reprojection weighted by landmark visibility, its scale annealed
from wide to narrow; 3D limb directions from MediaPipe's world landmarks (camera-aligned); the body's
2D silhouette against the person's mask (an occluder's pixels allowed); pose and shape regularisers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from hoirecon.body.model import KEYPOINT_NAMES, BodyModel, body_regions
from hoirecon.config import BodyFitConfig
from hoirecon.geometry.torchops import nearest_distances, sample_image
from hoirecon.types import BodyFit, BodyState, CameraIntrinsics, PersonDetection

# MediaPipe Pose landmark index for each of KEYPOINT_NAMES (None: MediaPipe has no such point).
MEDIAPIPE_INDEX: dict[str, int | None] = {
    "nose": 0, "left_eye": 2, "right_eye": 5, "left_ear": 7, "right_ear": 8,
    "left_shoulder": 11, "right_shoulder": 12, "left_elbow": 13, "right_elbow": 14,
    "left_wrist": 15, "right_wrist": 16, "left_hip": 23, "right_hip": 24,
    "left_knee": 25, "right_knee": 26, "left_ankle": 27, "right_ankle": 28,
    "left_big_toe": 31, "right_big_toe": 32, "left_small_toe": None, "right_small_toe": None,
    "left_heel": 29, "right_heel": 30,
}  # fmt: skip

# Per-keypoint confidence in the correspondence between MediaPipe's point and the body model's.
_KP_WEIGHT = {"nose": 0.5, "left_eye": 0.3, "right_eye": 0.3, "left_ear": 0.3, "right_ear": 0.3}
_TORSO = ("left_shoulder", "right_shoulder", "left_hip", "right_hip")
# Limb segments whose 3D direction comes from the world landmarks.
_SEGMENTS = (
    ("left_shoulder", "left_elbow"), ("left_elbow", "left_wrist"),
    ("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist"),
    ("left_hip", "left_knee"), ("left_knee", "left_ankle"),
    ("right_hip", "right_knee"), ("right_knee", "right_ankle"),
    ("right_shoulder", "left_shoulder"), ("right_hip", "left_hip"),
    ("left_hip", "left_shoulder"), ("right_hip", "right_shoulder"),
    ("left_ankle", "left_big_toe"), ("right_ankle", "right_big_toe"),
)  # fmt: skip


@dataclass(frozen=True)
class GravityPrior:
    """What the body fit's gravity phase holds the body to (built by ``hoirecon.ground.body_prior``).

    up: (3,) gravity's up, camera frame; torso_deg: the torso's (mid-hip -> mid-shoulder) expected
    spread from up, degrees, or None (no torso prior: lying, kneeling...); limbs: per unseen limb
    (``"left_leg"``, ``"right_leg"``, ``"left_arm"``, ``"right_arm"``) the unit directions of its two
    segments (thigh and shin, upper arm and forearm) in the posture's template, in the body's gravity
    frame (y along gravity's down, z the body's back made horizontal, x = y cross z its left), so that
    legs and arms hang along gravity whatever the pelvis's tilt; the phase's ``steps``, ``lr`` and
    weights ``w_torso`` / ``w_limbs``; init: the body fit's result to continue from."""

    up: np.ndarray
    torso_deg: float | None
    limbs: dict[str, tuple[np.ndarray, np.ndarray]]
    init: BodyState
    steps: int = 60
    lr: float = 0.01
    w_torso: float = 0.05
    w_limbs: float = 0.2


@dataclass(frozen=True)
class KeypointTargets:
    """2D targets in KEYPOINT_NAMES order. xy: (K, 2) px; weight: (K,) >= 0; dirs: (S, 3) unit
    vectors (camera-aligned) or None; dir_weight: (S,)."""

    xy: np.ndarray
    weight: np.ndarray
    dirs: np.ndarray | None
    dir_weight: np.ndarray
    scale_px: float


def targets_from_person(person: PersonDetection) -> KeypointTargets:
    """Map MediaPipe landmarks to the body model's keypoints."""
    K = len(KEYPOINT_NAMES)
    xy = np.zeros((K, 2), np.float32)
    w = np.zeros(K, np.float32)
    world = np.zeros((K, 3), np.float32)
    for k, name in enumerate(KEYPOINT_NAMES):
        i = MEDIAPIPE_INDEX[name]
        if i is None:
            continue
        xy[k] = person.keypoints[i]
        w[k] = float(person.visibility[i]) * _KP_WEIGHT.get(name, 1.0)
        world[k] = person.world_keypoints[i]
    w[w < 0.2] = 0.0
    has_world = bool(np.abs(person.world_keypoints).sum() > 0)
    dirs = np.zeros((len(_SEGMENTS), 3), np.float32)
    dw = np.zeros(len(_SEGMENTS), np.float32)
    idx = {n: i for i, n in enumerate(KEYPOINT_NAMES)}
    for s, (a, b) in enumerate(_SEGMENTS):
        d = world[idx[b]] - world[idx[a]]
        n = np.linalg.norm(d)
        if has_world and n > 1e-4:
            dirs[s] = d / n
            dw[s] = min(w[idx[a]], w[idx[b]])
    scale = float(np.hypot(person.box.width, person.box.height))
    return KeypointTargets(xy=xy, weight=w, dirs=dirs if has_world else None, dir_weight=dw, scale_px=scale)


def _rotation_from_torso(dirs_left: np.ndarray, up: np.ndarray) -> np.ndarray:
    """Rotation taking the canonical frame (x left, y down, z back) to one whose left is ``dirs_left``
    and whose up is ``up`` (both in camera coordinates)."""
    x = dirs_left / (np.linalg.norm(dirs_left) + 1e-9)
    y = -up - np.dot(-up, x) * x
    y /= np.linalg.norm(y) + 1e-9
    z = np.cross(x, y)
    return np.stack([x, y, z], axis=1)


def _initial_rotation(person: PersonDetection) -> np.ndarray:
    wk = person.world_keypoints
    if np.abs(wk).sum() > 0:
        left = 0.5 * ((wk[11] - wk[12]) + (wk[23] - wk[24]))
        up = 0.5 * (wk[11] + wk[12]) - 0.5 * (wk[23] + wk[24])
    else:  # image evidence only: left/right from the 2D shoulders, up from the image
        kp = person.keypoints
        left = np.array([kp[11, 0] - kp[12, 0], kp[11, 1] - kp[12, 1], 0.0])
        up = np.array([0.0, -1.0, 0.0])
    if np.linalg.norm(left) < 1e-6:
        left = np.array([1.0, 0.0, 0.0])
    return _rotation_from_torso(left.astype(np.float64), up.astype(np.float64))


_IDX = {n: i for i, n in enumerate(KEYPOINT_NAMES)}


def limb_penetration(kp: torch.Tensor, torso_radius: float = 0.1, leg_gap: float = 0.08) -> torch.Tensor:
    """Self-penetration guard on keypoints (K, 3), metres: elbows and wrists must stay outside a capsule
    around the torso axis, and the knees/ankles of the two legs must not pass through each other.
    Returns (2,) penalties (arms, legs)."""
    hip = 0.5 * (kp[_IDX["left_hip"]] + kp[_IDX["right_hip"]])
    sh = 0.5 * (kp[_IDX["left_shoulder"]] + kp[_IDX["right_shoulder"]])
    axis = sh - hip
    pts = kp[[_IDX[n] for n in ("left_elbow", "right_elbow", "left_wrist", "right_wrist")]]
    u = (((pts - hip) @ axis) / (axis @ axis).clamp(min=1e-6)).clamp(0.15, 0.85)
    d = (pts - (hip + u[:, None] * axis)).norm(dim=-1)
    arms = torch.relu(torso_radius - d).pow(2).sum()
    legs = sum(torch.relu(leg_gap - (kp[_IDX[f"left_{j}"]] - kp[_IDX[f"right_{j}"]]).norm()).pow(2) for j in ("knee", "ankle"))
    return torch.stack([arms, legs])


def _project(points: torch.Tensor, cam: CameraIntrinsics) -> torch.Tensor:
    z = points[..., 2:3].clamp(min=1e-3)
    f = points.new_tensor([cam.fx, cam.fy])
    c = points.new_tensor([cam.cx, cam.cy])
    return points[..., :2] / z * f + c


def _gmof(sq: torch.Tensor, sigma: float) -> torch.Tensor:
    s2 = sigma * sigma
    return s2 * sq / (s2 + sq)


def reprojection_loss(kp: torch.Tensor, camera: CameraIntrinsics, xy: torch.Tensor, weight: torch.Tensor,
                      scale_px: float, sigma: float, subset: torch.Tensor | None = None) -> torch.Tensor:  # fmt: skip
    """The body fit's robust 2D term: Geman-McClure of the keypoints' (K, 3, camera frame) reprojection
    residuals against ``xy`` (K, 2) px, in units of ``scale_px``, weighted by ``weight`` (K,) and
    normalised by its sum; ``subset``: only these keypoints."""
    res = ((_project(kp, camera) - xy) / scale_px).pow(2).sum(-1)
    if subset is not None:
        res, weight = res[subset], weight[subset]
    return (weight * _gmof(res, sigma)).sum() / weight.sum().clamp(min=1e-6) / sigma**2


@dataclass(frozen=True)
class SilhouetteTargets:
    """The person's mask as the body fit reads it. pixels: (K, 2) px, a fixed sample of the mask's
    pixel centres; outside: (H, W) distance (in units of ``scale_px``) from each pixel to the mask or
    an occluder (where the body may be hidden), 0 on them; vertices: (P,) int64, the body vertices
    projected."""

    pixels: torch.Tensor
    outside: torch.Tensor
    vertices: torch.Tensor


def silhouette_targets(person: PersonDetection, camera: CameraIntrinsics, scale_px: float, config: BodyFitConfig,
                       num_vertices: int, occluders: np.ndarray | None = None,
                       device: str | torch.device = "cpu") -> SilhouetteTargets | None:  # fmt: skip
    """The silhouette term's data, or None without a person mask of the camera's size."""
    import cv2

    mask = None if person.mask is None else np.asarray(person.mask, bool)
    if mask is None or mask.shape != (camera.height, camera.width) or not mask.any() or config.w_silhouette <= 0:
        return None
    allowed = mask if occluders is None or np.shape(occluders) != mask.shape else mask | np.asarray(occluders, bool)
    outside = cv2.distanceTransform((~allowed).astype(np.uint8), cv2.DIST_L2, 5).astype(np.float32) / scale_px
    rng = np.random.default_rng(0)
    ys, xs = np.nonzero(mask)
    pick = rng.choice(len(xs), size=min(len(xs), config.silhouette_pixels), replace=False)
    verts = rng.choice(num_vertices, size=min(num_vertices, config.silhouette_vertices), replace=False)
    return SilhouetteTargets(
        pixels=torch.as_tensor(np.stack([xs[pick], ys[pick]], 1) + 0.5, dtype=torch.float32, device=device),
        outside=torch.as_tensor(outside, device=device),
        vertices=torch.as_tensor(np.sort(verts), dtype=torch.int64, device=device),
    )


def silhouette_loss(vertices: torch.Tensor, camera: CameraIntrinsics, sil: SilhouetteTargets, scale_px: float,
                    cover_weight: float = 1.0) -> torch.Tensor:  # fmt: skip
    """The body's 2D silhouette Chamfer against the person's mask, in units of ``scale_px``: the mean
    distance of the projected vertices outside the mask and the occluders (the body stays on the
    person's pixels) plus ``cover_weight`` times the mean distance from the mask's pixels to the
    nearest projected body vertex (the mask is covered). vertices: (V, 3) camera frame."""
    uv = _project(vertices[sil.vertices], camera)
    inside = sample_image(sil.outside, uv).mean()
    if cover_weight <= 0:
        return inside
    return cover_weight * nearest_distances(sil.pixels[None], uv[None], back=False)[0].mean() / scale_px + inside


def _annealed_sigma(config: BodyFitConfig, step: int, steps: int) -> float:
    """The robust scale at ``step`` of the full phase: from ``robust_sigma_start`` down to
    ``robust_sigma`` (geometrically) over its first ``anneal_fraction`` of ``steps``, then constant."""
    start = config.robust_sigma_start
    n = max(1, int(config.anneal_fraction * steps))
    if start is None or start <= config.robust_sigma or step >= n:
        return config.robust_sigma
    return float(start * (config.robust_sigma / start) ** (step / n))


def fit_body(
    model: BodyModel,
    person: PersonDetection,
    camera: CameraIntrinsics,
    config: BodyFitConfig = BodyFitConfig(),
    targets: KeypointTargets | None = None,
    gravity: GravityPrior | None = None,
    occluders: np.ndarray | None = None,
) -> BodyFit:
    """Fit ``model`` to the person's landmarks and mask. Returns the body in the camera frame.

    ``occluders``: (H, W) bool, pixels where the body may be hidden (the object's mask): projected body
    vertices there are not outside the person's silhouette.

    With ``gravity`` this is the gravity phase instead: it continues from ``gravity.init`` for
    ``gravity.steps`` steps of every loss of the fit plus ``torso_up`` (the torso's tilt from gravity's
    up, ``w_torso * (1 - cos) / (1 - cos(torso_deg))``) and ``unseen_limbs`` (each leg or arm the photo
    does not show turns toward its posture template, ``w_limbs * (1 - cos)`` per segment, in the body's
    gravity frame): standing legs under a standing torso, hanging arms, instead of drifting."""
    import roma

    dev = model.device
    tg = targets if targets is not None else targets_from_person(person)
    xy = torch.as_tensor(tg.xy, device=dev)
    w = torch.as_tensor(tg.weight, device=dev)
    idx = {n: i for i, n in enumerate(KEYPOINT_NAMES)}
    torso = torch.tensor([idx[n] for n in _TORSO], device=dev)
    seg_a = torch.tensor([idx[a] for a, _ in _SEGMENTS], device=dev)
    seg_b = torch.tensor([idx[b] for _, b in _SEGMENTS], device=dev)
    dirs = torch.as_tensor(tg.dirs, device=dev) if tg.dirs is not None else None
    dw = torch.as_tensor(tg.dir_weight, device=dev)

    pose = torch.zeros(1, len(model.pose_joints), 3, device=dev)
    shape = model.default_shape()[None].clone()
    with torch.no_grad():
        rest_out = model.forward(pose, shape)
    rest = rest_out.keypoints[0]
    sil = silhouette_targets(person, camera, tg.scale_px, config, rest_out.vertices.shape[1], occluders, dev)
    R0 = torch.as_tensor(_initial_rotation(person), dtype=torch.float32, device=dev)
    # Depth from the least foreshortened torso segment: z = f * length_3d / length_px.
    pairs = [("left_shoulder", "right_shoulder"), ("left_hip", "left_shoulder"), ("right_hip", "right_shoulder"),
             ("left_hip", "left_knee"), ("right_hip", "right_knee")]  # fmt: skip
    depths = []
    for a, b in pairs:
        if tg.weight[idx[a]] > 0 and tg.weight[idx[b]] > 0:
            px = float(np.linalg.norm(tg.xy[idx[a]] - tg.xy[idx[b]]))
            m3 = float((rest[idx[a]] - rest[idx[b]]).norm())
            if px > 2:
                depths.append(camera.fx * m3 / px)
    z0 = min(depths) if depths else camera.fx * 1.7 / max(person.box.height, 1.0)
    hip_px = tg.xy[[idx["left_hip"], idx["right_hip"]]].mean(0)
    if tg.weight[idx["left_hip"]] <= 0 and tg.weight[idx["right_hip"]] <= 0:
        hip_px = np.array(person.box.center)
    hip_cam = np.array([(hip_px[0] - camera.cx) / camera.fx * z0, (hip_px[1] - camera.cy) / camera.fy * z0, z0])
    hip_model = (R0 @ rest[[idx["left_hip"], idx["right_hip"]]].mean(0)).cpu().numpy()
    transl = torch.tensor(hip_cam - hip_model, dtype=torch.float32, device=dev)

    orient = roma.rotmat_to_rotvec(R0)[None].clone().requires_grad_(True)
    transl = transl[None].clone().requires_grad_(True)
    pose.requires_grad_(True)
    shape.requires_grad_(True)
    sigma = config.robust_sigma
    if gravity is not None:
        st = gravity.init
        with torch.no_grad():
            orient.copy_(torch.as_tensor(st.orient, device=dev)[None])
            transl.copy_(torch.as_tensor(st.transl, device=dev)[None])
            pose.copy_(torch.as_tensor(st.pose, device=dev)[None])
            shape.copy_(torch.as_tensor(st.shape, device=dev)[None])
        g_up = torch.as_tensor(np.asarray(gravity.up), dtype=torch.float32, device=dev)
        chain = {"leg": ("hip", "knee", "ankle"), "arm": ("shoulder", "elbow", "wrist")}
        leg_terms = []
        for limb, (d1, d2) in sorted(gravity.limbs.items()):
            side, kind = limb.split("_")
            leg_terms.append((*(idx[f"{side}_{j}"] for j in chain[kind]), torch.as_tensor(d1, dtype=torch.float32, device=dev),
                              torch.as_tensor(d2, dtype=torch.float32, device=dev)))  # fmt: skip
        torso_norm = None if gravity.torso_deg is None else 1.0 - math.cos(math.radians(gravity.torso_deg))

    def gravity_terms(kp: torch.Tensor, R: torch.Tensor) -> dict[str, torch.Tensor]:
        out = {}
        if torso_norm is not None:
            sh = 0.5 * (kp[idx["left_shoulder"]] + kp[idx["right_shoulder"]])
            hp = 0.5 * (kp[idx["left_hip"]] + kp[idx["right_hip"]])
            d = sh - hp
            out["torso_up"] = gravity.w_torso * (1 - (d @ g_up) / d.norm().clamp(min=1e-6)) / torso_norm
        if leg_terms:
            # the templates' frame: gravity's down, the body's back made horizontal, and its left
            down = -g_up
            back = R[:, 2].detach() - (R[:, 2].detach() @ down) * down
            back = back / back.norm().clamp(min=1e-6)
            G = torch.stack([torch.linalg.cross(down, back), down, back], 1)
            total = kp.new_zeros(())
            for h, k, a, th, shn in leg_terms:
                for p, q, tmpl in ((h, k, th), (k, a, shn)):
                    d = kp[q] - kp[p]
                    total = total + (1 - (d @ (G @ tmpl)) / d.norm().clamp(min=1e-6))
            out["unseen_limbs"] = gravity.w_limbs * total
        return out

    def losses(use_all: bool, sigma: float = sigma) -> dict[str, torch.Tensor]:
        out = model.forward(pose, shape)
        R = roma.rotvec_to_rotmat(orient)
        kp = out.keypoints @ R.transpose(-1, -2) + transl[:, None]
        reproj = reprojection_loss(kp[0], camera, xy, w, tg.scale_px, sigma, None if use_all else torso)
        terms = {"reproj": config.w_reproj * reproj}
        if sil is not None and use_all:
            V = out.vertices[0] @ R[0].T + transl[0]
            terms["silhouette"] = config.w_silhouette * silhouette_loss(V, camera, sil, tg.scale_px, config.silhouette_cover)
        if dirs is not None:
            d = kp[0, seg_b] - kp[0, seg_a]
            d = d / d.norm(dim=-1, keepdim=True).clamp(min=1e-6)
            cos = (d * dirs).sum(-1)
            terms["dir3d"] = config.w_dir3d * (dw * (1 - cos)).sum()
        if use_all:
            terms["pose"] = config.w_pose * pose.pow(2).sum()
            if hasattr(model, "pose_penalty"):
                terms["angle_limits"] = config.w_angle * model.pose_penalty(pose).sum()
            terms["shape"] = config.w_shape * model.shape_penalty(shape).sum()
            terms["limb_penetration"] = config.w_limb * limb_penetration(kp[0]).sum()
            if gravity is not None:
                terms.update(gravity_terms(kp[0], R[0]))
        return terms

    if gravity is None:
        opt = torch.optim.Adam([orient, transl], lr=config.lr)
        for _ in range(config.steps_global):
            opt.zero_grad()
            sum(losses(False).values()).backward()
            opt.step()
    opt = torch.optim.Adam([orient, transl, pose, shape], lr=config.lr if gravity is None else gravity.lr)
    steps = config.steps_full if gravity is None else gravity.steps
    for i in range(steps):
        opt.zero_grad()
        sum(losses(True, _annealed_sigma(config, i, steps) if gravity is None else sigma).values()).backward()
        opt.step()

    with torch.no_grad():
        out = model.forward(pose, shape)
        R = roma.rotvec_to_rotmat(orient)[0]
        verts = out.vertices[0] @ R.T + transl[0]
        kp = out.keypoints[0] @ R.T + transl[0]
        err = (_project(kp, camera) - xy).norm(dim=-1)
        vis = w > 0
        mean_err = float(err[vis].mean()) if bool(vis.any()) else float("nan")
        final = {k: round(float(v), 6) for k, v in losses(True).items()}
    part_of_vertex, part_names = model.part_segmentation()
    params = model.export_params(pose, shape, orient.detach()[0].cpu().numpy(), transl.detach()[0].cpu().numpy())
    params["fit_losses"] = final
    return BodyFit(
        model_name=model.name,
        vertices=verts.cpu().numpy().astype(np.float32),
        faces=model.faces,
        keypoints3d=kp.cpu().numpy().astype(np.float32),
        keypoint_names=KEYPOINT_NAMES,
        part_of_vertex=part_of_vertex,
        part_names=part_names,
        params=params,
        reprojection_error_px=mean_err,
        state=BodyState(
            pose=pose.detach()[0].cpu().numpy().astype(np.float32),
            shape=shape.detach()[0].cpu().numpy().astype(np.float32),
            orient=orient.detach()[0].cpu().numpy().astype(np.float32),
            transl=transl.detach()[0].cpu().numpy().astype(np.float32),
        ),
        regions=body_regions(model),
    )
