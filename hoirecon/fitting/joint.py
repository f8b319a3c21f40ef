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
* ``occluder``: its converse: where the object is seen over the body (object-only pixels the body
  projects to), the closest 20 % of the object points there must lie in front of the body (a ball at
  the forehead, not behind the head), weighed by the share of the object's points there;
* ``penetration``: object points inside the body (negative body SDF), metres;
* ``scale``: Gaussian prior on log-scale; ``upright``: the object's up stays up (upright categories),
  gravity's up given a :class:`hoirecon.ground.GroundPrior`, else the camera's -y;
  ``body_shift``: prior on the body's depth change;
* ``facing``, given an interaction mode's ``facing`` (``contacts.json``): the object's front (canonical
  -z) turns about gravity the way the body faces (a chair sat on, a bicycle ridden) or back at it (a
  laptop's screen on the lap): ``1 - cos`` of the angle between them (:func:`hoirecon.fitting.terms.facing`);
* with a ground prior that has supports, one more unknown per hypothesis, the floor's height along
  gravity's up: ``floor`` holds the supports to it (the lowest foot, a resting object's lowest points;
  :func:`hoirecon.fitting.terms.floor_support`), ``floor_penetration`` keeps the object's points (and
  the body's, when it stands on the floor) above it, metres (:mod:`hoirecon.ground.floor`).

Several starting rotations run in one batch on point subsets; the best few are refined on all the
points, the best of those wins. Given the body model, a last phase re-poses the limbs in contact
(:mod:`hoirecon.fitting.limbs`).

The image's data is a :class:`~hoirecon.fitting.problem.FitProblem`, each loss a function of
:mod:`hoirecon.fitting.terms` (:func:`object_fit_terms` composes them), the weights
``FitConfig.weights.object`` (:class:`~hoirecon.fitting.weights.ObjectFitWeights`).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import torch

from hoirecon.fitting import terms as T
from hoirecon.fitting.config import FitConfig
from hoirecon.fitting.limbs import refine_contact_limbs
from hoirecon.fitting.problem import FitPoints, FitProblem, Placement, build_problem, diagnostics, mask_centroid_at
from hoirecon.fitting.weights import ObjectFitWeights
from hoirecon.geometry.rotations import cube_rotations, matrix_to_rot6d, rot6d_to_matrix, rot_y
from hoirecon.types import (
    BodyFit,
    CameraIntrinsics,
    ContactSet,
    FitResult,
    ObjectDetection,
    ObjectFit,
    ObjectMesh,
    PersonDetection,
)

__all__ = ["FitConfig", "fit_object", "initial_rotations", "object_fit_terms"]


def object_fit_terms(pb: FitProblem, rot6d: torch.Tensor, t: torch.Tensor, log_s: torch.Tensor, delta: torch.Tensor,
                     weights: ObjectFitWeights, body_shift_sigma: float, coarse: bool = False,
                     floor_h: torch.Tensor | None = None) -> dict[str, torch.Tensor]:  # fmt: skip
    """The object fit's weighted loss terms, each (N,), for N hypotheses: rot6d (N, 6), t (N, 3) metres,
    log_s (N,), delta (N,) (the body's depth change, a fraction of its centroid's), floor_h (N,) the
    floor's height along gravity's up (metres; with ``pb.floor``). ``coarse``: on the search phase's
    point subsets. Keys: contact, sil_cover, sil_inside, depth, occluder, penetration, scale, body_shift, upright
    for upright objects (about gravity's up), facing with a facing prior (``pb.facing``), floor and
    floor_penetration with a floor."""
    pts: FitPoints = pb.points(coarse)
    pl = Placement.of(rot6d, t, log_s, delta, pb.body_centroid)
    X, shift = pb.object_vertices, pl.body_shift
    out = {}
    out["contact"] = T.contact(
        ((pb.body_vertices[h_idx][None] + shift[:, None], pl.object_points(S), pl.object_points(X[o_idx]))
         for (h_idx, o_idx), S in zip(pts.pairs, pts.pair_surface)),
        pb.keep_fraction, pb.keep_fraction_back, weight=weights.contact_for(pb.precise),
    )  # fmt: skip
    P = pl.object_points(pts.surface)
    uv = pb.project(P)
    out["sil_cover"] = T.sil_cover(pb, uv, pts.mask_pts, weight=weights.sil_cover)
    out["sil_inside"] = T.sil_inside(pb, uv, weight=weights.sil_inside)
    out["depth"] = T.depth_order(pb, P, uv, delta, weight=weights.depth)
    out["occluder"] = T.occluder(pb, P, uv, delta, weight=weights.occluder)
    out["penetration"] = T.penetration(pb.body_sdf, P - shift[:, None], weight=weights.penetration,
                                       deep_fraction=pb.deep_fraction)
    out["scale"] = T.gaussian_prior(log_s, pb.scale_sigma, weight=weights.scale)
    out["body_shift"] = T.gaussian_prior(delta, body_shift_sigma, weight=weights.body_shift)
    if pb.upright:
        out["upright"] = T.upright(pl.rotation, pb.up, weight=weights.upright)
    if pb.facing is not None:
        out["facing"] = T.facing(pl.rotation, pb.facing, pb.up, weight=weights.facing)
    fl = pb.floor
    if fl is not None and floor_h is not None:
        up = pb.up
        floor = torch.zeros_like(floor_h)
        if fl.body_supports:  # the lowest foot stands on the floor, unless far from it (a jump)
            lowest = torch.stack([((S[None] + shift[:, None]) @ up).min(1).values for S in fl.soles], 1).min(1).values
            floor = floor + T.floor_support(lowest[:, None], floor_h, fl.robust_m, redescending=True,
                                            weight=weights.floor)  # fmt: skip
        lows = pl.object_points(fl.object_support) @ up if fl.object_supports else None  # (N, S) heights
        if fl.object_supports:  # all of the object's lowest points (four leg tips) on the floor
            floor = floor + T.floor_support(lows, floor_h, fl.robust_m,
                                            redescending=not fl.object_always,
                                            weight=weights.floor if fl.object_always else weights.floor_maybe)  # fmt: skip
        out["floor"] = floor
        below = torch.cat([P @ up, (fl.body_probe[None] + shift[:, None]) @ up], 1)
        out["floor_penetration"] = T.floor_penetration(below, floor_h, weight=weights.floor_penetration)
        if fl.object_supports:  # the object's lowest points on their own: a few among many would not count
            out["floor_penetration"] = out["floor_penetration"] + T.floor_penetration(
                lows, floor_h, weight=weights.floor_penetration)
    return out


