"""Offline contact estimate: per-category body-part/object-part priors narrowed by image evidence.

The priors live in ``hoirecon/data/contacts.json``: per category, its interaction modes (sit, stand on,
carry, ...), each with its own pairs (``category_modes``; the first is the default; which one a photo
shows is chosen by ``hoirecon.contact.modes``). Image evidence: a body part whose projected
vertices fall on (a dilation of) the object's mask is likely to touch it; of alternative pairs (either
hand holds the cup) the best-supported is kept, optional pairs need evidence, required pairs are dropped
when their part does not come near the object's mask at all, and a kept part is narrowed to the vertices
that project onto the object when enough of them do. Settings: :class:`ContactConfig`
(``hoirecon.contact.config``; ``ContactStageConfig.prior``).
"""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import Any

import cv2
import numpy as np

from hoirecon.contact.config import ContactConfig
from hoirecon.errors import InputError
from hoirecon.types import BodyFit, CameraIntrinsics, ContactSet, ObjectDetection, ObjectMesh

__all__ = ["ContactConfig", "contact_priors", "category_modes", "category_prior", "part_evidence", "select_pairs",
           "infer_contacts"]


@lru_cache(maxsize=1)
def contact_priors() -> dict[str, Any]:
    data = json.loads(resources.files("hoirecon.data").joinpath("contacts.json").read_text())
    return {k: v for k, v in data.items() if not k.startswith("_")}


def category_modes(category: str) -> list[dict[str, Any]]:
    """The category's interaction modes (``contacts.json``), default first. Raises InputError for a
    category without one."""
    priors = contact_priors()
    if category not in priors:
        raise InputError(f"no contact prior for object category '{category}'; known: {', '.join(sorted(priors))}")
    return priors[category]["modes"]


def category_prior(category: str, mode: str | None = None) -> dict[str, Any]:
    """One interaction mode of the category (``{"name", "about", "pairs", "evidence", ...}``): ``mode``
    by name, or the default (first). Raises InputError for an unknown category or mode."""
    modes = category_modes(category)
    if mode is None:
        return modes[0]
    for m in modes:
        if m["name"] == mode:
            return m
    raise InputError(f"no interaction mode '{mode}' for '{category}'; its modes: {', '.join(m['name'] for m in modes)}")


def part_evidence(
    body: BodyFit, camera: CameraIntrinsics, object_mask: np.ndarray, person_diag: float, cfg: ContactConfig
) -> tuple[dict[str, float], np.ndarray]:
    """Per body part, the fraction of its vertices that project onto the dilated object mask.
    Also returns the (V,) bool array of body vertices that project onto it."""
    H, W = object_mask.shape
    r = max(1, int(round(cfg.dilate_frac * person_diag)))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))
    near = cv2.dilate(object_mask.astype(np.uint8), kernel) > 0
    uv = np.round(camera.project(body.vertices.astype(np.float64))).astype(np.int64)
    inside = (uv[:, 0] >= 0) & (uv[:, 0] < W) & (uv[:, 1] >= 0) & (uv[:, 1] < H)
    on = np.zeros(len(uv), bool)
    on[inside] = near[uv[inside, 1], uv[inside, 0]]
    scores = {}
    for i, name in enumerate(body.part_names):
        sel = body.part_of_vertex == i
        scores[name] = float(on[sel].mean()) if sel.any() else 0.0
    return scores, on


def select_pairs(prior: dict[str, Any], scores: dict[str, float], cfg: ContactConfig) -> list[dict[str, Any]]:
    """Apply the selection rules to the category's pairs; returns the kept pair entries."""
    kept: list[dict[str, Any]] = []
    groups: dict[str, list[dict[str, Any]]] = {}
    required = []
    for pair in prior["pairs"]:
        if "alt" in pair:
            groups.setdefault(pair["alt"], []).append(pair)
        elif pair.get("optional"):
            if scores.get(pair["body"], 0.0) >= cfg.min_evidence:
                kept.append(pair)
        else:
            required.append(pair)
    # A touching part projects onto or next to the object (the touching points are in both
    # projections), so a required part that does not come near the object's mask is not touching it.
    # Occlusion does not hide this (every vertex is projected, seen or not); if no required part is
    # near, the best-supported one is kept.
    near = [p for p in required if scores.get(p["body"], 0.0) >= cfg.min_required]
    if required and not near and not groups and not kept:
        near = [max(required, key=lambda p: scores.get(p["body"], 0.0))]
    kept.extend(near)
    for members in groups.values():
        ranked = sorted(members, key=lambda p: -scores.get(p["body"], 0.0))
        best = scores.get(ranked[0]["body"], 0.0)
        kept.append(ranked[0])
        for p in ranked[1:]:
            s = scores.get(p["body"], 0.0)
            if s >= cfg.min_evidence and s >= 0.5 * best:
                kept.append(p)
    return kept


def infer_contacts(
    body: BodyFit,
    mesh: ObjectMesh,
    obj: ObjectDetection,
    camera: CameraIntrinsics,
    person_diag: float,
    cfg: ContactConfig = ContactConfig(),
    mode: str | None = None,
) -> ContactSet:
    """Contacts on both meshes for this image (see the module docstring), with the pairs of the
    interaction ``mode`` (default: the category's first)."""
    prior = category_prior(mesh.category, mode)
    scores, on_object = part_evidence(body, camera, obj.mask, person_diag, cfg)
    kept = select_pairs(prior, scores, cfg)
    h_idx, h_pair, o_idx, o_pair, pairs = [], [], [], [], []
    for pair in kept:
        if pair["body"] not in body.part_names:
            continue
        verts = np.flatnonzero(body.part_of_vertex == body.part_names.index(pair["body"]))
        region = np.intersect1d(verts, body.regions.get(pair.get("region"), []))
        if len(region):  # the side of the part that touches: the sole on a deck, the back of the thigh
            verts = region
        overts = mesh.part_vertices(pair["object"])
        if len(verts) == 0 or len(overts) == 0:
            continue
        narrowed = verts[on_object[verts]]
        if len(narrowed) >= cfg.min_narrow:
            verts = narrowed
        k = len(pairs)
        pairs.append((pair["body"], pair["object"]))
        h_idx.append(verts)
        h_pair.append(np.full(len(verts), k, np.int16))
        o_idx.append(overts)
        o_pair.append(np.full(len(overts), k, np.int16))
    if not pairs:
        raise InputError(f"no usable contact pair for '{mesh.category}' (object parts: {', '.join(mesh.part_names)})")
    return ContactSet(
        human_vertices=np.concatenate(h_idx).astype(np.int64),
        object_vertices=np.concatenate(o_idx).astype(np.int64),
        pairs=tuple(pairs),
        pair_of_human_vertex=np.concatenate(h_pair),
        pair_of_object_vertex=np.concatenate(o_pair),
        source="prior",
    )
