"""Contact-limb refinement: the last phase of the joint fit.

With the object placed, only the limbs in contact that do not reach the object yet (contact distance
above ``reach_tol``; the joint chain from the torso out to that body part, ``limb_joints`` in
``data/body_parts.json``) and the person's translation move, so that hands actually reach the handle
and feet the deck. When every contact part already touches, nothing moves. Losses:

* ``contact``: the same surface-to-surface attraction as the object fit, now moving the body;
* ``reproj``: the robust 2D landmark term of the body fit, so the limbs stay on the person's pixels;
* ``object_penetration``: body points inside the object (the object's signed-distance grid), metres;
* ``body_penetration``: the object's points near the moving parts inside the body (behind the tangent
  planes of their nearest moving vertices, :func:`hoirecon.fitting.terms.surface_penetration`), metres: a
  foot pulled through a thin deck is outside the deck again, but the deck is inside the foot;
* ``pose`` / ``transl``: stay near the body fit (radians squared; a 15 cm scale for the translation,
  whose depth the body fit knows least).

The contact term pulls the closest 30 % of a part-level contact's body points (``LimbConfig.keep_fraction``;
the object fit pulls 5 %, so that the silhouette places the object), so that a limb touches with a
surface, a sole flat on the deck, and not with a point.

Each loss is a function of :mod:`hoirecon.fitting.terms` (``reproj``: the body fit's
:func:`hoirecon.body.fit.reprojection_loss`); the weights are ``FitConfig.weights.limbs``
(:class:`~hoirecon.fitting.weights.LimbWeights`), the schedule ``FitConfig.limbs`` (:class:`LimbConfig`).
Needs the body model and the model inputs behind the body (``BodyFit.state``).
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache
from importlib import resources

import numpy as np
import torch

from hoirecon.body.fit import reprojection_loss, targets_from_person
from hoirecon.fitting import terms as T
from hoirecon.fitting.config import LimbConfig
from hoirecon.fitting.problem import contact_pairs, subsample
from hoirecon.fitting.weights import LimbWeights
from hoirecon.geometry.mesh import sample_surface, signed_volume
from hoirecon.geometry.sdf import body_sdf_grid
from hoirecon.geometry.torchops import vertex_normals
from hoirecon.types import BodyFit, CameraIntrinsics, ContactSet, PersonDetection

__all__ = ["LimbConfig", "free_joints", "limb_joints", "object_points_near", "object_sdf_spacing", "refine_contact_limbs"]


@lru_cache(maxsize=1)
def limb_joints() -> dict[str, dict[str, list[str]]]:
    data = json.loads(resources.files("hoirecon.data").joinpath("body_parts.json").read_text())["limb_joints"]
    return {k: v for k, v in data.items() if not k.startswith("_")}


def free_joints(model_name: str, pose_joints: tuple[str, ...], parts: list[str]) -> list[int]:
    """Indices into ``pose_joints`` that the refinement may turn for these contact body parts."""
    table = limb_joints().get(model_name, {})
    names = {j for p in parts for j in table.get(p, [])}
    return [i for i, j in enumerate(pose_joints) if j in names]


def object_sdf_spacing(vertices: np.ndarray, margin: float = 0.05, cells: float = 1e5) -> float:
    """The object's signed-distance grid spacing, metres: about ``cells`` cells over its box (plus
    ``margin`` on each side), between 7 mm and 1/40 of its longest side (at least 1 cm), so that a thin
    part (a 1.5 cm skateboard deck, a table top) has cells inside it and a foot sunk into it is seen."""
    size = vertices.max(0) - vertices.min(0)
    even = float(np.prod(size + 2 * margin) / cells) ** (1 / 3)
    return float(np.clip(even, 0.007, max(0.01, float(size.max()) / 40)))


def object_points_near(vertices: np.ndarray, faces: np.ndarray, body_points: np.ndarray, n: int, within: float,
                       rng: np.random.Generator) -> np.ndarray:  # fmt: skip
    """The object's vertices and ``n`` area samples of its surface that lie within ``within`` metres of
    some of ``body_points`` (B, 3): (K, 3) float32, the object points that a limb moving from there could
    enter."""
    from scipy.spatial import cKDTree

    pts = np.concatenate([np.asarray(vertices, np.float64), sample_surface(vertices, faces, n, rng)[0]])
    if not len(body_points):
        return np.zeros((0, 3), np.float32)
    d, _ = cKDTree(np.asarray(body_points, np.float64)).query(pts, distance_upper_bound=within)
    return pts[np.isfinite(d)].astype(np.float32)


_DETERMINISTIC_LOCK = threading.Lock()
_DETERMINISTIC_USERS: list = [0, None]  # limb phases inside the block now; the setting before the first


@contextmanager
def _deterministic():
    """Torch's deterministic algorithms while the limb phase runs: the object-into-body term gathers the
    body's vertices and normals with repeated indices, and the CPU's parallel accumulation of their
    gradients sums in no fixed order, so the same photo re-posed differently from run to run (1 to 2 cm
    on a synthetic cup). ``warn_only``: an op without a deterministic version warns, it does not fail.
    The setting is the process's, and fits may run side by side in threads
    (``hoirecon.pipeline.fit_pool``): the first limb phase in turns it on, the last one out puts back
    what was there before, so no phase loses it halfway through another's."""
    with _DETERMINISTIC_LOCK:
        if _DETERMINISTIC_USERS[0] == 0:
            _DETERMINISTIC_USERS[1] = (torch.are_deterministic_algorithms_enabled(),
                                       torch.is_deterministic_algorithms_warn_only_enabled())  # fmt: skip
            torch.use_deterministic_algorithms(True, warn_only=True)
        _DETERMINISTIC_USERS[0] += 1
    try:
        yield
    finally:
        with _DETERMINISTIC_LOCK:
            _DETERMINISTIC_USERS[0] -= 1
            if _DETERMINISTIC_USERS[0] == 0:
                was, warn = _DETERMINISTIC_USERS[1]
                torch.use_deterministic_algorithms(was, warn_only=warn)


