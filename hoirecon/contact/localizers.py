"""Localize step of Render-Localize-Lift, and the road from a localizer to a :class:`ContactSet`.

A *localizer* answers, for one image: where on the fixed renders of the canonical body and of the
object (``hoirecon.contact.render``) is the contact? Interface::

    localizer(image, detections, body, object_mesh, label) -> Localization

``Localization`` carries one 2D probability map per view of the human and of the object view set, or,
for sources that already work per vertex (an imported InteractVLM result), the per-vertex
probabilities directly. :func:`contacts_from_localization` lifts maps to vertices
(``hoirecon.contact.lift``) and builds the ContactSet the fitter consumes:

* ``human_prob`` / ``object_prob``: per-vertex probabilities on the full meshes;
* ``human_vertices``: ``human_prob >= human_threshold`` (0.5); ``object_vertices``:
  ``object_prob >= object_threshold`` (0.3), or the top ``top_fraction`` of the object's vertices
  when none reaches it (likewise for the body, when some probability is positive);
* ``pairs``: the fitter attracts body and object vertices of the same pair only, so the selected
  vertices are grouped by body part and by object part; body-part groups holding less than
  ``min_part_fraction`` of the selected probability x surface area (area, not vertex count: Anny's
  hands are far denser than its back) are dropped as noise (the largest group always stays); each
  body part is paired with the object parts that the category's prior
  (``contacts.json``) pairs it with, if any of them was selected, else with the selected object part
  of largest mass.

Localizers here: :class:`PriorLocalizer` (``prior``: the offline estimate of
``hoirecon.contact.priors.infer_contacts``, painted into the views so it goes through the same lift),
and in ``hoirecon.contact.interactvlm`` the InteractVLM import and run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

import numpy as np

from hoirecon.contact.lift import fill_unseen, lift, unlift
from hoirecon.contact.render import ViewSet, render_human_views, render_object_views
from hoirecon.errors import InputError
from hoirecon.types import BodyFit, ContactSet, Detections, ImageInput, ObjectMesh

__all__ = [
    "CONTACT_SOURCES",
    "RLLConfig",
    "Localization",
    "Localizer",
    "PriorLocalizer",
    "make_localizer",
    "contacts_from_localization",
    "contacts_from_probabilities",
    "derive_pairs",
    "infer_contacts_rll",
    "paint",
    "indicator",
    "summary",
]

CONTACT_SOURCES = ("prior", "interactvlm-import", "interactvlm-run")


@dataclass(frozen=True)
class RLLConfig:
    """Settings of the lift and of the vertex selection (recorded in the resolved config)."""

    size: int | None = None  # render size in pixels; None: rll_views.json (1024)
    human_threshold: float = 0.5  # InteractVLM's human contact threshold
    object_threshold: float = 0.3  # InteractVLM's object contact threshold (0.3 to 0.5)
    object_pixel_threshold: float | None = 0.3  # object pixels with p <= this count as 0 before lifting
    threshold_mode: str = "zero"  # "drop": leave those pixels out instead (InteractVLM's released code)
    top_fraction: float = 0.05  # when nothing reaches the threshold: this fraction of the vertices ...
    min_top: int = 10  # ... but at least this many
    min_part_fraction: float = 0.02  # body-part groups below this share of the selected area are noise
    fill_unseen: bool = True  # vertices no view sees take their neighbours' mean
    blur_px: float = 0.0  # Gaussian sigma (pixels) applied to maps painted from vertex sets (prior)


@dataclass(frozen=True)
class Localization:
    """What a localizer found. Either per-view maps (``human_maps`` / ``object_maps``: one (H, W)
    float32 array in [0, 1] per view of ``human_views`` / ``object_views``) or per-vertex
    probabilities (``human_prob`` (V_body,) / ``object_prob`` (V_obj,)); probabilities win when both
    are set. ``details``: JSON-ready provenance (files read, commands run)."""

    source: str
    human_views: ViewSet | None = None
    object_views: ViewSet | None = None
    human_maps: tuple[np.ndarray, ...] | None = None
    object_maps: tuple[np.ndarray, ...] | None = None
    human_prob: np.ndarray | None = None
    object_prob: np.ndarray | None = None
    details: dict = field(default_factory=dict)


class Localizer(Protocol):
    """``(image, detections, body, object_mesh, label) -> Localization``."""

    name: str

    def __call__(self, image: ImageInput, detections: Detections, body: BodyFit, object_mesh: ObjectMesh,
                 label: str) -> Localization: ...  # fmt: skip


# ----------------------------------------------------------------------------------- selection


def _select(prob: np.ndarray, threshold: float, cfg: RLLConfig) -> np.ndarray:
    """Indices with ``prob >= threshold``, else the top fraction (only among positive values)."""
    sel = np.flatnonzero(prob >= threshold)
    if len(sel):
        return sel
    k = min(len(prob), max(int(cfg.min_top), int(np.ceil(cfg.top_fraction * len(prob)))))
    order = np.argsort(-prob, kind="stable")[:k]
    return np.sort(order[prob[order] > 0])


def _prior_pairs(category: str) -> list[tuple[str, str]]:
    from hoirecon.contact.priors import contact_priors

    entry = contact_priors().get(category)
    return [(p["body"], p["object"]) for p in entry["pairs"]] if entry else []


def vertex_areas(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V,) float64: a third of the area of the triangles around each vertex."""
    v = np.asarray(vertices, np.float64)
    f = np.asarray(faces, np.int64)
    a = 0.5 * np.linalg.norm(np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]]), axis=1)
    return np.bincount(f.ravel(), np.repeat(a / 3.0, 3), minlength=len(v))


