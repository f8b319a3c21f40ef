"""Synthetic scenes with a floor: the gravity benchmark's ground truth (``benchmarks/gravity_bench.py``).

Each :class:`FloorScene` starts from a :func:`benchmarks.support.scenes.generate_scene` pair (a posed body
and a library object in contact), takes it back to the body's canonical frame (x = body's left, y down
= gravity, z = body's back) and places it in a room (``benchmarks.support.backdrop``) whose floor is
where the case says:

* ``floor: "both"``: the body's lowest point (its feet) and the object's lowest point (a chair's legs, a
  table's legs) rest on the floor; the object is scaled about its primary contact (0.8 - 1.25, else the
  next scene is drawn) so that both hold and the contact stays;
* ``floor: "body"``: the body rests on it, the object does not (a carried suitcase, a held umbrella);
* ``floor: "object"``: the object rests on it, the body on the object (a bicycle, a skateboard);
* ``floor: "body"`` with ``lift_m``: the body is that far above the floor (a jump): no support.

``world``: rotations applied to the canonical pair before it is placed (``"lying"``: the body on its
back along the room's x axis). The camera is drawn again with the benchmark's tilted-camera ranges
(``CAMERA``: roll and pitch up to 20 degrees, the issue's measure), the masks, the MediaPipe-format
landmarks (the scene settings' noise) and the picture of the room (vertical edges of walls, a door, a
tiled floor: what the image-lines witness reads) are rendered for that camera.

Frames: scenes are returned in the camera frame (OpenCV); ``up`` is the true up (against gravity),
``floor_height`` the floor plane's height along it: ``{x : up . x = floor_height}``.
"""

from __future__ import annotations

import dataclasses
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.support.backdrop import render_backdrop
from benchmarks.support.scenes import (
    BenchScene,
    default_model,
    generate_scene,
    render_pair_masks,
    sample_camera,
    scene_landmarks,
    scene_settings,
)
from hoirecon.types import Box, ImageInput, ObjectDetection, PersonDetection

__all__ = ["CAMERA", "CASES", "FloorScene", "generate_floor_scene", "generate_floor_scenes"]

#: Camera ranges of the floor scenes (``benchmarks.support.scenes.sample_camera``'s settings): rolled
#: and pitched cameras, up to 20 degrees, around the subject.
CAMERA = {"focal_px": [500, 1200], "distance_m": [2.5, 4.5], "yaw_deg": 35, "pitch_deg": [-10, 20],
          "roll_deg": 20, "sizes": [[640, 480], [480, 640]], "fill": 0.95}  # fmt: skip
LYING_PITCH = [15, 35]  # a lying body is looked down at

#: name -> (category of the pair, where the floor is, lift of the body above it in metres, world pose)
CASES: dict[str, dict] = {
    "standing/backpack": {"category": "backpack", "floor": "body"},
    "standing/umbrella": {"category": "umbrella", "floor": "body"},
    "leaning/table": {"category": "table", "floor": "both"},
    "sitting/chair": {"category": "chair", "floor": "both"},
    "sitting/bench": {"category": "bench", "floor": "both"},
    "cycling/bicycle": {"category": "bicycle", "floor": "object"},
    "board/skateboard": {"category": "skateboard", "floor": "object"},
    "carrying/suitcase": {"category": "suitcase", "floor": "body"},
    "jumping/sports_ball": {"category": "sports_ball", "floor": "body", "lift_m": 0.3},
    "lying/sports_ball": {"category": "sports_ball", "floor": "body", "world": "lying"},
}
SCALE_RANGE = (0.8, 1.25)


@dataclass(frozen=True)
class FloorScene:
    """One floor scene. scene: the pair (a :class:`~benchmarks.support.scenes.BenchScene`, camera frame:
    ``body``, ``object_vertices``, ``rotation``/``translation`` of the object, ``camera``, ``person``,
    ``object`` detections, true ``contacts``); image: the rendered picture (ImageInput); up: (3,) unit
    true up, camera frame; floor_height: metres along ``up``; scale: the object's scale against its
    library mesh; body_on_floor / object_on_floor: which of them truly rests on the floor."""

    case: str
    scene: BenchScene
    image: ImageInput
    up: np.ndarray
    floor_height: float
    scale: float
    body_on_floor: bool
    object_on_floor: bool

    def height(self, points: np.ndarray) -> np.ndarray:
        """Heights of (..., 3) camera-frame points above the true floor, metres."""
        return np.asarray(points, np.float64) @ self.up - self.floor_height


def _world_rotation(name: str | None) -> np.ndarray:
    if name is None:
        return np.eye(3)
    if name == "lying":  # body's back (+z) down (+y), head (-y) along +x
        return np.array([[0.0, -1.0, 0.0], [0.0, 0.0, 1.0], [-1.0, 0.0, 0.0]])
    raise ValueError(f"unknown world pose '{name}'")


