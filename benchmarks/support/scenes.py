"""Synthetic ground-truth benchmark: posed bodies using library objects, with everything known.

Each :class:`BenchScene` is made on the fly from a seed (nothing is stored on disk):

1. a body pose from a named preset (``benchmarks/support/data/bench_poses.json``: model -> preset -> bone ->
   axis-angle) plus Gaussian jitter on every bone, and a random body shape; a lying recipe turns the
   posed body onto its back or front (``body_rotation_deg``);
2. the category's library object, rotated by the recipe's nominal rotation into the body's canonical
   frame (``benchmarks/support/data/bench_scenes.json``) with a small random jitter, then slid onto the body
   along the recipe's approach direction until its primary part touches the body's primary part
   (ray casting, so no vertex of either mesh ends up inside the other; final gap ``gap_m``); a floor
   recipe keeps the object on the floor under the body's feet, a swing turns it about that contact
   until it rests on another body part (a bat on the shoulder);
3. a random perspective camera looking at the pair; person and object masks rendered with true mutual
   occlusion; MediaPipe-format landmarks with pixel noise and dropped points; true contacts (vertices
   of each mesh within ``contact_tol_m`` of the other mesh's surface, labelled by body part and
   object part).

Scenes that miss their primary contact, leave the body partly out of frame, show fewer than
``min_object_px`` object pixels or (recipes with ``floor_tol_m``) leave the object off the floor are
resampled, deterministically from the same seed.

Recipes: ``categories`` (one per category, the object-fitting benchmarks' scenes) and ``mode_recipes``
(``"category/mode"``): together one written for every interaction mode (``hoirecon/data/contacts.json``)
of the first 19 categories (49 modes); every other mode of every library category gets a recipe
derived from its modes data (``derive`` rules naming ``templates``: :func:`_derive_recipe`; 155 more,
204 in all); ``held_out`` names the categories whose evidence rules were never compared against these
scenes (reported apart by ``benchmarks/mode_bench.py``).

API::

    scenes = generate_scenes(n=60, seed=0)              # balanced over the configured categories
    scene = generate_scene("chair", seed=0, index=3)    # one scene (what generate_scenes calls)
    sample_categories(60, seed=0)                       # the category of each scene, without rendering
    sample_recipes(seed=0)                              # every category once, a random mode each
    category_configs()["chair"]                         # the recipe (CategoryConfig)
    mode_recipes()["bench/lie"]                         # every recipe, the other modes' too
    held_out_categories()                               # ["motorcycle"]
    preset_pose(model, "sitting")                       # (J, 3) preset pose of a body model

Frames: "body frame" is the body model's canonical frame (x = body's left, y down, z = body's back,
gravity along +y); scenes are returned in the camera frame (OpenCV).
"""

from __future__ import annotations

import copy
import functools
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from benchmarks.support.metrics import rigid_align
from benchmarks.support.synthetic import SyntheticScene
from hoirecon.types import (
    BodyFit,
    BodyState,
    Box,
    CameraIntrinsics,
    ContactSet,
    Detections,
    ImageInput,
    ObjectDetection,
    ObjectMesh,
    PersonDetection,
)

__all__ = [
    "BenchScene",
    "CategoryConfig",
    "axis_rotation",
    "category_configs",
    "generate_scene",
    "generate_scenes",
    "held_out_categories",
    "mode_recipes",
    "pose_presets",
    "preset_pose",
    "place_in_contact",
    "render_pair_masks",
    "sample_camera",
    "scene_image",
    "scene_landmarks",
    "hand_points",
    "sample_categories",
    "sample_recipes",
    "scene_settings",
]


# ------------------------------------------------------------------------------------------- data


@functools.lru_cache(maxsize=None)
def _read_json(name: str) -> dict:
    return json.loads((Path(__file__).resolve().parent / "data" / name).read_text(encoding="utf-8"))


def scene_settings() -> dict[str, Any]:
    """The global settings of ``bench_scenes.json`` (camera ranges, jitter, tolerances; a copy)."""
    skip = ("categories", "mode_recipes", "held_out")
    table = _read_json("bench_scenes.json")
    return copy.deepcopy({k: v for k, v in table.items() if k not in skip and not k.startswith("_")})


def held_out_categories() -> list[str]:
    """``bench_scenes.json``'s ``held_out``: the categories whose evidence rules (``contacts.json``) were
    written without looking at these scenes; benchmarks report their scenes separately."""
    return list(_read_json("bench_scenes.json").get("held_out", []))


def pose_presets(model_name: str = "anny") -> dict[str, dict[str, list[float]]]:
    """``{preset: {bone: [ax, ay, az]}}`` for a body model (a copy). Raises KeyError for a model
    without presets."""
    table = _read_json("bench_poses.json")
    if model_name not in table or model_name.startswith("_"):
        have = sorted(k for k in table if not k.startswith("_"))
        raise KeyError(f"no benchmark pose presets for body model '{model_name}' (have: {', '.join(have)})")
    return copy.deepcopy({k: v for k, v in table[model_name].items() if not k.startswith("_")})


def preset_pose(model, name: str) -> torch.Tensor:
    """The preset ``name`` as a (len(model.pose_joints), 3) float32 axis-angle tensor (CPU)."""
    presets = pose_presets(model.name)
    if name not in presets:
        raise KeyError(f"unknown pose preset '{name}' for '{model.name}' (have: {', '.join(presets)})")
    joints = list(model.pose_joints)
    pose = torch.zeros(len(joints), 3)
    for bone, aa in presets[name].items():
        if bone not in joints:
            raise ValueError(f"pose preset '{name}' names bone '{bone}', which '{model.name}' does not pose")
        pose[joints.index(bone)] = torch.tensor(aa, dtype=torch.float32)
    return pose


def axis_rotation(axis: str | Sequence[float], degrees: float) -> np.ndarray:
    if isinstance(axis, str):
        axis = {"x": (1.0, 0.0, 0.0), "y": (0.0, 1.0, 0.0), "z": (0.0, 0.0, 1.0)}[axis.lower()]
    a = np.asarray(axis, np.float64)
    a = a / (np.linalg.norm(a) + 1e-12)
    th = math.radians(float(degrees))
    K = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + math.sin(th) * K + (1 - math.cos(th)) * K @ K