def _groups(idx: np.ndarray, part_of_vertex: np.ndarray, names: Sequence[str], weight: np.ndarray) -> list[tuple[str, np.ndarray, float]]:
    """``[(part name, vertex indices, summed weight)]`` of the selected vertices, largest first."""
    parts = np.asarray(part_of_vertex)[idx]
    out = []
    for k in np.unique(parts):
        sel = idx[parts == k]
        out.append((str(names[int(k)]), sel, float(weight[sel].sum())))
    return sorted(out, key=lambda g: (-g[2], g[0]))


def derive_pairs(human_idx: np.ndarray, object_idx: np.ndarray, human_prob: np.ndarray, object_prob: np.ndarray,
                 body: BodyFit, mesh: ObjectMesh, cfg: RLLConfig = RLLConfig()):  # fmt: skip
    """Group selected vertices into (body part, object part) pairs; see the module docstring.
    Returns ``(pairs, [(human indices, object indices) per pair])``."""
    hw = np.asarray(human_prob, np.float64) * vertex_areas(body.vertices, body.faces)
    ow = np.asarray(object_prob, np.float64) * vertex_areas(mesh.vertices, mesh.faces)
    hg = _groups(human_idx, body.part_of_vertex, body.part_names, hw)
    og = _groups(object_idx, mesh.part_of_vertex, mesh.part_names, ow)
    if not hg or not og:
        return (), []
    total = sum(g[2] for g in hg)
    hg = [g for i, g in enumerate(hg) if i == 0 or g[2] >= cfg.min_part_fraction * total]
    obj = {name: verts for name, verts, _ in og}
    prior = _prior_pairs(mesh.category)
    pairs: list[tuple[str, str]] = []
    members: list[tuple[np.ndarray, np.ndarray]] = []
    for bname, bverts, _ in hg:
        targets = [o for b, o in prior if b == bname and o in obj]
        targets = list(dict.fromkeys(targets)) or [og[0][0]]
        for oname in targets:
            pairs.append((bname, oname))
            members.append((bverts, obj[oname]))
    return tuple(pairs), members


