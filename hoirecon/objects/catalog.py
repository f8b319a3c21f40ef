"""The object category table, ``hoirecon/data/objects.json``: one entry per category, everything the
rest of the package needs to know about an object, and for most categories its geometry as data.

Each entry (key = category name, ``snake_case``; keys starting with ``_`` are comments)::

    "synonyms":    labels that mean this category (lower case), matched after the key itself;
    "size_m":      typical largest bounding-box extent in metres (the library mesh is built at it);
    "size_source": the kind of fact ``size_m`` is (see SIZE_SOURCES): "standard" (a rule or norm fixes
                   it: a regulation frisbee or barbell, a standard mattress, a 60 cm kitchen appliance
                   slot), "manufacturer" (typical dimensions of common products, from product data
                   sheets), "ergonomics" (set by the human body: seat and counter heights, tool and
                   handle lengths, worn things), "anatomy" (an animal's typical adult size, from breed
                   standards and zoological references);
    "size_note":   optional, the fact itself in words ("regulation disc, 27.5 cm across");
    "scale_sigma": std of the log-scale prior around ``size_m``;
    "symmetry":    "none" | "mirror_x" | "rot_y" | "sphere" (in the canonical object frame);
    "pose_prior":  "upright" (stands on the ground: the fit starts from, and keeps, rotations about
                   the vertical, about gravity's up when the photo gives one) | "any" (hand-held:
                   starts over the whole sphere);
    "support":     "floor" (rests on the floor: its lowest points, e.g. a chair's four leg tips, lie on
                   the floor the person stands on) | "either" (on the floor or carried: held to the
                   floor only when the fit puts it within reach of it: a suitcase, a skateboard) |
                   "none" (held, worn or on the body: never pulled to the floor);
    "parts":       the part names of the procedural mesh, in part-index order: at least two parts
                   that people touch, or one with ``parts_note`` saying why one is all there is;
    "parts_note":  optional, why the category has a single part (a ball is all surface);
    "shape":       optional, the geometry as data (below); categories without it have a Python
                   builder in :mod:`hoirecon.objects.models` (not both).
    "variants":    optional, other common makes of the category, each a mesh of its own that the
                   pipeline retrieves by analysis by synthesis (``hoirecon.pipeline.retrieve_make``):
                   a list of ``{"name", "about", "synonyms" (labels that name this make: "office
                   chair"), "size_m", "size_note", "shape", "part_aliases"}``; ``shape`` as below, its
                   parts a subset of the entry's; ``part_aliases`` (optional) ``{missing part: part it
                   has}``, where a contact pair of a missing part goes (a camp stool has no backrest:
                   a hand on it or a carry grips the seat). The entry's own mesh is the variant
                   ``"default"``.

``shape``: a list of pieces, each one closed surface of one part (several pieces may share a part),
in the builders' frame: metres at real-world size, y up, the floor at y = 0, the front toward +z (the
side a person faces or uses: a couch's seat, a television's screen, a guitar's soundboard; for things
that move, their nose: an animal's head, a cart's or a stroller's front wheels), x across.
Every piece is built around its own local origin, then turned by ``rot_deg`` and moved by ``at``::

    {"part": "seat", "prim": "box", "size": [0.6, 0.1, 0.55], "at": [0, 0.4, 0.05]}
    {"part": "legs", "prim": "cylinder", "from": [0.25, 0, 0.2], "to": [0.25, 0.4, 0.2], "radius": 0.02,
     "mirror": ["x", "z"]}

    fields of every piece:
    "part"      one of the entry's parts;
    "prim"      the primitive (below);
    "at"        [x, y, z] where the local origin goes (default [0, 0, 0]);
    "rot_deg"   [rx, ry, rz] degrees: turned about x, then y, then z (fixed axes through the local
                origin; right hand: rx > 0 turns +y toward +z), before ``at``;
    "mirror"    axes among "x", "y", "z": the piece is also copied reflected in the plane x = 0 (y = 0,
                z = 0) of the builders' frame; with several axes every combination (["x", "z"]: four
                legs from one);
    "spacing"   the largest vertex distance in metres (default: the entry's size_m / 30);
    "segments"  vertices around round prims (default: the circumference over the spacing, 8 to 32).

    primitives and their fields (local frame):
    "box"          size [w, h, d], centred on the origin;
    "rounded_box"  size, exponent (default 6): a superellipsoid, a box with rounded edges;
    "ellipsoid"    size (full extents);
    "sphere"       radius;
    "cylinder"     from, to [x, y, z], radius: flat ends;
    "capsule"      from, to, radius: round ends (they reach ``radius`` beyond from / to);
    "cone"         from, to, radius [r_from, r_to] (one may be 0, a point): a truncated cone;
    "tube"         path [[x, y, z], ...], radius (r or [r_normal, r_binormal]), caps "round" (default)
                   | "flat", closed (a loop, default false);
    "arc"          arc_radius, radius, from_deg, to_deg: a tube along a circular arc about the origin in
                   the local x-y plane, angles from +x toward +y (a bucket's bail, a bag's handle);
    "torus"        major, minor (r, or [along the axis, radial]: a flat rim), axis (default [0, 1, 0]:
                   lying flat);
    "lathe"        profile [[y, r], ...] turned about the local y axis, r = 0 at both ends;
    "vessel"       outer [[y, r], ...] the outer wall from the bottom up to the rim (r > 0), wall, floor
                   (thicknesses): an open-topped hollow turned about y (bowl, bucket, vase, pot);
    "board"        length (z), width (x), thickness (y), plan_exponent [tail, nose], section_exponent,
                   thickness_exponent, lift [[u, dy], ...] the centre line's height, piecewise linear in
                   u = 2 z / length in [-1, 1] (a snowboard's raised tips);
    "prism"        outline [[x, y], ...] (star-shaped about its centroid), depth: the outline in the
                   local x-y plane extruded along z, centred (a guitar body, a knife blade).

:func:`hoirecon.objects.models.shape_pieces` builds and checks a ``shape`` (errors name the category
and the piece); ``hoirecon.objects.library`` then turns it into the canonical object frame and scales
its largest extent to ``size_m`` (the data are at real size, within 5 % of ``size_m``: a test checks).
Who touches which part is in ``contacts.json`` (:mod:`hoirecon.contact.priors`).

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

__all__ = ["SYMMETRIES", "POSE_PRIORS", "SUPPORTS", "SIZE_SOURCES", "ObjectProperties", "categories",
           "category_keys", "entry", "shape_spec", "variants", "normalise_label"]

SYMMETRIES = ("none", "mirror_x", "rot_y", "sphere")
POSE_PRIORS = ("upright", "any")
SUPPORTS = ("floor", "either", "none")
SIZE_SOURCES = ("standard", "manufacturer", "ergonomics", "anatomy")
_REQUIRED = ("synonyms", "size_m", "size_source", "scale_sigma", "symmetry", "pose_prior", "support", "parts")
_OPTIONAL = ("size_note", "parts_note", "shape", "variants")
_VARIANT_REQUIRED = ("name", "about", "synonyms", "size_m", "shape")
_VARIANT_OPTIONAL = ("size_note", "part_aliases")


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
    size_source: str

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
    table = {k: v for k, v in json.loads(_read_table_text()).items() if not k.startswith("_")}
    for key, item in table.items():
        missing = set(_REQUIRED) - set(item)
        if missing:
            raise ValueError(f"objects.json: category '{key}' lacks {sorted(missing)}")
        unknown = set(item) - set(_REQUIRED) - set(_OPTIONAL)
        if unknown:
            raise ValueError(f"objects.json: category '{key}' has unknown fields {sorted(unknown)}")
        if item["size_source"] not in SIZE_SOURCES:
            raise ValueError(f"objects.json: category '{key}' has size_source '{item['size_source']}', "
                             f"not one of {', '.join(SIZE_SOURCES)}")
        if len(item["parts"]) < 2 and not item.get("parts_note"):
            raise ValueError(f"objects.json: category '{key}' has one part and no parts_note saying why")
        if len(set(item["parts"])) != len(item["parts"]):
            raise ValueError(f"objects.json: category '{key}' names a part twice")
        if "shape" in item and not (isinstance(item["shape"], list) and item["shape"]):
            raise ValueError(f"objects.json: category '{key}': shape must be a non-empty list of pieces")
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
        _check_variants(key, item)
    return table


def _check_variants(key: str, item: dict) -> None:
    """``ValueError`` naming the category and the variant for a malformed ``variants`` list."""
    names = ["default"]
    for i, v in enumerate(item.get("variants", [])):
        where = f"objects.json: category '{key}', variant {i} ('{v.get('name')}')"
        missing = set(_VARIANT_REQUIRED) - set(v)
        unknown = set(v) - set(_VARIANT_REQUIRED) - set(_VARIANT_OPTIONAL)
        if missing or unknown:
            raise ValueError(f"{where}: lacks {sorted(missing)} / has unknown fields {sorted(unknown)}")
        if v["name"] in names:
            raise ValueError(f"{where}: the name is taken")
        names.append(v["name"])
        if not float(v["size_m"]) > 0 or not (isinstance(v["shape"], list) and v["shape"]):
            raise ValueError(f"{where}: needs size_m > 0 and a non-empty shape")
        aliases = v.get("part_aliases", {})
        if any(a not in item["parts"] or b not in item["parts"] for a, b in aliases.items()):
            raise ValueError(f"{where}: part_aliases must map the entry's parts to the entry's parts")


@functools.lru_cache(maxsize=1)
def _records() -> dict[str, ObjectProperties]:
    return {
        key: ObjectProperties(
            key=key,
            # a make's labels name the category too ("office chair" is a chair), after its own synonyms
            synonyms=tuple(dict.fromkeys([*item["synonyms"], *(syn for v in item.get("variants", []) for syn in v["synonyms"])])),
            size_m=float(item["size_m"]),
            scale_sigma=float(item["scale_sigma"]),
            symmetry=str(item["symmetry"]),
            pose_prior=str(item["pose_prior"]),
            support=str(item["support"]),
            parts=tuple(item["parts"]),
            size_source=str(item["size_source"]),
        )
        for key, item in _raw().items()
    }


def categories() -> dict[str, dict]:
    """The table as read: ``{key: {"synonyms", "size_m", "size_source", "scale_sigma", "symmetry",
    "pose_prior", "support", "parts", ...}}`` in file order, without the ``_`` comment keys (a copy;
    the file is read once)."""
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


def shape_spec(key: str) -> list[dict] | None:
    """The ``shape`` pieces of category ``key`` (a copy), or None when its geometry is a Python
    builder. Raises ``InputError`` for an unknown key."""
    entry(key)
    spec = _raw()[key].get("shape")
    return copy.deepcopy(spec) if spec is not None else None


def variants(key: str) -> list[dict]:
    """The ``variants`` of category ``key`` (copies; see the module docstring), ``[]`` when it has
    none. Raises ``InputError`` for an unknown key."""
    entry(key)
    return copy.deepcopy(_raw()[key].get("variants", []))


def normalise_label(text: str) -> str:
    """A label as it is matched: lower case, ``_`` / ``-`` -> space, runs of blanks -> one space."""
    return re.sub(r"\s+", " ", re.sub(r"[_\-]+", " ", str(text).strip().lower())).strip()
