"""From a :class:`~hoirecon.contact.records.Localization` to the :class:`ContactSet` the fitter consumes.

:func:`contacts_from_localization` lifts the source's 2D maps to vertices (``hoirecon.contact.lift``),
unless the source gave per-vertex probabilities, and :func:`contacts_from_probabilities` builds the
ContactSet:

* ``human_prob`` / ``object_prob``: per-vertex probabilities on the full meshes;
* ``human_vertices``: ``human_prob >= human_threshold`` (0.5); ``object_vertices``:
  ``object_prob >= object_threshold`` (0.3), or the top ``top_fraction`` of the object's vertices
  when none reaches it (likewise for the body, when some probability is positive);
* ``pairs``: the fitter attracts body and object vertices of the same pair only, so the selected
  vertices are grouped by body part and by object part; body-part groups holding less than
  ``min_part_fraction`` of the selected probability x surface area (area, not vertex count: Anny's
  hands are far denser than its back) are dropped as noise (the largest group always stays); each
  body part is paired with the object parts that the interaction mode asked for (``contacts.json``)
  pairs it with, if any of them was selected, else with those any mode of the category pairs it with,
  else with the selected object part of largest mass (a straddled bicycle's hands hold the handlebar,
  not the frame that carrying it would have them hold);
* ``precise``: the source's declaration (``Localization.precise``).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from hoirecon.contact.config import RLLConfig
from hoirecon.contact.lift import fill_unseen, lift
from hoirecon.contact.priors import contact_priors
from hoirecon.contact.records import Localization
from hoirecon.contact.render import ViewSet
from hoirecon.errors import InputError
from hoirecon.geometry.mesh import face_areas
from hoirecon.types import BodyFit, ContactSet, ObjectMesh

__all__ = [
    "vertex_areas",
    "derive_pairs",
    "contacts_from_probabilities",
    "contacts_from_localization",
    "summary",
]


def _select(prob: np.ndarray, threshold: float, cfg: RLLConfig) -> np.ndarray:
    """Indices with ``prob >= threshold``, else the top fraction (only among positive values)."""
    sel = np.flatnonzero(prob >= threshold)
    if len(sel):
        return sel
    k = min(len(prob), max(int(cfg.min_top), int(np.ceil(cfg.top_fraction * len(prob)))))
    order = np.argsort(-prob, kind="stable")[:k]
    return np.sort(order[prob[order] > 0])


def _prior_pairs(category: str, mode: str | None = None) -> list[tuple[str, str]]:
    """Every (body part, object part) pair of the category's interaction mode ``mode`` (None: of any
    of its modes); none for an unknown category or mode."""
    entry = contact_priors().get(category)
    modes = [m for m in entry["modes"] if mode is None or m["name"] == mode] if entry else []
    return list(dict.fromkeys((p["body"], p["object"]) for m in modes for p in m["pairs"]))


def vertex_areas(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V,) float64: a third of the area of the triangles around each vertex."""
    f = np.asarray(faces, np.int64).reshape(-1, 3)
    a = face_areas(vertices, f)
    return np.bincount(f.ravel(), np.repeat(a / 3.0, 3), minlength=len(vertices))


def _groups(idx: np.ndarray, part_of_vertex: np.ndarray, names: Sequence[str], weight: np.ndarray) -> list[tuple[str, np.ndarray, float]]:
    """``[(part name, vertex indices, summed weight)]`` of the selected vertices, largest first."""
    parts = np.asarray(part_of_vertex)[idx]
    out = []
    for k in np.unique(parts):
        sel = idx[parts == k]
        out.append((str(names[int(k)]), sel, float(weight[sel].sum())))
    return sorted(out, key=lambda g: (-g[2], g[0]))


def derive_pairs(human_idx: np.ndarray, object_idx: np.ndarray, human_prob: np.ndarray, object_prob: np.ndarray,
                 body: BodyFit, mesh: ObjectMesh, cfg: RLLConfig = RLLConfig(), mode: str | None = None):  # fmt: skip
    """Group selected vertices into (body part, object part) pairs; see the module docstring
    (``mode``: the interaction mode the contacts are for, None when the source does not say).
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
    own = _prior_pairs(mesh.category, mode) if mode is not None else []
    prior = _prior_pairs(mesh.category)
    pairs: list[tuple[str, str]] = []
    members: list[tuple[np.ndarray, np.ndarray]] = []
    for bname, bverts, _ in hg:
        targets = [o for b, o in own if b == bname and o in obj] or [o for b, o in prior if b == bname and o in obj]
        targets = list(dict.fromkeys(targets)) or [og[0][0]]
        for oname in targets:
            pairs.append((bname, oname))
            members.append((bverts, obj[oname]))
    return tuple(pairs), members


def contacts_from_probabilities(human_prob: np.ndarray, object_prob: np.ndarray, body: BodyFit, mesh: ObjectMesh,
                                source: str, cfg: RLLConfig = RLLConfig(), precise: bool = True,
                                mode: str | None = None) -> ContactSet:  # fmt: skip
    """Per-vertex probabilities on both meshes -> ContactSet (thresholds, fallback, pairs).
    ``precise``: the selected vertices are the touching regions themselves (see ``ContactSet.precise``;
    the source's own ``precise``: False for the prior, whose maps paint whole body and object parts).
    ``mode``: the interaction mode the probabilities are for (its pairs come first; :func:`derive_pairs`)."""
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
    pairs, members = derive_pairs(h_idx, o_idx, hp, op, body, mesh, cfg, mode)
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
        precise=bool(precise),
    )


def _lift_side(views: ViewSet, maps: Sequence[np.ndarray], threshold: float | None, cfg: RLLConfig) -> np.ndarray:
    score, seen = lift(views, maps, threshold=threshold, threshold_mode=cfg.threshold_mode)
    if cfg.fill_unseen:
        score = fill_unseen(score, seen, views.faces)
    return score


def contacts_from_localization(loc: Localization, body: BodyFit, mesh: ObjectMesh, cfg: RLLConfig = RLLConfig(),
                               mode: str | None = None) -> ContactSet:  # fmt: skip
    """Lift the source's maps (unless it gave per-vertex probabilities) and build the ContactSet
    (``ContactSet.precise`` from ``loc.precise``; ``mode``: the interaction mode asked of the source)."""
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
    return contacts_from_probabilities(hp, op, body, mesh, loc.source, cfg, precise=loc.precise, mode=mode)


def summary(contacts: ContactSet) -> dict[str, Any]:
    """Small JSON-ready description of a ContactSet (pairs and counts)."""
    return {
        "source": contacts.source,
        "pairs": [list(p) for p in contacts.pairs],
        "human_vertices": int(len(np.unique(contacts.human_vertices))),
        "object_vertices": int(len(np.unique(contacts.object_vertices))),
    }