def contacts_from_probabilities(human_prob: np.ndarray, object_prob: np.ndarray, body: BodyFit, mesh: ObjectMesh,
                                source: str, cfg: RLLConfig = RLLConfig(), precise: bool | None = None) -> ContactSet:  # fmt: skip
    """Per-vertex probabilities on both meshes -> ContactSet (thresholds, fallback, pairs).
    ``precise`` (default: any source but ``prior``, whose maps paint whole body and object parts): the
    selected vertices are the touching regions themselves (see ``ContactSet.precise``)."""
    hp = np.clip(np.nan_to_num(np.asarray(human_prob, np.float64).reshape(-1)), 0.0, 1.0)
    op = np.clip(np.nan_to_num(np.asarray(object_prob, np.float64).reshape(-1)), 0.0, 1.0)
    if len(hp) != len(body.vertices):
        raise InputError(f"{source}: {len(hp)} human contact values for a body of {len(body.vertices)} vertices")
    if len(op) != len(mesh.vertices):
        raise InputError(f"{source}: {len(op)} object contact values for an object mesh of {len(mesh.vertices)} vertices")
    if not (hp > 0).any():
        raise InputError(f"{source}: no body vertex has a positive contact probability; nothing to fit against "
                         "(use --contacts-from prior)")  # fmt: skip
    h_idx = _select(hp, cfg.human_threshold, cfg)
    o_idx = _select(op, cfg.object_threshold, cfg) if (op > 0).any() else np.arange(len(op))
    pairs, members = derive_pairs(h_idx, o_idx, hp, op, body, mesh, cfg)
    if not pairs:
        raise InputError(f"{source}: no usable contact pair")
    return ContactSet(
        human_vertices=np.concatenate([h for h, _ in members]).astype(np.int64),
        object_vertices=np.concatenate([o for _, o in members]).astype(np.int64),
        pairs=pairs,
        pair_of_human_vertex=np.concatenate([np.full(len(h), k, np.int16) for k, (h, _) in enumerate(members)]),
        pair_of_object_vertex=np.concatenate([np.full(len(o), k, np.int16) for k, (_, o) in enumerate(members)]),
        source=source,
        human_prob=hp.astype(np.float32),
        object_prob=op.astype(np.float32),
        precise=(source != "prior") if precise is None else precise,
    )


def _lift_side(views: ViewSet, maps: Sequence[np.ndarray], threshold: float | None, cfg: RLLConfig) -> np.ndarray:
    score, seen = lift(views, maps, threshold=threshold, threshold_mode=cfg.threshold_mode)
    if cfg.fill_unseen:
        score = fill_unseen(score, seen, views.faces)
    return score


def contacts_from_localization(loc: Localization, body: BodyFit, mesh: ObjectMesh, cfg: RLLConfig = RLLConfig()) -> ContactSet:
    """Lift the localizer's maps (unless it gave per-vertex probabilities) and build the ContactSet."""
    if loc.human_prob is not None:
        hp = loc.human_prob
    elif loc.human_views is not None and loc.human_maps is not None:
        hp = _lift_side(loc.human_views, loc.human_maps, None, cfg)
    else:
        raise ValueError(f"{loc.source}: localization has neither human maps nor probabilities")
    if loc.object_prob is not None:
        op = loc.object_prob
    elif loc.object_views is not None and loc.object_maps is not None:
        op = _lift_side(loc.object_views, loc.object_maps, cfg.object_pixel_threshold, cfg)
    else:
        raise ValueError(f"{loc.source}: localization has neither object maps nor probabilities")
    return contacts_from_probabilities(hp, op, body, mesh, loc.source, cfg)


# ------------------------------------------------------------------------------------ localizers


def paint(views: ViewSet, scores: np.ndarray, blur_px: float = 0.0) -> tuple[np.ndarray, ...]:
    """Vertex scores -> one float32 map per view (inverse lift), optionally Gaussian-blurred."""
    maps = unlift(views, scores)
    if blur_px > 0:
        import cv2

        maps = [np.clip(cv2.GaussianBlur(m, (0, 0), float(blur_px)), 0.0, 1.0) for m in maps]
    return tuple(m.astype(np.float32) for m in maps)