@dataclass(frozen=True)
class CategoryConfig:
    """How a category's scenes are made (see ``bench_scenes.json``'s ``_doc``).

    rotation: (3, 3) nominal rotation, object canonical frame -> body canonical frame.
    approach: unit (3,) body-frame direction the object comes from, or ``"palm:<hand part>"`` (the
        hand's palm normal), ``"palm:<hand part>:horizontal"`` (its horizontal component).
    slides: ((unit direction (3,), max metres), ...) extra moves that stop at first contact.
    swings: ((unit axis (3,), max degrees), ...) turns of the placed object, right-handed about the
        axis through the point of its primary part nearest the primary body part (the contact held: a
        bat turned about the hand until it rests on the shoulder), each stopping at first contact with
        a body part other than the primary one (or at its max).
    jitter_scale: factor on the global pose jitter (``pose_jitter_rad``) for this recipe (a pose whose
        hand must stay near the shoulder).
    pairs: the contact-prior pairs (``contacts.json``) of the recipe's interaction mode, for reference.
    recipe: the recipe's name (``category`` or ``category/mode`` for a recipe of another mode);
    mode: the interaction mode the scene shows (``contacts.json``; default the category's first).
    body_rotation: (3, 3) rotation of the posed body into the scene's world frame (gravity +y), applied
        before the object is placed (identity: the body upright; a lying body otherwise). Directions,
        the object's rotation and its jitter are in that world frame.
    floor: the object stands on the floor, the plane through the body's lowest vertex: its lowest
        vertex is put on that plane and it only moves horizontally (the approach's and the slides'
        vertical parts are dropped; the anchor lines up with the target horizontally).
    floor_tol_m: when set, scenes whose object's lowest vertex ends up farther than this from that
        plane are resampled (an object placed by a vertical approach that should still stand on the
        floor: a suitcase pulled by its top handle, a skateboard under one foot).
    derived: the ``templates`` entry the recipe was derived from (``bench_scenes.json``'s ``derive``
        rules: a mode nobody wrote a recipe for); "" for a written recipe.
    any_part: the scene is valid when the primary body part (or another target part) touches any
        part of the object, not only the primary one (derived recipes: a template does not know which
        way the object's parts face).
    required: body-part groups that must each touch the object (any part of a group; derived
        recipes: the mode's required pairs, alternatives such as either hand in one group), so that a
        derived scene shows its mode and not only its primary contact.
    """

    category: str
    preset: str
    primary: tuple[str, str]
    target: tuple[str, ...]
    anchor_offset: np.ndarray
    approach: Any
    slides: tuple[tuple[np.ndarray, float], ...]
    rotation: np.ndarray
    yaw_deg: float
    tilt_deg: float
    spin_deg: float
    pairs: tuple[tuple[str, str], ...] = field(default=())
    recipe: str = ""
    mode: str = ""
    body_rotation: np.ndarray = field(default_factory=lambda: np.eye(3))
    floor: bool = False
    floor_tol_m: float | None = None
    swings: tuple[tuple[np.ndarray, float], ...] = ()
    jitter_scale: float = 1.0
    derived: str = ""
    any_part: bool = False
    required: tuple[tuple[str, ...], ...] = ()


def _derive_recipe(mode: dict, support: str, data: dict) -> dict | None:
    """A recipe for an interaction mode without a written one: the first of ``bench_scenes.json``'s
    ``derive`` rules that matches the mode (its first required pair's body part, the body parts any
    of its pairs names (``requires``), whether both hands are required, the object's support, the mode's ``feet``
    and expected posture) names a ``templates`` entry; ``$body`` in it becomes that body part, and the
    pair's object part is the recipe's primary object part. None when no rule matches."""
    pairs = mode.get("pairs", [])
    req = [p for p in pairs if not p.get("optional")] or list(pairs)
    if not req:
        return None
    first = req[0]
    if first["body"] == "left_hand" and first.get("alt"):  # the presets hold with the right hand
        first = next((p for p in req if p["body"] == "right_hand" and p.get("alt") == first["alt"]), first)
    bodies = {p["body"] for p in pairs}  # optional pairs too: an eating mode's hand at the mouth
    both_hands = {"left_hand", "right_hand"} <= {p["body"] for p in req if not p.get("alt")}
    posture = mode.get("evidence", {}).get("posture", [])
    for rule in data.get("derive", []):
        if first["body"] not in rule["first"]:
            continue
        if "requires" in rule and not bodies & set(rule["requires"]):
            continue
        if "both_hands" in rule and rule["both_hands"] != both_hands:
            continue
        if "support" in rule and support not in rule["support"]:
            continue
        if "feet" in rule and mode.get("feet") != rule["feet"]:
            continue
        if "posture" in rule and rule["posture"] not in posture:
            continue
        t = json.loads(json.dumps(data["templates"][rule["template"]]).replace("$body", first["body"]))
        from hoirecon.contact.modes import pair_groups

        return {**t, "primary": [first["body"], first["object"]], "derived": rule["template"], "any_part": True,
                "required": [sorted(g) for g in pair_groups(req)]}
    return None


