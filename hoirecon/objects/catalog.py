"""The object category table, ``hoirecon/data/objects.json``: one entry per category, everything the
rest of the package needs to know about an object that is not its geometry.

Each entry (key = category name, ``snake_case``)::

    "synonyms":    labels that mean this category (lower case), matched after the key itself;
    "size_m":      typical largest bounding-box extent in metres (the library mesh is built at it);
    "scale_sigma": std of the log-scale prior around ``size_m``;
    "symmetry":    "none" | "mirror_x" | "rot_y" | "sphere" (in the canonical object frame);
    "pose_prior":  "upright" (stands on the ground: the fit starts from, and keeps, rotations about
                   the vertical, about gravity's up when the photo gives one) | "any" (hand-held:
                   starts over the whole sphere);
    "support":     "floor" (rests on the floor: its lowest points, e.g. a chair's four leg tips, lie on
                   the floor the person stands on) | "either" (on the floor or carried: held to the
                   floor only when the fit puts it within reach of it: a suitcase, a skateboard) |
                   "none" (held, worn or on the body: never pulled to the floor);
    "parts":       the part names of the procedural mesh, in part-index order.

The geometry is a builder registered under the same name in :mod:`hoirecon.objects.models`; who
touches which part is in ``contacts.json`` (:mod:`hoirecon.contact.priors`).

This module reads the file only (no label matching, no meshes), so that every other module of
``hoirecon.objects`` can import it.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from hoirecon.errors import InputError, shown

__all__ = ["SYMMETRIES", "POSE_PRIORS", "SUPPORTS", "ObjectProperties", "categories", "category_keys", "entry",
           "normalise_label"]

SYMMETRIES = ("none", "mirror_x", "rot_y", "sphere")
POSE_PRIORS = ("upright", "any")
SUPPORTS = ("floor", "either", "none")
_REQUIRED = ("synonyms", "size_m", "scale_sigma", "symmetry", "pose_prior", "support", "parts")


@dataclass(frozen=True)
class ObjectProperties:
    """One category of ``objects.json`` (see the module docstring for the fields)."""

    key: str
    synonyms: tuple[str, ...]
    size_m: float
    scale_sigma: float
    symmetry: str
    pose_prior: str
    support: str
    parts: tuple[str, ...]

    @property
    def upright(self) -> bool:
        """True when the object stands on the ground (``pose_prior == "upright"``): the fit's
        ``upright`` flag."""
        return self.pose_prior == "upright"

    @property
    def size_prior(self) -> tuple[float, float]:
        """``(size_m, scale_sigma)``."""
        return self.size_m, self.scale_sigma


def _read_table_text() -> str:
    try:
        return (resources.files("hoirecon") / "data" / "objects.json").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, TypeError, AttributeError, NotADirectoryError):
        return (Path(__file__).resolve().parent.parent / "data" / "objects.json").read_text(encoding="utf-8")


@functools.lru_cache(maxsize=1)
def _raw() -> dict[str, dict]:
    table = json.loads(_read_table_text())
    for key, item in table.items():
        missing = set(_REQUIRED) - set(item)
        if missing:
            raise ValueError(f"objects.json: category '{key}' lacks {sorted(missing)}")
        if item["symmetry"] not in SYMMETRIES:
            raise ValueError(f"objects.json: category '{key}' has unknown symmetry '{item['symmetry']}'")
        if item["pose_prior"] not in POSE_PRIORS:
            raise ValueError(f"objects.json: category '{key}' has pose_prior '{item['pose_prior']}', "
                             f"not one of {', '.join(POSE_PRIORS)}")
        if item["support"] not in SUPPORTS:
            raise ValueError(f"objects.json: category '{key}' has support '{item['support']}', "
                             f"not one of {', '.join(SUPPORTS)}")
        if not (float(item["size_m"]) > 0 and float(item["scale_sigma"]) > 0) or not item["parts"]:
            raise ValueError(f"objects.json: category '{key}' needs size_m > 0, scale_sigma > 0, parts")
    return table


@functools.lru_cache(maxsize=1)
def _records() -> dict[str, ObjectProperties]:
    return {
        key: ObjectProperties(
            key=key,
            synonyms=tuple(item["synonyms"]),
            size_m=float(item["size_m"]),
            scale_sigma=float(item["scale_sigma"]),
            symmetry=str(item["symmetry"]),
            pose_prior=str(item["pose_prior"]),
            support=str(item["support"]),
            parts=tuple(item["parts"]),
        )
        for key, item in _raw().items()
    }


def categories() -> dict[str, dict]:
    """The table as read: ``{key: {"synonyms", "size_m", "scale_sigma", "symmetry", "pose_prior",
    "parts"}}`` in file order (a copy; the file is read once)."""
    return copy.deepcopy(_raw())


def category_keys() -> tuple[str, ...]:
    """The category keys, in file order."""
    return tuple(_records())


def entry(key: str) -> ObjectProperties:
    """The record of category ``key`` (exactly a key; labels go through ``resolve_label``).
    Raises ``InputError`` for anything else."""
    records = _records()
    if key not in records:
        raise InputError(f"unknown object category '{shown(key)}'; known: {', '.join(records)}")
    return records[key]


def normalise_label(text: str) -> str:
    """A label as it is matched: lower case, ``_`` / ``-`` -> space, runs of blanks -> one space."""
    return re.sub(r"\s+", " ", re.sub(r"[_\-]+", " ", str(text).strip().lower())).strip()