def initial_rotations(upright: bool, yaw_starts: int, up: np.ndarray | None = None) -> np.ndarray:
    """Starting rotations (canonical object -> camera frame): for upright objects ``yaw_starts`` turns
    about the vertical (gravity's ``up``, camera frame; None: the camera's -y), else the 24 rotations of
    the cube."""
    if upright:
        turns = np.stack([rot_y(2 * math.pi * k / yaw_starts) for k in range(yaw_starts)])
        return turns if up is None else np.einsum("ij,njk->nik", align_down(up), turns)
    return cube_rotations()


def align_down(up: np.ndarray) -> np.ndarray:
    """The smallest rotation taking the camera's down (+y) to gravity's down (-``up``)."""
    a = np.array([0.0, 1.0, 0.0])
    b = -np.asarray(up, np.float64) / np.linalg.norm(up)
    v, c = np.cross(a, b), float(a @ b)
    if c < -0.999999:
        return np.diag([1.0, -1.0, -1.0])
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1.0 + c)


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
    ground=None,
    facing: str | None = None,
) -> FitResult:
    """Fit the object (and the person's depth) jointly; see the module docstring. With ``body_model``
    (the model behind ``body.state``) a last phase re-poses the limbs in contact
    (:mod:`hoirecon.fitting.limbs`). With ``ground`` (a :class:`hoirecon.ground.GroundPrior`) the
    upright prior holds about gravity and the supports share a floor whose height is fitted too
    (``FitResult.floor``). With ``facing`` (an interaction mode's: ``"same"``, ``"toward"``;
    :func:`hoirecon.contact.modes.mode_pose`) the object's front turns, about gravity, the way the body
    faces or back at it (:func:`hoirecon.fitting.terms.facing`)."""
    torch.manual_seed(config.seed)
    pb = build_problem(body, mesh, contacts, obj_det, person_det, camera, scale_sigma, upright, config, device, ground,
                       facing)  # fmt: skip
    dev = pb.device
    X = pb.object_vertices
    up_np = None if ground is None else np.asarray(ground.up, np.float64)
    Rs = torch.as_tensor(initial_rotations(upright, config.yaw_starts, up_np), dtype=torch.float32, device=dev)
    # Starts: each rotation placed so that the object's contact points sit on the body's contact points
    # and, per ``mask_start_depths``, with its centre on the mask's centroid ray in front of and behind
    # the contacts: a large object centred on the hands (a table) would otherwise have to pass through
    # the body to reach its side of it.
    h_all = torch.cat([h for h, _ in pb.pairs])
    o_all = torch.cat([o for _, o in pb.pairs])
    target = pb.body_vertices[h_all].mean(0)
    starts = [target - X[o_all].mean(0) @ Rs.transpose(1, 2)]
    extent = float((X.max(0).values - X.min(0).values).max())
    for k in config.mask_start_depths:
        centre = mask_centroid_at(obj_det, camera, max(0.1, float(target[2]) + k * extent), dev)
        starts.append(centre - X.mean(0) @ Rs.transpose(1, 2))
    t0 = torch.cat(starts)
    Rs = Rs.repeat(len(starts), 1, 1)
    N = len(Rs)
    rot6d = matrix_to_rot6d(Rs).clone().requires_grad_(True)
    t = t0.clone().requires_grad_(True)
    log_s = torch.zeros(N, device=dev, requires_grad=True)
    delta = torch.zeros(N, device=dev, requires_grad=True)
    fh = None  # the floor's height along gravity's up, per hypothesis
    if pb.floor is not None:
        with torch.no_grad():
            if pb.floor.body_supports:
                h0 = torch.stack([(S @ pb.up).min() for S in pb.floor.soles]).min().expand(N)
            else:
                h0 = ((pb.floor.object_support @ Rs.transpose(1, 2) + t0[:, None]) @ pb.up).min(1).values
        fh = h0.clone().requires_grad_(True)
    weights = config.weights.object

    def losses_of(rot6d, t, log_s, delta, fh, coarse=False):
        return object_fit_terms(pb, rot6d, t, log_s, delta, weights, config.body_shift_sigma, coarse, fh)

    def run(params, steps, coarse=False):
        opt = torch.optim.Adam([p for p in params if p is not None], lr=config.lr)
        for _ in range(steps):
            opt.zero_grad()
            total = sum(losses_of(*params, coarse).values())
            total.sum().backward()
            opt.step()

    def pick(params, idx):
        return tuple(None if p is None else p.detach()[idx].clone() for p in params)

    params = (rot6d, t, log_s, delta, fh)
    run(params, config.steps_search, coarse=True)
    with torch.no_grad():
        totals = sum(losses_of(*params).values())
        top = torch.argsort(totals)[: config.refine_top]
    params = tuple(None if p is None else p.requires_grad_(True) for p in pick(params, top))
    run(params, config.steps_refine)
    with torch.no_grad():
        k = int(torch.argmin(sum(losses_of(*params).values())))
        best = int(top[k])
    rot6d, t, log_s, delta, fh = pick(params, slice(k, k + 1))

    with torch.no_grad():
        terms = losses_of(rot6d, t, log_s, delta, fh)
        R = rot6d_to_matrix(rot6d)[0]
        s = float(log_s.exp()[0])
        shift = (delta[0] * pb.body_centroid).cpu().numpy().astype(np.float32)
        verts = (s * X @ R.T + t[0]).cpu().numpy().astype(np.float32)
    losses = {k: float(v[0]) for k, v in terms.items()}
    losses["total"] = float(sum(losses.values()))
    losses["start_index"] = best
    st = body.state
    body_moved = replace(
        body,
        vertices=(body.vertices + shift).astype(np.float32),
        keypoints3d=(body.keypoints3d + shift).astype(np.float32),
        params={**body.params, "transl": (np.asarray(body.params.get("transl", [0, 0, 0])) + shift).round(6).tolist()},
        state=None if st is None else replace(st, transl=(st.transl + shift).astype(np.float32)),
    )
    if body_model is not None and body.state is not None and config.limbs.steps > 0:
        body_moved, extra, limb_losses = refine_contact_limbs(
            body_model, body_moved, verts, mesh.faces, contacts, person_det, camera,
            pb.keep_fraction if pb.precise or config.limbs.keep_fraction is None else config.limbs.keep_fraction,
            config.limbs,
            pb.keep_fraction_back, weights=config.weights.limbs,
        )  # fmt: skip
        shift = (shift + extra).astype(np.float32)
        losses.update(limb_losses)
    losses.update(diagnostics(body_moved, contacts, verts, np.zeros(3, np.float32), mesh, pb))
    floor = None
    if pb.floor is not None:
        floor = _floor_of(ground, float(fh[0]), body, body_moved, mesh, verts, camera)
    fit = ObjectFit(
        mesh=mesh,
        rotation=R.cpu().numpy().astype(np.float32),
        translation=t[0].detach().cpu().numpy().astype(np.float32),
        scale=s,
        vertices=verts,
    )
    return FitResult(body=body_moved, object=fit, losses=losses, body_translation=shift, floor=floor)


def _floor_of(ground, height: float, body: BodyFit, body_moved: BodyFit, mesh: ObjectMesh, verts: np.ndarray,
              camera: CameraIntrinsics):  # fmt: skip
    """The fitted floor's record (:func:`hoirecon.ground.floor.floor_record`)."""
    from hoirecon.ground.floor import floor_record, sole_vertices, support_vertices

    soles = sole_vertices(body.vertices, body.part_of_vertex, body.part_names, ground.up, ground.config.sole_band_m)
    support = support_vertices(mesh.vertices) if ground.object_support != "none" else None
    in_view = False
    if support is not None and len(support):
        uv = camera.project(verts[support].astype(np.float64))
        in_view = bool(((uv >= 0) & (uv <= [camera.width, camera.height])).all())
    return floor_record(ground, height, body_moved.vertices, soles if ground.body_support != "none" else [],
                        verts, support, in_view)  # fmt: skip