@functools.lru_cache(maxsize=1)
def _configs() -> dict[str, CategoryConfig]:
    data = _read_json("bench_scenes.json")
    table = {**data["categories"], **data.get("mode_recipes", {})}
    priors = json.loads(resources.files("hoirecon.data").joinpath("contacts.json").read_text(encoding="utf-8"))
    objects = json.loads(resources.files("hoirecon.data").joinpath("objects.json").read_text(encoding="utf-8"))
    written = {(r.partition("/")[0], r.partition("/")[2] or c.get("mode")
                or priors.get(r, {}).get("modes", [{}])[0].get("name", "")) for r, c in table.items()}  # fmt: skip
    for cat, entry in priors.items():  # every other mode of every category: a recipe derived from its data
        if cat.startswith("_") or cat == "proxy" or cat not in objects:
            continue
        for m in entry.get("modes", []):
            if (cat, m["name"]) not in written:
                r = _derive_recipe(m, m.get("support") or objects[cat].get("support", "none"), data)
                if r is not None:
                    table[f"{cat}/{m['name']}"] = r
    out: dict[str, CategoryConfig] = {}
    for recipe, c in table.items():
        cat, _, mode = recipe.partition("/")
        modes = priors.get(cat, {}).get("modes", [{}])
        mode = mode or c.get("mode") or modes[0].get("name", "")
        R = np.eye(3)
        for axis, deg in c.get("rotation_deg", []):
            R = axis_rotation(axis, deg) @ R
        B = np.eye(3)
        for axis, deg in c.get("body_rotation_deg", []):
            B = axis_rotation(axis, deg) @ B
        floor = bool(c.get("floor", False))
        flat = np.array([1.0, 0.0, 1.0]) if floor else np.ones(3)  # a floor object moves horizontally only
        approach = c["approach"]
        if not isinstance(approach, str):
            approach = np.asarray(approach, np.float64) * flat
            approach = approach / np.linalg.norm(approach)
        slide_dirs = [np.asarray(s["direction"], np.float64) * flat for s in c.get("slides", [])]
        slides = tuple((u / np.linalg.norm(u), float(s["max"])) for u, s in zip(slide_dirs, c.get("slides", [])))
        entry = next((m for m in modes if m.get("name") == mode), None)
        if entry is None:
            raise ValueError(f"bench_scenes.json: recipe '{recipe}' names mode '{mode}', which contacts.json lacks")
        pairs = tuple((p["body"], p["object"]) for p in entry.get("pairs", []))
        out[recipe] = CategoryConfig(
            category=cat, preset=c["preset"], primary=(c["primary"][0], c["primary"][1]),
            target=tuple(c["target"]), anchor_offset=np.asarray(c.get("anchor_offset", [0, 0, 0]), np.float64),
            approach=approach, slides=slides, rotation=R, yaw_deg=float(c.get("yaw_deg", 0.0)),
            tilt_deg=float(c.get("tilt_deg", 0.0)), spin_deg=float(c.get("spin_deg", 0.0)), pairs=pairs,
            recipe=recipe, mode=mode, body_rotation=B, floor=floor,
            swings=tuple((np.asarray(w["axis"], np.float64) / np.linalg.norm(w["axis"]), float(w["max_deg"]))
                         for w in c.get("swings", [])),
            jitter_scale=float(c.get("jitter_scale", 1.0)),
            floor_tol_m=None if c.get("floor_tol_m") is None else float(c["floor_tol_m"]),
            derived=str(c.get("derived", "")), any_part=bool(c.get("any_part", False)),
            required=tuple(tuple(g) for g in c.get("required", [])),
        )  # fmt: skip
    return out


def category_configs() -> dict[str, CategoryConfig]:
    """``{category: CategoryConfig}`` for every category the benchmark covers (one recipe each, the
    object-fitting benchmark's; a copy of the dict)."""
    return {k: v for k, v in _configs().items() if "/" not in k}


def mode_recipes() -> dict[str, CategoryConfig]:
    """``{recipe: CategoryConfig}`` of every recipe: the categories' and those of other interaction
    modes (``"chair/hand_on"``; ``bench_scenes.json`` ``mode_recipes``)."""
    return dict(_configs())


def sample_recipes(seed: int = 0, categories: Sequence[str] | None = None) -> list[list[str]]:
    """One scene's recipes per category (default: every category with a recipe, sorted): the
    category's recipes (one per interaction mode, written or derived) in an order drawn from
    ``seed``; a benchmark makes the first that yields a valid scene. Every category once per run,
    each of its modes equally likely to be the one shown; different seeds show other modes."""
    by_cat: dict[str, list[str]] = {}
    for name, cfg in _configs().items():
        by_cat.setdefault(cfg.category, []).append(name)
    cats = sorted(categories if categories is not None else by_cat)
    out = []
    for k, cat in enumerate(cats):
        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5A3F1E, k]))
        names = sorted(by_cat[cat])
        out.append([names[i] for i in rng.permutation(len(names))])
    return out


def sample_categories(n: int = 60, seed: int = 0, categories: Sequence[str] | None = None) -> list[str]:
    """The category of each of ``n`` scenes: shuffled rounds over ``categories`` (default: all
    configured), so counts differ by at most one. Deterministic in ``seed``; renders nothing."""
    cats = sorted(categories if categories is not None else category_configs())
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5CE7E5]))
    out: list[str] = []
    while len(out) < n:
        out += [cats[i] for i in rng.permutation(len(cats))]
    return out[:n]


# --------------------------------------------------------------------------------------- geometry


class _Mesh:
    """A triangle mesh in an open3d ray-casting scene: first hits along rays and surface distances."""

    def __init__(self, vertices: np.ndarray, faces: np.ndarray) -> None:
        import open3d as o3d

        self._o3d = o3d
        self.scene = o3d.t.geometry.RaycastingScene()
        self.scene.add_triangles(
            o3d.core.Tensor(np.ascontiguousarray(vertices, np.float32)),
            o3d.core.Tensor(np.ascontiguousarray(faces, np.uint32)),
        )

    def first_hit(self, origins: np.ndarray, direction: np.ndarray) -> np.ndarray:
        """(N,) distance to the first surface hit from each origin along ``direction``; inf if none."""
        d = np.broadcast_to(np.asarray(direction, np.float32), origins.shape)
        rays = np.concatenate([origins.astype(np.float32), d], axis=1)
        return self.scene.cast_rays(self._o3d.core.Tensor(np.ascontiguousarray(rays)))["t_hit"].numpy()

    def distance(self, points: np.ndarray) -> np.ndarray:
        """(N,) unsigned distance from each point to the surface."""
        q = self._o3d.core.Tensor(np.ascontiguousarray(points, np.float32))
        return self.scene.compute_distance(q).numpy()

    def closest_triangle(self, points: np.ndarray) -> np.ndarray:
        q = self._o3d.core.Tensor(np.ascontiguousarray(points, np.float32))
        return self.scene.compute_closest_points(q)["primitive_ids"].numpy().astype(np.int64)