def _place(case: str, base: BenchScene) -> tuple | None:
    """(body vertices, body keypoints, object vertices, floor y, object scale, world rotation W, shift)
    in the room's world frame (+y down; ``x_world = W x_canonical + shift`` for the body), or None when
    the case cannot hold for this pair."""
    spec = CASES[case]
    Rb, tb = base.body_rotation.astype(np.float64), base.body_translation.astype(np.float64)
    to_world = _world_rotation(spec.get("world"))
    canon = lambda x: ((np.asarray(x, np.float64) - tb) @ Rb) @ to_world.T  # noqa: E731  camera -> world
    bv, bk, ov = canon(base.body.vertices), canon(base.body.keypoints3d), canon(base.object_vertices)
    s = 1.0
    floor = spec["floor"]
    if floor == "object":
        floor_y = float(ov[:, 1].max())
        if bv[:, 1].max() > floor_y - 0.005:
            return None  # the body reaches below the object: not standing on it
    else:
        floor_y = float(bv[:, 1].max()) + float(spec.get("lift_m", 0.0))
        if floor == "both":
            k = base.contacts.pairs.index(tuple(base.primary_pair))
            anchor = ov[base.contacts.object_vertices[base.contacts.pair_of_object_vertex == k]].mean(0)
            low = float(ov[:, 1].max())
            if low - anchor[1] < 0.05:
                return None
            s = (floor_y - anchor[1]) / (low - anchor[1])
            if not SCALE_RANGE[0] <= s <= SCALE_RANGE[1]:
                return None
            ov = anchor + s * (ov - anchor)
        elif ov[:, 1].max() > floor_y:
            return None  # the object would go through the floor
    centre = 0.5 * (bv.min(0) + bv.max(0))
    shift = np.array([-centre[0], 0.0, -centre[2]])  # the subject at the room's centre
    return bv + shift, bk + shift, ov + shift, floor_y, s, to_world, shift


def generate_floor_scene(case: str, seed: int = 0, index: int = 0, model=None, max_tries: int = 12) -> FloorScene:
    """One floor scene of ``case`` (see CASES), deterministic in ``(seed, index)``: the pair is
    ``generate_scene(category, seed, index + 1000 * k)`` for the first ``k`` that holds."""
    import torch
    from scipy.spatial.transform import Rotation

    from hoirecon.types import BodyFit, BodyState

    spec = CASES[case]
    model = model if model is not None else default_model()
    settings = scene_settings()
    cam_settings = dict(CAMERA, pitch_deg=LYING_PITCH if spec.get("world") == "lying" else CAMERA["pitch_deg"])
    for k in range(max_tries):
        base = generate_scene(spec["category"], seed=seed, index=index + 1000 * k, model=model)
        placed = _place(case, base)
        if placed is None:
            continue
        bv, bk, ov, floor_y, s, to_world, shift = placed
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(index), k, zlib.crc32(case.encode())]))
        for _ in range(12):
            sampled = sample_camera(rng, np.concatenate([bv, ov]), cam_settings)
            if sampled is None:
                continue
            cam, R, t = sampled
            bv_c, ov_c = bv @ R.T + t, ov @ R.T + t
            pb = cam.project(bv_c)
            if pb.min() < 1.0 or pb[:, 0].max() > cam.width - 1 or pb[:, 1].max() > cam.height - 1:
                continue
            pmask, omask = render_pair_masks(bv_c, base.body.faces, ov_c, base.mesh.faces, cam)
            if min(pmask.sum(), omask.sum()) >= settings["min_object_px"]:
                break
        else:
            continue
        kp_c = bk @ R.T + t
        noisy, vis, world, true_px = scene_landmarks(kp_c, cam, omask, rng, settings)
        # the body's placement: x_cam = R_full x_canonical + t_full (the base's canonical frame)
        R_full = R @ to_world
        t_full = R @ shift + t
        orient = Rotation.from_matrix(R_full).as_rotvec()
        params = model.export_params(torch.as_tensor(base.pose), torch.as_tensor(base.shape), orient, t_full)
        body = BodyFit(
            model_name=base.body.model_name, vertices=bv_c.astype(np.float32), faces=base.body.faces,
            keypoints3d=kp_c.astype(np.float32), keypoint_names=base.body.keypoint_names,
            part_of_vertex=base.body.part_of_vertex, part_names=base.body.part_names, params=params,
            state=BodyState(pose=base.pose, shape=base.shape, orient=orient.astype(np.float32),
                            transl=np.asarray(t_full, np.float32)),
            regions=base.body.regions,
        )  # fmt: skip
        person = PersonDetection(box=Box.from_mask(pmask), mask=pmask, keypoints=noisy, visibility=vis,
                                 world_keypoints=world, backend="synthetic")  # fmt: skip
        obj = ObjectDetection(label=base.object.label, box=Box.from_mask(omask), mask=omask, backend="synthetic")
        R_obj = R_full @ base.body_rotation.T.astype(np.float64) @ base.rotation.astype(np.float64)
        scene = dataclasses.replace(
            base, body=body, rotation=R_obj.astype(np.float32), object_vertices=ov_c.astype(np.float32),
            translation=(ov_c - s * base.mesh.vertices.astype(np.float64) @ R_obj.T).mean(0).astype(np.float32),
            camera=cam, person=person, object=obj, body_rotation=R_full.astype(np.float32),
            body_translation=np.asarray(t_full, np.float32), gravity=R[:, 1].astype(np.float32),
            landmarks_true=true_px,
        )  # fmt: skip
        P = np.concatenate([R, t[:, None]], axis=1)
        rgb = render_backdrop(cam, P, floor_y, pmask, omask, seed=int(rng.integers(1 << 31)))
        image = ImageInput(path=Path(f"{case.replace('/', '_')}_{index}.png"), rgb=rgb, camera=cam)
        up = -R[:, 1]
        return FloorScene(
            case=case, scene=scene, image=image, up=up, floor_height=float(-floor_y - R[:, 1] @ t), scale=float(s),
            body_on_floor=spec["floor"] in ("body", "both") and not spec.get("lift_m"),
            object_on_floor=spec["floor"] in ("object", "both"),
        )  # fmt: skip
    raise RuntimeError(f"could not make a '{case}' floor scene in {max_tries} tries (seed {seed}, index {index})")


def generate_floor_scenes(per_case: int = 3, seed: int = 0, model=None, cases=None) -> list[FloorScene]:
    """``per_case`` scenes of every case (or of ``cases``), in CASES order."""
    names = list(cases) if cases is not None else list(CASES)
    return [generate_floor_scene(c, seed, i, model) for c in names for i in range(per_case)]


