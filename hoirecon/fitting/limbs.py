"""Contact-limb refinement: the last phase of the joint fit.

With the object placed, only the limbs in contact that do not reach the object yet (contact distance
above ``reach_tol``; the joint chain from the torso out to that body part, ``limb_joints`` in
``data/body_parts.json``) and the person's translation move, so that hands actually reach the handle
and feet the deck. When every contact part already touches, nothing moves. Losses:

* ``contact``: the same surface-to-surface attraction as the object fit, now moving the body;
* ``reproj``: the robust 2D landmark term of the body fit, so the limbs stay on the person's pixels;
* ``object_penetration``: body points inside the object (the object's signed-distance grid), metres;
* ``pose`` / ``transl``: stay near the body fit (radians squared; a 5 cm scale for the translation).

Needs the body model and the model inputs behind the body (``BodyFit.state``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import torch

from hoirecon.types import BodyFit, BodyState, CameraIntrinsics, ContactSet, PersonDetection


@dataclass(frozen=True)
class LimbConfig:
    """Schedule and weights of the contact-limb phase (recorded in the resolved config)."""

    steps: int = 40
    lr_pose: float = 0.01
    lr_transl: float = 0.003
    w_contact: float = 30.0
    w_reproj: float = 1.0
    w_penetration: float = 100.0
    w_pose: float = 2.0
    w_transl: float = 1.0
    transl_sigma: float = 0.05
    max_contact_points: int = 300
    max_body_points: int = 1500
    reach_tol: float = 0.02  # metres: only pairs whose contact distance after the object fit exceeds this move
    robust_sigma: float = 0.05  # 2D landmark residual scale, in person-box diagonals (as the body fit)


@lru_cache(maxsize=1)
def limb_joints() -> dict[str, dict[str, list[str]]]:
    data = json.loads(resources.files("hoirecon.data").joinpath("body_parts.json").read_text())["limb_joints"]
    return {k: v for k, v in data.items() if not k.startswith("_")}


def free_joints(model_name: str, pose_joints: tuple[str, ...], parts: list[str]) -> list[int]:
    """Indices into ``pose_joints`` that the refinement may turn for these contact body parts."""
    table = limb_joints().get(model_name, {})
    names = {j for p in parts for j in table.get(p, [])}
    return [i for i, j in enumerate(pose_joints) if j in names]


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
) -> tuple[BodyFit, np.ndarray, dict[str, float]]:
    """Re-pose the contact limbs and shift the person against the fixed object (see the module
    docstring). object_vertices: (Vo, 3) metres, camera frame. The contact term is the object fit's:
    the closest ``keep_fraction`` of each body part's points to area samples of the object region, plus
    the closest ``keep_back`` (default: ``keep_fraction``; 0: none) of the object region's vertices to
    the body part. Returns the new body, the translation added (3,) metres, and the final
    unweighted-by-step loss terms."""
    import roma

    from hoirecon.body.fit import reprojection_loss, targets_from_person
    from hoirecon.geometry.sdf import body_sdf_grid
    from hoirecon.fitting.joint import _subsample, contact_pairs, pair_contact

    st = body.state
    if st is None or config.steps <= 0:
        return body, np.zeros(3, np.float32), {}
    dev = model.device
    rng = np.random.default_rng(0)
    f = lambda a: torch.as_tensor(np.asarray(a), dtype=torch.float32, device=dev)  # noqa: E731
    O, V0 = f(object_vertices), f(body.vertices)
    keep_back = keep_fraction if keep_back is None else keep_back

    def pair_distance(Hp: torch.Tensor, Sp: torch.Tensor, Op: torch.Tensor) -> torch.Tensor:
        return pair_contact(Hp[None], Sp[None], Op[None], keep_fraction, keep_back)[0]

    pairs, parts = [], set()
    found = contact_pairs(contacts, object_vertices, object_faces, config.max_contact_points,
                          config.max_contact_points, rng, rng)  # fmt: skip
    for k, h, o, S in found:
        h_idx, Sp, Op = torch.as_tensor(h, device=dev), f(S), O[torch.as_tensor(o, device=dev)]
        pairs.append((h_idx, Sp, Op))
        with torch.no_grad():
            gap = pair_distance(V0[h_idx], Sp, Op) / (2 if keep_back > 0 else 1)  # mean over directions
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
    probe = torch.as_tensor(_subsample(np.flatnonzero(moving), config.max_body_points, rng), device=dev)
    extent = float((object_vertices.max(0) - object_vertices.min(0)).max())
    obj_sdf = body_sdf_grid(object_vertices, object_faces, spacing=max(0.01, extent / 40), margin=0.05, device=dev)

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
        contact = sum(pair_distance(V[h_idx], Sp, Op) for h_idx, Sp, Op in pairs) / len(pairs)
        return {
            "contact": config.w_contact * contact,
            "reproj": config.w_reproj * reprojection_loss(kp, camera, xy, w, tg.scale_px, config.robust_sigma),
            "object_penetration": config.w_penetration * torch.relu(-obj_sdf(V[probe])).mean(),
            "pose": config.w_pose * dpose.pow(2).sum(),
            "transl": config.w_transl * (dt / config.transl_sigma).pow(2).sum(),
        }

    opt = torch.optim.Adam([{"params": [dpose], "lr": config.lr_pose}, {"params": [dt], "lr": config.lr_transl}])
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
    new = BodyFit(
        model_name=body.model_name, vertices=V, faces=body.faces, keypoints3d=kp, keypoint_names=body.keypoint_names,
        part_of_vertex=body.part_of_vertex, part_names=body.part_names, params=params,
        reprojection_error_px=float(err[vis].mean()) if vis.any() else float("nan"),
        state=BodyState(pose=pose[0].cpu().numpy().astype(np.float32), shape=st.shape, orient=st.orient, transl=transl),
    )  # fmt: skip
    final["limb_joints_free"] = float(len(free))
    return new, dt.detach().cpu().numpy().astype(np.float32), final