def _free_distance(body: _Mesh, body_v: np.ndarray, obj: _Mesh, obj_v: np.ndarray, t: np.ndarray,
                   u: np.ndarray) -> float:  # fmt: skip
    """How far the object (``obj_v + t``; ``obj`` holds it at t = 0) can move along unit ``u`` before
    it touches the body: rays from the object's vertices against the body, and from the body's
    vertices (in the object's frame of reference) backwards against the object."""
    a = body.first_hit(obj_v + t, u)
    b = obj.first_hit(body_v - t, -u)
    return float(min(a.min(initial=np.inf), b.min(initial=np.inf)))


def _gap(body: _Mesh, body_v: np.ndarray, obj: _Mesh, obj_v: np.ndarray, t: np.ndarray) -> float:
    return float(min(body.distance(obj_v + t).min(), obj.distance(body_v - t).min()))


def swing_until_contact(others: _Mesh, object_vertices: np.ndarray, pivot: np.ndarray, axis: np.ndarray,
                        max_deg: float, gap: float = 0.003, step_deg: float = 0.5) -> np.ndarray:
    """Rotation (3, 3) about ``pivot`` and unit ``axis`` (right-handed, degrees up to ``max_deg``) that
    turns ``object_vertices`` until they first come within ``2 * gap`` of the ``others`` mesh (the
    body without the part holding the object): the last step before that, or ``max_deg``. Steps of
    ``step_deg``; the object's vertices are tested, so keep the steps small against its vertex spacing."""
    v = np.asarray(object_vertices, np.float64) - pivot
    best = np.eye(3)
    n = int(math.ceil(abs(max_deg) / step_deg))
    for k in range(1, n + 1):
        Rk = axis_rotation(axis, math.copysign(min(k * step_deg, abs(max_deg)), max_deg))
        if others.distance((v @ Rk.T + pivot).astype(np.float32)).min() < 2 * gap:
            break
        best = Rk
    return best


def place_in_contact(
    body_vertices: np.ndarray, body_faces: np.ndarray, object_vertices: np.ndarray, object_faces: np.ndarray,
    target: np.ndarray, anchor: np.ndarray, approach: np.ndarray,
    slides: Sequence[tuple[np.ndarray, float]] = (), gap: float = 0.003, far: float = 3.0,
) -> np.ndarray | None:
    """Translation ``t`` that puts the (already rotated) object ``object_vertices + t`` against the body.

    The object starts ``far`` metres out along ``approach`` (unit, pointing from the body toward where
    the object should end up) with its ``anchor`` point on the line through ``target``, and slides back
    toward the body until first contact; it then stops ``gap`` short, and each of ``slides`` moves it
    along its direction until first contact (at most its max distance). No vertex of either mesh ends
    up inside the other (both meshes are ray-cast). Returns None when the object never meets the body.
    """
    bv = np.asarray(body_vertices, np.float32)
    ov = np.asarray(object_vertices, np.float32)
    body = _Mesh(bv, body_faces)
    obj = _Mesh(ov, object_faces)
    d = np.asarray(approach, np.float64)
    d = d / np.linalg.norm(d)
    t = np.asarray(target, np.float64) - np.asarray(anchor, np.float64) + far * d
    dist = _free_distance(body, bv, obj, ov, t.astype(np.float32), (-d).astype(np.float32))
    if not np.isfinite(dist):
        return None

    def back_off(t: np.ndarray, away: np.ndarray) -> np.ndarray:
        for _ in range(3):  # a gap along the motion is not the surface distance: back off until it is ~gap
            g = _gap(body, bv, obj, ov, t.astype(np.float32))
            if g >= 0.7 * gap:
                break
            t = t + (gap - g + 0.0005) * away
        return t

    t = back_off(t - max(dist - gap, 0.0) * d, d)
    for u, max_dist in slides:
        u = np.asarray(u, np.float64) / np.linalg.norm(u)
        dist = _free_distance(body, bv, obj, ov, t.astype(np.float32), u.astype(np.float32))
        if np.isfinite(dist) and dist - gap <= max_dist:
            t = back_off(t + max(dist - gap, 0.0) * u, -u)
    return t.astype(np.float32)


@functools.lru_cache(maxsize=8)
def _rest_vertices(model) -> np.ndarray:
    with torch.no_grad():
        pose = torch.zeros(1, len(model.pose_joints), 3, device=model.device)
        out = model.forward(pose, model.default_shape()[None])
    return out.vertices[0].cpu().numpy().astype(np.float64)


def _palm_normal(model, vertices: np.ndarray, parts: np.ndarray, names: tuple[str, ...], hand: str) -> np.ndarray:
    """Unit palm normal of ``hand`` in the posed body: the rest-pose normal (bench_scenes.json) turned
    by the hand's rigid rotation from rest (Kabsch on the hand's vertices)."""
    spec = _read_json("bench_scenes.json")["bodies"].get(model.name, {}).get("palm_normal_rest", {})
    if hand not in spec:
        raise KeyError(f"bench_scenes.json gives no rest palm normal of '{hand}' for body model '{model.name}'")
    sel = parts == names.index(hand)
    R = rigid_align(_rest_vertices(model)[sel], vertices[sel].astype(np.float64))[0]
    n = R @ np.asarray(spec[hand], np.float64)
    return n / np.linalg.norm(n)


# ------------------------------------------------------------------------------------------ scene