def refine_contact_limbs(
    model,
    body: BodyFit,
    object_vertices: np.ndarray,
    object_faces: np.ndarray,
    contacts: ContactSet,
    person: PersonDetection,
    camera: CameraIntrinsics,
    keep_fraction: float,
    config: LimbConfig = LimbConfig(),
    keep_back: float | None = None,
    *,
    weights: LimbWeights = LimbWeights(),
) -> tuple[BodyFit, np.ndarray, dict[str, float]]:
    """Re-pose the contact limbs and shift the person against the fixed object (see the module
    docstring). object_vertices: (Vo, 3) metres, camera frame. The contact term is the object fit's:
    the closest ``keep_fraction`` of each body part's points to area samples of the object region, plus
    the closest ``keep_back`` (default: ``keep_fraction``; 0: none) of the object region's vertices to
    the body part. ``weights``: the terms' weights. Returns the new body, the translation added (3,)
    metres, and the final weighted loss terms."""
    import roma

    st = body.state
    if st is None or config.steps <= 0:
        return body, np.zeros(3, np.float32), {}
    dev = model.device
    rng = np.random.default_rng(0)
    f = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32, device=dev)  # noqa: E731
    O, V0 = f(object_vertices), f(body.vertices)
    keep_back = keep_fraction if keep_back is None else keep_back

    pairs, parts = [], set()
    found = contact_pairs(contacts, object_vertices, object_faces, config.max_contact_points,
                          config.max_contact_points, rng, rng)  # fmt: skip
    for k, h, o, S in found:
        h_idx, Sp, Op = torch.as_tensor(h, device=dev), f(S), O[torch.as_tensor(o, device=dev)]
        pairs.append((h_idx, Sp, Op))
        with torch.no_grad():
            gap = T.pair_contact(V0[h_idx][None], Sp[None], Op[None], keep_fraction, keep_back)[0] / (2 if keep_back > 0 else 1)  # mean over directions
        if float(gap) > config.reach_tol:  # this part does not reach the object yet: its limb may move
            parts.add(contacts.pairs[k][0])
    if not pairs or not parts:
        return body, np.zeros(3, np.float32), {"limb_joints_free": 0.0}
    parts = sorted(parts)
    free = free_joints(model.name, tuple(model.pose_joints), parts)
    mask = torch.zeros(len(model.pose_joints), 1, device=dev)
    mask[free] = 1.0
    # Body points that may enter the object: the contact parts and every part a freed joint turns.
    table, freed = limb_joints().get(model.name, {}), {model.pose_joints[i] for i in free}
    turned = set(parts) | {p for p, chain in table.items() if freed & set(chain)}
    moving = np.isin(body.part_of_vertex, [i for i, n in enumerate(body.part_names) if n in turned])
    probe = torch.as_tensor(subsample(np.flatnonzero(moving), config.max_body_points, rng), device=dev)
    obj_sdf = body_sdf_grid(object_vertices, object_faces, spacing=object_sdf_spacing(object_vertices), margin=0.05,
                            device=dev)  # fmt: skip
    # The other way round: object surface points (within 10 cm of the moving parts as they start) must
    # stay out of them.
    faces = torch.as_tensor(np.asarray(body.faces, np.int64), device=dev)
    outward = 1.0 if signed_volume(body.vertices, body.faces) >= 0 else -1.0  # whatever the mesh's winding
    moving_idx = torch.as_tensor(np.flatnonzero(moving), device=dev)
    near = object_points_near(object_vertices, object_faces, body.vertices[moving], config.object_samples,
                              0.1, rng)  # fmt: skip
    near = f(near) if len(near) else None

    tg = targets_from_person(person)
    xy, w = f(tg.xy), f(tg.weight)
    pose0, shape = f(st.pose)[None], f(st.shape)[None]
    R = roma.rotvec_to_rotmat(f(st.orient))
    t0 = f(st.transl)
    dpose = torch.zeros_like(pose0, requires_grad=True)
    dt = torch.zeros(3, device=dev, requires_grad=True)

    def terms() -> dict[str, torch.Tensor]:
        out = model.forward(pose0 + mask * dpose, shape)
        V = out.vertices[0] @ R.T + t0 + dt
        kp = out.keypoints[0] @ R.T + t0 + dt
        # the mean over pairs, then weighted (the object fit weighs the sum before taking the mean)
        contact = T.contact(((V[h_idx][None], Sp[None], Op[None]) for h_idx, Sp, Op in pairs), keep_fraction, keep_back)
        return {
            "contact": weights.contact * contact[0],
            "reproj": weights.reproj * reprojection_loss(kp, camera, xy, w, tg.scale_px, config.robust_sigma),
            "object_penetration": T.penetration(obj_sdf, V[probe], weight=weights.object_penetration,
                                                 deep_fraction=config.penetration_deep_fraction),
            "body_penetration": V.new_zeros(()) if near is None else T.surface_penetration(
                near, V[moving_idx], outward * vertex_normals(V, faces)[moving_idx], config.body_penetration_radius,
                weight=weights.body_penetration, deep_fraction=config.penetration_deep_fraction),
            "pose": T.gaussian_prior(dpose, weight=weights.pose, total=True),
            "transl": T.gaussian_prior(dt, config.transl_sigma, weight=weights.transl, total=True),
        }

    opt = torch.optim.Adam([{"params": [dpose], "lr": config.lr_pose}, {"params": [dt], "lr": config.lr_transl}])
    with _deterministic():
        for _ in range(config.steps):
            opt.zero_grad()
            sum(terms().values()).backward()
            opt.step()
    with torch.no_grad():
        final = {f"limb_{k}": float(v) for k, v in terms().items()}
        pose = pose0 + mask * dpose
        out = model.forward(pose, shape)
        V = (out.vertices[0] @ R.T + t0 + dt).cpu().numpy().astype(np.float32)
        kp = (out.keypoints[0] @ R.T + t0 + dt).cpu().numpy().astype(np.float32)
        err = np.linalg.norm(camera.project(kp.astype(np.float64)) - tg.xy, axis=-1)
    transl = (t0 + dt).detach().cpu().numpy().astype(np.float32)
    params = model.export_params(pose[0].detach(), shape[0], st.orient, transl)
    if "fit_losses" in body.params:
        params["fit_losses"] = body.params["fit_losses"]
    vis = tg.weight > 0
    new = replace(
        body, vertices=V, keypoints3d=kp, params=params,
        reprojection_error_px=float(err[vis].mean()) if vis.any() else float("nan"),
        state=replace(st, pose=pose[0].cpu().numpy().astype(np.float32), transl=transl),
    )  # fmt: skip
    final["limb_joints_free"] = float(len(free))
    return new, dt.detach().cpu().numpy().astype(np.float32), final

