"""The user's own mesh folders: ``--mesh-dir DIR`` (repeatable) and ``HOIRECON_MESH_DIRS`` (folders
separated by ``os.pathsep``), searched for OBJ / GLB / GLTF / PLY / STL files.

Each file may have a sidecar ``NAME.json`` next to it (``chair_01.glb`` -> ``chair_01.json``)::

    {"label": "office chair", "synonyms": ["desk chair"], "size_m": 1.05, "up": "+y", "category": "chair",
     "parts": {"seat": ["Seat*", "cushion"], "backrest": ["Back*"]}}

all keys optional: ``label`` (default: the file name, ``_``/``-`` -> space), ``synonyms``, ``size_m``
(largest extent in metres; default: the category's), ``up`` (``+y`` glTF's default, or ``+z``, CAD's
and Blender's), ``category`` (the library category whose parts and interaction modes it takes;
default: the one its label resolves to by name, synonym or typo, else the ``proxy``'s generic parts
from the geometry: the thin graspable regions as ``grip``, ``top``, ``bottom``, ``body``), ``parts``
(the file's own parts by its named groups, OBJ ``o``/``g`` names or glTF node names as Blender
exports its objects: ``"groups"`` makes every group a part of its name, a mapping ``{part: [group
name or fnmatch pattern, ...]}`` names them; a part named as one of the category's (``seat``) takes
that part's contacts and modes; vertices of unnamed groups keep the parts above).

Matching a label (:func:`match_mesh`): the file whose label or synonyms equal it (normalised as the
library's labels), else the best text-embedding match above the library's threshold
(``label_matching.json``). The pipeline asks the folders first by name, then the library by name,
synonym or typo, then the folders by embedding, then the library by embedding, then builds a proxy.
A broken sidecar is skipped with a notice when the folder is scanned; a mesh file that fails to load
is skipped with a notice and the next best match is tried.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from hoirecon.errors import InputError, first_line, shown
from hoirecon.objects import catalog

__all__ = ["MESH_SUFFIXES", "MeshEntry", "mesh_dirs", "scan", "match_mesh"]

MESH_SUFFIXES = (".obj", ".glb", ".gltf", ".ply", ".stl")
_KEYS = {"label", "synonyms", "size_m", "up", "category", "parts"}


@dataclass(frozen=True)
class MeshEntry:
    """One mesh file of a mesh folder with what its sidecar says (see the module docstring)."""

    path: Path
    label: str
    synonyms: tuple[str, ...] = ()
    size_m: float | None = None
    up: str = "+y"
    category: str | None = None
    parts: object = None  # "groups" or {part: (pattern, ...)}; None: parts from the category / geometry

    @property
    def names(self) -> tuple[str, ...]:
        return (self.label, *self.synonyms)


def mesh_dirs(given: list[str | Path] | tuple = ()) -> list[Path]:
    """The folders to search: ``given`` (``--mesh-dir``), then ``HOIRECON_MESH_DIRS``. InputError for a
    given folder that does not exist."""
    out = []
    for d in given:
        p = Path(d)
        if not p.is_dir():
            raise InputError(f"--mesh-dir {shown(p)}: no such folder")
        out.append(p)
    for d in os.environ.get("HOIRECON_MESH_DIRS", "").split(os.pathsep):
        if d.strip() and Path(d).is_dir():
            out.append(Path(d))
    return out


def _sidecar(mesh: Path) -> dict:
    side = mesh.with_suffix(".json")
    if not side.is_file():
        return {}
    data = json.loads(side.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    unknown = set(data) - _KEYS
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)} (known: {sorted(_KEYS)})")
    if "size_m" in data and not (isinstance(data["size_m"], (int, float)) and data["size_m"] > 0):
        raise ValueError(f"size_m must be a positive number of metres, got {data['size_m']!r}")
    if data.get("up", "+y") not in ("+y", "+z"):
        raise ValueError(f"up must be '+y' or '+z', got {data['up']!r}")
    if "category" in data and data["category"] not in catalog.category_keys():
        raise ValueError(f"unknown category {data['category']!r}")
    parts = data.get("parts", "groups")
    ok = parts == "groups" or (isinstance(parts, dict) and parts and all(
        isinstance(k, str) and k and (isinstance(v, str) or (isinstance(v, list) and v and all(isinstance(x, str) for x in v)))
        for k, v in parts.items()))  # fmt: skip
    if not ok:
        raise ValueError('parts must be "groups" or {part: [group name or pattern, ...]}')
    return data


def scan(dirs: list[Path], notice=None) -> list[MeshEntry]:
    """Every mesh file in ``dirs`` (not recursive), sorted by path; files whose sidecar is broken are
    skipped with ``notice(message)``."""
    out = []
    for d in dirs:
        for p in sorted(d.iterdir()):
            if not p.is_file() or p.suffix.lower() not in MESH_SUFFIXES:
                continue
            try:
                side = _sidecar(p)
            except (ValueError, OSError) as err:
                if notice is not None:
                    notice(f"mesh folder: skipped {shown(p)}: its sidecar {shown(p.with_suffix('.json').name)}: {first_line(err)}")
                continue
            label = str(side.get("label") or p.stem.replace("_", " ").replace("-", " "))
            out.append(MeshEntry(path=p, label=label, synonyms=tuple(side.get("synonyms", ())),
                                 size_m=float(side["size_m"]) if "size_m" in side else None,
                                 up=side.get("up", "+y"), category=side.get("category"),
                                 parts=side.get("parts")))  # fmt: skip
    return out


def match_mesh(label: str, entries: list[MeshEntry], *, by_embedding: bool = True) -> list[tuple[MeshEntry, str, float | None]]:
    """The entries that match ``label``, best first: ``(entry, "mesh-dir name", None)`` for those whose
    label or synonyms equal it (normalised), else, with ``by_embedding``, ``(entry, "mesh-dir
    embedding", cosine)`` for those at or above the library's threshold."""
    norm = catalog.normalise_label
    name = norm(label)
    exact = [(e, "mesh-dir name", None) for e in entries if name in {norm(n) for n in e.names}]
    if exact or not by_embedding or not entries:
        return exact
    from hoirecon.objects import embedding

    if not embedding.available():
        return []
    try:
        import numpy as np

        texts = [norm(n) for e in entries for n in e.names]
        owner = [i for i, e in enumerate(entries) for _ in e.names]
        sims = embedding.embed(texts) @ embedding.embed([name])[0]
        best = np.full(len(entries), -np.inf)
        np.maximum.at(best, np.asarray(owner), sims)
    except Exception:  # a broken model install must not break the rest
        return []
    thr = embedding.default_threshold()
    order = [int(i) for i in np.argsort(-best, kind="stable") if best[i] >= thr]
    return [(entries[i], "mesh-dir embedding", float(best[i])) for i in order]