@dataclass(frozen=True)
class BenchScene(SyntheticScene):
    """A benchmark scene. Inherited (camera frame): ``body`` (BodyFit, true body), ``mesh`` (library
    object, canonical frame, scale 1), ``rotation``/``translation`` (true object pose:
    ``x_cam = R @ x_canonical + t``), ``object_vertices`` (posed object), ``camera``, ``person`` /
    ``object`` (detections built from the rendered masks and the noisy landmarks) and ``contacts``
    (true contacts: every (body part, object part) pair within ``contact_tol_m``).

    pose: (J, 3) float32 axis-angle in ``body_model``'s ``pose_joints`` order (preset + jitter).
    shape: (num_shape,) float32 shape parameters (Anny: phenotypes - 0.5).
    body_rotation / body_translation: body canonical frame -> camera frame.
    gravity: (3,) unit "down" direction in the camera frame (the body frame's +y).
    landmarks_true: (33, 2) float32 noise-free MediaPipe-order projections (zeros where the body has
        no counterpart: the face's inner points and the mouth); the hand points (pinky, index, thumb)
        are :func:`hand_points`; ``person.keypoints`` holds the noisy ones, ``person.visibility`` 0
        for dropped.
    primary_pair: the pair the object was placed with, as touching (in ``contacts.pairs``): the
        category's primary pair, or its object part against another of the recipe's target parts.
    prior_pairs: the contact-prior pairs (contacts.json) of the scene's mode, whether touching or not.
    mode: the interaction mode the scene shows (its recipe's).
    """

    category: str
    preset: str
    body_model: str
    pose: np.ndarray
    shape: np.ndarray
    body_rotation: np.ndarray
    body_translation: np.ndarray
    gravity: np.ndarray
    landmarks_true: np.ndarray
    primary_pair: tuple[str, str]
    prior_pairs: tuple[tuple[str, str], ...]
    mode: str
    seed: int
    index: int
    attempts: int

    @property
    def person_mask(self) -> np.ndarray:
        return self.person.mask

    @property
    def object_mask(self) -> np.ndarray:
        return self.object.mask

    @property
    def detections(self) -> Detections:
        prov = {"person": {"backend": "synthetic"}, "object": {"backend": "synthetic"},
                "bench": {"category": self.category, "seed": self.seed, "index": self.index}}  # fmt: skip
        return Detections(person=self.person, object=self.object, provenance=prov)

    def pair_vertices(self, pair: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
        """(body vertex indices, object vertex indices) of one true contact pair."""
        k = self.contacts.pairs.index(tuple(pair))
        c = self.contacts
        return c.human_vertices[c.pair_of_human_vertex == k], c.object_vertices[c.pair_of_object_vertex == k]


REJECTIONS: Counter = Counter()
"""Why scene attempts were resampled, ``(recipe, reason) -> count`` over this process (diagnostics)."""


def render_pair_masks(body_v, body_f, obj_v, obj_f, camera: CameraIntrinsics) -> tuple[np.ndarray, np.ndarray]:
    """Person and object masks with true mutual occlusion (one ray cast per pixel centre; the same
    answer as ``benchmarks.support.synthetic.render_masks``)."""
    import open3d as o3d

    scene = o3d.t.geometry.RaycastingScene()
    for v, f in ((body_v, body_f), (obj_v, obj_f)):
        scene.add_triangles(o3d.core.Tensor(np.ascontiguousarray(v, np.float32)),
                            o3d.core.Tensor(np.ascontiguousarray(f, np.uint32)))  # fmt: skip
    W, H = camera.width, camera.height
    u, v = np.meshgrid(np.arange(W, dtype=np.float32) + 0.5, np.arange(H, dtype=np.float32) + 0.5)
    d = np.stack([(u - camera.cx) / camera.fx, (v - camera.cy) / camera.fy, np.ones_like(u)], -1)
    rays = np.concatenate([np.zeros_like(d), d], -1).reshape(-1, 6)
    hit = scene.cast_rays(o3d.core.Tensor(rays))
    ok = np.isfinite(hit["t_hit"].numpy())
    gid = hit["geometry_ids"].numpy()
    return (ok & (gid == 0)).reshape(H, W), (ok & (gid == 1)).reshape(H, W)


def _true_contacts(body_v, body_f, body_parts, body_names, obj_v, obj_f, obj_parts, obj_names, tol: float,
                   body_mesh: _Mesh | None = None) -> ContactSet:  # fmt: skip
    """Every vertex of each mesh within ``tol`` of the other mesh's surface, each labelled with the
    pair (its own part, the part of the nearest point of the other mesh)."""
    from scipy.spatial import cKDTree

    body = body_mesh if body_mesh is not None else _Mesh(body_v, body_f)
    obj = _Mesh(obj_v, obj_f)
    lo, hi = obj_v.min(0) - tol, obj_v.max(0) + tol  # only body vertices near the object can touch it
    cand = np.flatnonzero(np.all((body_v >= lo) & (body_v <= hi), axis=1))
    h = cand[obj.distance(body_v[cand]) < tol] if len(cand) else cand
    o = np.flatnonzero(body.distance(obj_v) < tol)
    face_part = obj_parts[obj_f[:, 0]]
    h_opart = face_part[obj.closest_triangle(body_v[h])] if len(h) else np.zeros(0, np.int64)
    o_bpart = body_parts[cKDTree(body_v).query(obj_v[o])[1]] if len(o) else np.zeros(0, np.int64)
    h_pairs = [(body_names[body_parts[i]], obj_names[p]) for i, p in zip(h, h_opart)]
    o_pairs = [(body_names[b], obj_names[obj_parts[i]]) for i, b in zip(o, o_bpart)]
    pairs = tuple(sorted(set(h_pairs) | set(o_pairs)))
    index = {p: k for k, p in enumerate(pairs)}
    return ContactSet(
        human_vertices=h.astype(np.int64), object_vertices=o.astype(np.int64), pairs=pairs,
        pair_of_human_vertex=np.array([index[p] for p in h_pairs], np.int16),
        pair_of_object_vertex=np.array([index[p] for p in o_pairs], np.int16), source="ground-truth", precise=True,
    )  # fmt: skip


def _sample_shape(model, rng: np.random.Generator) -> torch.Tensor:
    bodies = _read_json("bench_scenes.json")["bodies"]
    spec = bodies.get(model.name, {})
    if "phenotype_ranges" in spec and hasattr(model, "phenotype_labels"):
        r = spec["phenotype_ranges"]
        vals = [rng.uniform(*r.get(lab, [0.5, 0.5])) - 0.5 for lab in model.phenotype_labels]
        return torch.tensor(vals, dtype=torch.float32)
    sigma = float(spec.get("shape_sigma", bodies["_default"]["shape_sigma"]))
    return torch.tensor(rng.normal(0.0, sigma, int(model.num_shape)), dtype=torch.float32)


def _random_horizontal_tilt(rng: np.random.Generator, max_deg: float) -> np.ndarray:
    if max_deg <= 0:
        return np.eye(3)
    phi = rng.uniform(0, 2 * math.pi)
    return axis_rotation((math.cos(phi), 0.0, math.sin(phi)), rng.uniform(-max_deg, max_deg))


def _look_at(eye: np.ndarray, target: np.ndarray, roll_deg: float) -> np.ndarray:
    """World (body frame, y down) -> camera rotation: optical axis toward ``target``, image "down"
    as close to gravity (+y) as possible, then rolled."""
    z = target - eye
    z /= np.linalg.norm(z)
    g = np.array([0.0, 1.0, 0.0])
    y = g - (g @ z) * z
    y /= np.linalg.norm(y)
    x = np.cross(y, z)
    R = np.stack([x, y, z])
    return axis_rotation((0, 0, 1), roll_deg) @ R


def sample_camera(
    rng: np.random.Generator, points: np.ndarray, settings: dict
) -> tuple[CameraIntrinsics, np.ndarray, np.ndarray] | None:
    """A random pinhole camera looking at ``points`` (body frame): (intrinsics, R, t) with
    ``x_cam = R @ x_body + t``; None when no focal length in range frames the points."""
    c = settings
    lo, hi = points.min(0), points.max(0)
    centre = 0.5 * (lo + hi)
    dist = rng.uniform(*c["distance_m"])
    yaw = math.radians(rng.uniform(-c["yaw_deg"], c["yaw_deg"]))
    pitch = math.radians(rng.uniform(*c["pitch_deg"]))  # > 0: camera above, looking down
    roll = rng.uniform(-c["roll_deg"], c["roll_deg"])
    W, H = c["sizes"][int(rng.integers(len(c["sizes"])))]
    direction = np.array([math.sin(yaw) * math.cos(pitch), -math.sin(pitch), -math.cos(yaw) * math.cos(pitch)])
    eye = centre + dist * direction  # in front of the body (its front is -z)
    R = _look_at(eye, centre, roll)
    t = -R @ eye
    p = points @ R.T + t
    if p[:, 2].min() < 0.3:
        return None
    u, v = p[:, 0] / p[:, 2], p[:, 1] / p[:, 2]
    f_fit = c["fill"] * min(0.5 * W / np.abs(u).max(), 0.5 * H / np.abs(v).max())
    f_lo, f_hi = c["focal_px"][0], min(c["focal_px"][1], f_fit)
    if f_hi < f_lo:
        return None
    f = rng.uniform(f_lo, f_hi)
    cam = CameraIntrinsics(fx=f, fy=f, cx=W / 2.0, cy=H / 2.0, width=int(W), height=int(H), source="user")
    return cam, R, t


#: MediaPipe's hand points of the pose landmarks (pinky, index, thumb) of each hand
HAND_LANDMARKS: dict[str, tuple[int, ...]] = {"left_hand": (17, 19, 21), "right_hand": (18, 20, 22)}


def hand_points(vertices: np.ndarray, part_of_vertex: np.ndarray, part_names: tuple[str, ...], kp_cam: np.ndarray,
                finger_fraction: float = 0.3) -> dict[int, np.ndarray]:  # fmt: skip
    """Stand-ins for MediaPipe's hand points (pose landmarks 17 to 22: pinky, index and thumb of each
    hand), which the body models' keypoints lack: per hand, the centroid of the hand's vertices farthest
    from its wrist (``finger_fraction`` of them: the fingers), for all three. MediaPipe places them on
    the fingers; without them the benchmark's hands would be their wrists alone, about 8 cm short of
    a grip. vertices: (V, 3) camera frame; kp_cam: (K, 3) in KEYPOINT_NAMES order. Returns
    MediaPipe index -> (3,) camera-frame point."""
    from hoirecon.body.model import KEYPOINT_NAMES

    out = {}
    for hand, indices in HAND_LANDMARKS.items():
        if hand not in part_names:
            continue
        v = np.asarray(vertices, np.float64)[np.asarray(part_of_vertex) == part_names.index(hand)]
        if not len(v):
            continue
        wrist = np.asarray(kp_cam[KEYPOINT_NAMES.index(hand.replace("hand", "wrist"))], np.float64)
        d = np.linalg.norm(v - wrist, axis=1)
        fingers = v[d >= np.quantile(d, 1.0 - finger_fraction)]
        for i in indices:
            out[i] = fingers.mean(0)
    return out


def scene_landmarks(kp_cam: np.ndarray, camera: CameraIntrinsics, object_mask: np.ndarray, rng: np.random.Generator,
               settings: dict, hands: dict[int, np.ndarray] | None = None,
               hand_rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # fmt: skip
    """MediaPipe-order (33,) landmarks from the body keypoints: (noisy px, visibility, world, true px).
    ``hands`` (:func:`hand_points`): MediaPipe index -> camera-frame point of the hand landmarks, given
    the same noise, occlusion and drop rules from ``hand_rng`` (a stream of their own, so that the
    other landmarks and everything drawn after them are as without them)."""
    from hoirecon.body.fit import MEDIAPIPE_INDEX
    from hoirecon.body.model import KEYPOINT_NAMES

    s = settings["landmarks"]
    px = camera.project(kp_cam.astype(np.float64))
    true = np.zeros((33, 2), np.float32)
    noisy = np.zeros((33, 2), np.float32)
    vis = np.zeros(33, np.float32)
    world = np.zeros((33, 3), np.float32)
    hip = 0.5 * (kp_cam[KEYPOINT_NAMES.index("left_hip")] + kp_cam[KEYPOINT_NAMES.index("right_hip")])
    H, W = object_mask.shape
    for k, name in enumerate(KEYPOINT_NAMES):
        i = MEDIAPIPE_INDEX[name]
        if i is None:
            continue
        true[i] = px[k]
        noisy[i] = px[k] + rng.normal(0.0, s["sigma_px"], 2)
        world[i] = kp_cam[k] - hip + rng.normal(0.0, s["world_sigma_m"], 3)
        x, y = int(np.clip(px[k, 0], 0, W - 1)), int(np.clip(px[k, 1], 0, H - 1))
        vis[i] = s["occluded_visibility"] if object_mask[y, x] else 1.0
        if rng.uniform() < s["drop_prob"]:
            vis[i] = 0.0
    for i, p3 in (hands or {}).items():
        hrng = hand_rng if hand_rng is not None else rng
        p = camera.project(np.asarray(p3, np.float64)[None])[0]
        true[i] = p
        noisy[i] = p + hrng.normal(0.0, s["sigma_px"], 2)
        world[i] = p3 - hip + hrng.normal(0.0, s["world_sigma_m"], 3)
        x, y = int(np.clip(p[0], 0, W - 1)), int(np.clip(p[1], 0, H - 1))
        vis[i] = s["occluded_visibility"] if object_mask[y, x] else 1.0
        if hrng.uniform() < s["drop_prob"]:
            vis[i] = 0.0
    return noisy, vis, world, true


def default_model():
    from hoirecon.body.anny_model import AnnyBody

    return AnnyBody()


def _build_scene(model, cfg: CategoryConfig, mesh: ObjectMesh, rng: np.random.Generator, settings: dict,
                 seed: int, index: int, attempt: int) -> BenchScene | None:  # fmt: skip
    from scipy.spatial.transform import Rotation

    from hoirecon.body.model import KEYPOINT_NAMES, body_regions

    # --- body, canonical frame
    sigma = float(settings["pose_jitter_rad"])
    jitter = np.clip(rng.normal(0.0, sigma, (len(model.pose_joints), 3)), -2.5 * sigma, 2.5 * sigma) * cfg.jitter_scale
    pose = preset_pose(model, cfg.preset) + torch.tensor(jitter, dtype=torch.float32)
    shape = _sample_shape(model, rng)
    with torch.no_grad():
        out = model.forward(pose[None].to(model.device), shape[None].to(model.device))
    B = cfg.body_rotation  # body canonical frame -> the scene's world frame (gravity +y)
    bv = (out.vertices[0].cpu().numpy().astype(np.float64) @ B.T).astype(np.float32)
    bk = (out.keypoints[0].cpu().numpy().astype(np.float64) @ B.T).astype(np.float32)
    floor_y = float(bv[:, 1].max())  # the floor under the body: the plane through its lowest vertex
    parts, names = model.part_segmentation()
    bf = model.faces

    # --- object rotation (body frame) and placement
    spin = axis_rotation("y", rng.uniform(-cfg.spin_deg, cfg.spin_deg)) if cfg.spin_deg else np.eye(3)
    yaw = axis_rotation("y", rng.uniform(-cfg.yaw_deg, cfg.yaw_deg)) if cfg.yaw_deg else np.eye(3)
    R_obj = yaw @ _random_horizontal_tilt(rng, cfg.tilt_deg) @ cfg.rotation @ spin
    X = (mesh.vertices.astype(np.float64) @ R_obj.T).astype(np.float32)
    body_part, obj_part = cfg.primary
    tsel = np.isin(parts, [names.index(p) for p in cfg.target])
    target = bv[tsel].mean(0)
    anchor = X[mesh.part_vertices(obj_part)].mean(0) + R_obj @ cfg.anchor_offset
    if isinstance(cfg.approach, str):  # "palm:<hand>" or "palm:<hand>:horizontal"
        kind, hand, *opts = cfg.approach.split(":")
        if kind != "palm":
            raise ValueError(f"unknown approach '{cfg.approach}'")
        approach = _palm_normal(model, bv, parts, names, hand)
        if "horizontal" in opts:  # keep the object level with the hand (e.g. an umbrella's canopy above it)
            approach = approach * np.array([1.0, 0.0, 1.0])
            approach = approach / np.linalg.norm(approach)
    else:
        approach = cfg.approach
    if cfg.floor:  # the object's lowest vertex on the floor; it comes horizontally
        approach = approach * np.array([1.0, 0.0, 1.0])
        approach = approach / np.linalg.norm(approach)
        target = target.copy()
        target[1] = anchor[1] + floor_y - X[:, 1].max()
    t_obj = place_in_contact(bv, bf, X, mesh.faces, target, anchor, approach, cfg.slides, gap=settings["gap_m"])
    if t_obj is None:
        REJECTIONS[(cfg.recipe, "no contact")] += 1
        return None
    if cfg.swings:  # turn the object about its contact with the holding part until it rests on another body part
        others = _Mesh(bv, bf[np.all(parts[bf] != names.index(body_part), axis=1)])  # the body but the holding part
        held = _Mesh(bv, bf[np.any(parts[bf] == names.index(body_part), axis=1)])
        prim = X[mesh.part_vertices(obj_part)] + t_obj
        pivot = prim[int(np.argmin(held.distance(prim)))].astype(np.float64)  # where the holding part touches it
        for axis, max_deg in cfg.swings:
            Rk = swing_until_contact(others, X + t_obj, pivot, axis, max_deg, gap=settings["gap_m"])
            R_obj = Rk @ R_obj
            t_obj = (Rk @ (t_obj.astype(np.float64) - pivot) + pivot).astype(np.float32)
            X = (mesh.vertices.astype(np.float64) @ R_obj.T).astype(np.float32)
    ov = X + t_obj
    if cfg.floor_tol_m is not None and abs(float(ov[:, 1].max()) - floor_y) > cfg.floor_tol_m:
        REJECTIONS[(cfg.recipe, "off the floor")] += 1
        return None
    tol = float(settings["contact_tol_m"])
    body_mesh = _Mesh(bv, bf)
    contacts = _true_contacts(bv, bf, parts, names, ov, mesh.faces, mesh.part_of_vertex, mesh.part_names, tol,
                              body_mesh=body_mesh)  # fmt: skip
    # the primary pair, or the same object part against another target part (either hand on a table)
    wanted = [tuple(cfg.primary)] + [(p, obj_part) for p in cfg.target if p != body_part]
    if cfg.any_part:  # a derived recipe: the primary or a target body part touching any object part
        wanted += [p for p in contacts.pairs if p[0] in (body_part, *cfg.target)]
    touching = [p for p in wanted if p in contacts.pairs]
    if not touching:
        REJECTIONS[(cfg.recipe, "primary pair not touching")] += 1
        return None
    both = set(contacts.pair_of_human_vertex.tolist()) & set(contacts.pair_of_object_vertex.tolist())
    if not both:  # every pair seen from one side only: no pair a fit can pull together
        REJECTIONS[(cfg.recipe, "no pair touching from both sides")] += 1
        return None
    touched = {b for b, _ in contacts.pairs}
    if any(not touched & set(g) for g in cfg.required):
        REJECTIONS[(cfg.recipe, "a required body part not touching")] += 1
        return None

    # --- camera, masks
    pts = np.concatenate([bv, ov])
    for _ in range(12):
        sampled = sample_camera(rng, pts, settings["camera"])
        if sampled is None:
            continue
        cam, R, t = sampled
        bv_c = bv @ R.T + t
        ov_c = ov @ R.T + t
        pb = cam.project(bv_c.astype(np.float64))
        if pb.min() < 1.0 or pb[:, 0].max() > cam.width - 1 or pb[:, 1].max() > cam.height - 1:
            continue
        size = np.array([cam.width, cam.height])
        po = cam.project(ov_c.astype(np.float64))
        if np.prod(np.clip(po.max(0), 0, size) - np.clip(po.min(0), 0, size)) < settings["min_object_px"]:
            continue  # the object's box alone is too small: skip the render
        pmask, omask = render_pair_masks(bv_c, bf, ov_c, mesh.faces, cam)
        if omask.sum() < settings["min_object_px"] or pmask.sum() < settings["min_object_px"]:
            continue
        break
    else:
        REJECTIONS[(cfg.recipe, "no camera frames it")] += 1
        return None

    # --- records in the camera frame
    kp_c = (bk @ R.T + t).astype(np.float32)
    hands = hand_points(bv_c, parts, names, kp_c)
    noisy, vis, world, true_px = scene_landmarks(kp_c, cam, omask, rng, settings, hands,
                                                 np.random.default_rng([seed, index, attempt, 17]))  # fmt: skip
    R_body = R @ B  # body canonical frame -> camera
    orient = Rotation.from_matrix(R_body).as_rotvec()
    body = BodyFit(
        model_name=model.name, vertices=bv_c.astype(np.float32), faces=bf, keypoints3d=kp_c,
        keypoint_names=KEYPOINT_NAMES, part_of_vertex=parts, part_names=names,
        params=model.export_params(pose, shape, orient, t),
        state=BodyState(pose=pose.numpy().astype(np.float32), shape=shape.numpy().astype(np.float32),
                        orient=orient.astype(np.float32), transl=np.asarray(t, np.float32)),
        regions=body_regions(model),
    )  # fmt: skip
    person = PersonDetection(box=Box.from_mask(pmask), mask=pmask, keypoints=noisy, visibility=vis, world_keypoints=world,
                             backend="synthetic")  # fmt: skip
    obj = ObjectDetection(label=cfg.category.replace("_", " "), box=Box.from_mask(omask), mask=omask, backend="synthetic")
    R_true = (R @ R_obj).astype(np.float32)
    t_true = (R @ t_obj + t).astype(np.float32)
    return BenchScene(
        body=body, mesh=mesh, rotation=R_true, translation=t_true, object_vertices=ov_c.astype(np.float32),
        camera=cam, person=person, object=obj, contacts=contacts, category=cfg.category, preset=cfg.preset,
        body_model=model.name, pose=pose.numpy().astype(np.float32), shape=shape.numpy().astype(np.float32),
        body_rotation=R_body.astype(np.float32), body_translation=t.astype(np.float32),
        gravity=R[:, 1].astype(np.float32), landmarks_true=true_px, primary_pair=touching[0],
        prior_pairs=cfg.pairs, mode=cfg.mode, seed=int(seed), index=int(index), attempts=attempt + 1,
    )  # fmt: skip


def generate_scene(category: str, seed: int = 0, index: int = 0, model=None, max_attempts: int = 40,
                   make: str = "default") -> BenchScene:  # fmt: skip
    """One benchmark scene of ``category`` (or of a recipe of another mode, ``"chair/hand_on"``), with the
    library mesh of its ``make`` (``objects.json`` variants), deterministic in ``(seed, index)``: pose, shape, object
    jitter and camera are drawn again (from the same random stream) until the primary contact holds,
    the body is fully in frame and at least ``min_object_px`` object pixels are visible."""
    from hoirecon.objects.library import build_mesh

    cfgs = _configs()
    if category not in cfgs:
        raise KeyError(f"no benchmark recipe for category '{category}' (have: {', '.join(sorted(cfgs))})")
    model = model if model is not None else default_model()
    settings = scene_settings()
    cfg = cfgs[category]
    mesh = build_mesh(cfg.category, make)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(index)]))
    for attempt in range(max_attempts):
        scene = _build_scene(model, cfg, mesh, rng, settings, seed, index, attempt)
        if scene is not None:
            return scene
    raise RuntimeError(
        f"could not make a valid '{category}' scene in {max_attempts} attempts (seed {seed}, index {index})"
    )


def generate_scenes(
    n: int = 60, seed: int = 0, model=None, categories: Sequence[str] | None = None,
    only: Sequence[int] | None = None,
) -> list[BenchScene]:
    """``n`` scenes over the configured categories (balanced: see ``sample_categories``); scene ``i``
    is ``generate_scene(sample_categories(n, seed)[i], seed, i, model)``. ``model``: any body model
    with presets in ``bench_poses.json`` (default: Anny). ``only``: just these indices (the same
    scenes as in the full list, for splitting the work)."""
    model = model if model is not None else default_model()
    cats = sample_categories(n, seed, categories)
    keep = range(len(cats)) if only is None else only
    return [generate_scene(cats[i], seed, i, model) for i in keep]


def scene_image(scene) -> ImageInput:
    """The ``ImageInput`` a pipeline stage sees for a scene: its camera and a black picture of that
    size (the localizers read only the camera and the detections' masks)."""
    cam = scene.camera
    return ImageInput(path=Path(f"{scene.category}_{scene.index}.png"), rgb=np.zeros((cam.height, cam.width, 3), np.uint8),
                      camera=cam)  # fmt: skip
