"""Contact pictures and data: InteractVLM-style 2x2 view grids, contact-coloured meshes, sparse JSON.

``human_contacts.png`` / ``object_contacts.png``: the four Render-Localize-Lift views of the canonical
body (Vitruvian pose) and of the normalised object (``hoirecon.contact.render``), grey Lambert-shaded,
with the contact probability painted in red (the per-vertex probabilities interpolated into each view,
the inverse lift), laid out like InteractVLM's demo grid: views 0 | 1 over 2 | 3 (human: topfront,
bottomfront / topback, bottomback; object: frontleft, frontright / backleft, backright), each view
named in its corner.

``write_contact_outputs`` writes both pictures atomically; ``contact_probabilities_json`` is the
sparse record for ``params.json``.

Where the views come from (:func:`contact_view_sets`), so that export needs no body model: the
Reconstruction's ``contact_views = (human, object)``, as the contact stage made them. Each entry is a
:class:`~hoirecon.contact.render.ViewSet` (drawn as it is: the views the contacts were localized in,
the body in its canonical open pose), or a canonical-frame mesh ``(vertices (V, 3), faces (F, 3))``
(or any record with ``.vertices``/``.faces``, e.g. the open-pose body a localizer that gives
per-vertex values records), rendered here with the standard views
(:func:`~hoirecon.contact.render.render_body_views` / ``render_object_views``), or None. For None:
the object is rendered from the fitted object's mesh (the same picture as its ViewSet); the body is
drawn as fitted (its camera frame taken as the canonical frame), since its open pose needs the body
model.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from hoirecon import fsutil
from hoirecon.contact.lift import unlift
from hoirecon.contact.render import ViewSet, render_body_views, render_human_views, render_object_views
from hoirecon.types import BodyFit, ContactSet, ObjectMesh, Reconstruction

__all__ = [
    "CONTACT_FILES",
    "CONTACT_RED",
    "contact_colors",
    "vertex_probabilities",
    "contact_grid",
    "write_contact_outputs",
    "contact_view_sets",
    "contact_probabilities_json",
]

CONTACT_FILES = ("human_contacts.png", "object_contacts.png")
CONTACT_RED = (235, 38, 26)  # InteractVLM's mask colour (1.0, 0.15, 0.10)
_GREY = (0.85, 0.85, 0.85)


def contact_colors(prob: np.ndarray, base=(200, 200, 200), contact=CONTACT_RED) -> np.ndarray:
    """(V, 3) uint8 per-vertex colours: ``base`` blended toward ``contact`` by the probability."""
    p = np.clip(np.nan_to_num(np.asarray(prob, np.float64).reshape(-1)), 0.0, 1.0)[:, None]
    rgb = np.asarray(base, np.float64)[None] * (1 - p) + np.asarray(contact, np.float64)[None] * p
    return np.clip(np.round(rgb), 0, 255).astype(np.uint8)


def vertex_probabilities(contacts: ContactSet, side: str, num_vertices: int) -> np.ndarray:
    """(V,) float64 probabilities of one side ("human"/"object"): ``*_prob`` when present (and of the
    right length), else 1 on the contact vertices and 0 elsewhere."""
    prob = contacts.human_prob if side == "human" else contacts.object_prob
    idx = contacts.human_vertices if side == "human" else contacts.object_vertices
    if prob is not None and len(np.asarray(prob).reshape(-1)) == num_vertices:
        return np.clip(np.nan_to_num(np.asarray(prob, np.float64).reshape(-1)), 0.0, 1.0)
    p = np.zeros(num_vertices)
    p[np.asarray(idx, np.int64)] = 1.0
    return p


def _shading(views: ViewSet) -> list[np.ndarray]:
    """Per view (H, W) float32 Lambert term ``0.35 + 0.65 |n_face . view|`` (0 on the background)."""
    v = views.vertices.astype(np.float64)
    f = views.faces
    fn = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    fn /= np.maximum(np.linalg.norm(fn, axis=1, keepdims=True), 1e-12)
    out = []
    for view in views:
        tri = view.tri_id
        s = np.zeros(tri.shape, np.float32)
        hit = tri >= 0
        s[hit] = 0.35 + 0.65 * np.abs(fn[tri[hit]] @ view.R[2])
        out.append(s)
    return out


def contact_grid(views: ViewSet, prob: np.ndarray, tile: int = 512, strength: float = 0.85,
                 labels: bool = True) -> np.ndarray:  # fmt: skip
    """(2 tile, 2 tile, 3) uint8 grid of the first four views: grey shading, red by probability."""
    import cv2

    maps = unlift(views, prob)
    red = np.asarray(CONTACT_RED, np.float32) / 255.0
    tiles = []
    for view, shade, p in zip(views, _shading(views), maps):
        hit = (view.tri_id >= 0)[..., None]
        base = shade[..., None] * np.asarray(_GREY, np.float32)
        w = (strength * np.clip(p, 0.0, 1.0))[..., None]
        rgb = np.where(hit, base * (1 - w) + red * w, 1.0)
        img = np.clip(np.round(rgb * 255.0), 0, 255).astype(np.uint8)
        if img.shape[0] != tile:
            img = cv2.resize(img, (tile, tile), interpolation=cv2.INTER_AREA)
        if labels:
            cv2.putText(img, view.name, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (90, 90, 90), 1, cv2.LINE_AA)
        tiles.append(img)
    while len(tiles) < 4:
        tiles.append(np.full((tile, tile, 3), 255, np.uint8))
    return np.concatenate([np.concatenate(tiles[0:2], 1), np.concatenate(tiles[2:4], 1)], 0)


def _write_png(path: Path, rgb: np.ndarray) -> None:
    from PIL import Image

    with fsutil.atomic_path(path) as tmp:
        Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(tmp, format="PNG")


def _is_body_model(obj: Any) -> bool:
    return hasattr(obj, "forward") and hasattr(obj, "pose_joints")


def _mesh_arrays(entry: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """``(vertices, faces)`` of a canonical-frame mesh given as a pair or a record, else None."""
    if isinstance(entry, (tuple, list)) and len(entry) == 2:
        return np.asarray(entry[0]), np.asarray(entry[1])
    if hasattr(entry, "vertices") and hasattr(entry, "faces"):
        return np.asarray(entry.vertices), np.asarray(entry.faces)
    return None


def _human_view_set(entry: Any, fallback_body: Any) -> ViewSet:
    if isinstance(entry, ViewSet):
        return entry
    if _is_body_model(entry):
        return render_human_views(entry)
    mesh = _mesh_arrays(entry) if entry is not None else None
    if mesh is not None and not isinstance(entry, BodyFit):
        return render_body_views(*mesh)  # the canonical (open-pose) body of the contact stage
    body = entry if isinstance(entry, BodyFit) else fallback_body
    if _is_body_model(body):
        return render_human_views(body)
    if isinstance(body, BodyFit):
        return render_body_views(body.vertices, body.faces)  # drawn as fitted
    raise ValueError("write_contact_outputs: pass a body model or a BodyFit (or human_views)")


def _object_view_set(entry: Any, fallback_mesh: ObjectMesh | None) -> ViewSet:
    if isinstance(entry, ViewSet):
        return entry
    if isinstance(entry, ObjectMesh):
        return render_object_views(entry)
    mesh = _mesh_arrays(entry) if entry is not None else None
    if mesh is not None:
        return render_object_views(mesh)
    if fallback_mesh is None:
        raise ValueError("write_contact_outputs: pass the object mesh (or object_views)")
    return render_object_views(fallback_mesh)


def contact_view_sets(recon: Reconstruction) -> tuple[ViewSet, ViewSet]:
    """The (human, object) view sets the pictures of ``recon`` are drawn in (module docstring), from
    ``recon`` alone."""
    human, obj = tuple(recon.contact_views or (None, None))
    return _human_view_set(human, recon.fit.body), _object_view_set(obj, recon.fit.object.mesh)


def write_contact_outputs(
    recon_or_contacts: Reconstruction | ContactSet,
    body: Any = None,
    mesh: ObjectMesh | None = None,
    out_dir: str | os.PathLike[str] = ".",
    *,
    human_views: Any = None,
    object_views: Any = None,
    tile: int = 512,
) -> dict[str, Path]:
    """Write ``human_contacts.png`` and ``object_contacts.png`` into ``out_dir`` (each atomically).

    ``recon_or_contacts``: a Reconstruction (contacts, view sets, fitted body and object mesh taken
    from it: ``write_contact_outputs(recon, out_dir=...)`` needs nothing else) or a ContactSet.
    ``human_views`` / ``object_views``: what to draw, as in ``Reconstruction.contact_views`` (a
    ViewSet, a canonical-frame mesh, or None; see the module docstring); default the reconstruction's.
    ``body``: used where there are no human views: a body model (drawn in its canonical Vitruvian
    pose, as the views the localizers use) or a BodyFit (drawn as fitted); default the
    reconstruction's fitted body. ``mesh``: the object mesh where there are no object views; default
    the reconstruction's.
    Returns ``{"human_contacts.png": path, "object_contacts.png": path}``.
    """
    if isinstance(recon_or_contacts, Reconstruction):
        contacts = recon_or_contacts.contacts
        rh, ro = tuple(recon_or_contacts.contact_views or (None, None))
        human_views = human_views if human_views is not None else rh
        object_views = object_views if object_views is not None else ro
        body = body if body is not None else recon_or_contacts.fit.body
        mesh = mesh if mesh is not None else recon_or_contacts.fit.object.mesh
    else:
        contacts = recon_or_contacts
    hv = _human_view_set(human_views, body)
    ov = _object_view_set(object_views, mesh)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, views, side in (("human_contacts.png", hv, "human"), ("object_contacts.png", ov, "object")):
        prob = vertex_probabilities(contacts, side, views.num_vertices)
        _write_png(out / name, contact_grid(views, prob, tile=tile))
        paths[name] = out / name
    return paths


def _sparse(prob: np.ndarray | None, idx: np.ndarray, min_prob: float, decimals: int) -> dict[str, Any]:
    if prob is not None:
        p = np.clip(np.nan_to_num(np.asarray(prob, np.float64).reshape(-1)), 0.0, 1.0)
        keep = np.flatnonzero(p > min_prob)
        return {"num_vertices": int(len(p)), "indices": keep.tolist(), "probs": np.round(p[keep], decimals).tolist()}
    keep = np.unique(np.asarray(idx, np.int64))
    return {"num_vertices": None, "indices": keep.tolist(), "probs": [1.0] * len(keep)}


def contact_probabilities_json(contacts: ContactSet, min_prob: float = 0.05, decimals: int = 3) -> dict[str, Any]:
    """JSON-ready sparse per-vertex contact probabilities: for "human" and "object", the indices with
    probability above ``min_prob`` and their probabilities rounded to ``decimals`` (without
    probabilities: the contact vertices with 1.0 and ``num_vertices`` None)."""
    return {
        "source": contacts.source,
        "min_prob": float(min_prob),
        "human": _sparse(contacts.human_prob, contacts.human_vertices, min_prob, decimals),
        "object": _sparse(contacts.object_prob, contacts.object_vertices, min_prob, decimals),
    }