def indicator(num_vertices: int, idx: np.ndarray) -> np.ndarray:
    """(V,) float32: 1 at ``idx``, 0 elsewhere."""
    s = np.zeros(num_vertices, np.float32)
    s[np.asarray(idx, np.int64)] = 1.0
    return s


class PriorLocalizer:
    """``prior``: the offline estimate (category priors narrowed by image evidence,
    :func:`hoirecon.contact.priors.infer_contacts`) painted into the views by the inverse lift."""

    name = "prior"

    def __init__(self, body_model, config: RLLConfig = RLLConfig(), contact_config=None) -> None:
        from hoirecon.contact.priors import ContactConfig

        self.body_model = body_model
        self.config = config
        self.contact_config = contact_config or ContactConfig()

    def __call__(self, image: ImageInput, detections: Detections, body: BodyFit, object_mesh: ObjectMesh,
                 label: str) -> Localization:  # fmt: skip
        from hoirecon.contact.priors import infer_contacts

        person = detections.person
        diag = float(np.hypot(person.box.width, person.box.height))
        c = infer_contacts(body, object_mesh, detections.object, image.camera, diag, self.contact_config)
        hv = render_human_views(self.body_model, size=self.config.size)
        if hv.num_vertices != len(body.vertices):
            raise InputError(f"prior: the body model renders {hv.num_vertices} vertices, the body has {len(body.vertices)}")
        ov = render_object_views(object_mesh, size=self.config.size)
        blur = self.config.blur_px
        return Localization(
            source="prior",
            human_views=hv,
            object_views=ov,
            human_maps=paint(hv, indicator(hv.num_vertices, c.human_vertices), blur),
            object_maps=paint(ov, indicator(ov.num_vertices, c.object_vertices), blur),
            details={"prior_pairs": [list(p) for p in c.pairs]},
        )


def make_localizer(name: str, *, body_model=None, contacts_dir: str | None = None, interactvlm_repo: str | None = None,
                   work_dir: str | None = None, config: RLLConfig = RLLConfig(), contact_config=None,
                   python: str | None = None) -> Localizer:  # fmt: skip
    """A localizer by name (``CONTACT_SOURCES``), with the arguments it needs checked up front."""
    if name == "prior":
        if body_model is None:
            raise ValueError("the prior localizer needs the body model")
        return PriorLocalizer(body_model, config, contact_config)
    if name == "interactvlm-import":
        from hoirecon.contact.interactvlm import InteractVLMImport

        if not contacts_dir:
            raise InputError("--contacts-from interactvlm-import needs --contacts DIR (InteractVLM demo outputs)")
        return InteractVLMImport(contacts_dir)
    if name == "interactvlm-run":
        from hoirecon.contact.interactvlm import InteractVLMRun

        if not interactvlm_repo:
            raise InputError("--contacts-from interactvlm-run needs --interactvlm-repo DIR (an InteractVLM checkout)")
        return InteractVLMRun(interactvlm_repo, work_dir=work_dir or contacts_dir, python=python)
    raise InputError(f"unknown contact source '{name}'; use one of {', '.join(CONTACT_SOURCES)}")


def infer_contacts_rll(localizer: Localizer, image: ImageInput, detections: Detections, body: BodyFit,
                       mesh: ObjectMesh, label: str | None = None, config: RLLConfig = RLLConfig()
                       ) -> tuple[ContactSet, Localization]:  # fmt: skip
    """localizer -> lift -> ContactSet. Returns the contacts and the localization (for pictures)."""
    loc = localizer(image, detections, body, mesh, label or detections.object.label or mesh.category)
    return contacts_from_localization(loc, body, mesh, config), loc


def summary(contacts: ContactSet) -> dict[str, Any]:
    """Small JSON-ready description of a ContactSet (pairs and counts)."""
    return {
        "source": contacts.source,
        "pairs": [list(p) for p in contacts.pairs],
        "human_vertices": int(len(np.unique(contacts.human_vertices))),
        "object_vertices": int(len(np.unique(contacts.object_vertices))),
    }
