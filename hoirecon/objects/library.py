"""Object meshes: the procedural library mesh of a category and user mesh files, in one frame.

Canonical object frame (every ``ObjectMesh`` this module returns, library or user mesh):

* units are metres at real-world size (the largest bounding-box extent equals the category's
  ``size_m`` from ``hoirecon/data/objects.json``);
* y points DOWN (gravity along +y); the object rests on the floor plane y = 0 with its lowest point
  there, so it occupies y <= 0 (its top is at y = -height);
* the bounding box is centred on x and z (centre x = 0, z = 0);
* the object's front faces -z (towards a camera placed at -z looking along +z); the frame is
  right-handed like the OpenCV camera frame (x right, y down, z forward as seen by that camera):
  - chair / bench: open seat side toward -z, backrest at +z;
  - bicycle / motorcycle / skateboard / surfboard / skis: long axis along z, nose toward -z;
  - laptop: hinge on the +z side of the base, the open screen (~105 deg) faces -z;
  - suitcase: carry handle on top; backpack: straps (the side against the wearer's back) on +z;
  - tennis racket / baseball bat / umbrella: standing vertical, grip / handle at the bottom
    (near y = 0), head / barrel / canopy up (towards -y); the racket head lies in the x-y plane;
  - camera_tripod: tripod feet on the floor, camera on top, lens toward -z;
  - helmet: opening down (rim on the floor), dome up; cup handle on +x;
  - cup, bottle, bat, umbrella are rotationally symmetric about y (``symmetry="rot_y"``), the ball
    is ``"sphere"``, the rest ``"mirror_x"`` (symmetric under x -> -x).

Procedural meshes (``hoirecon.objects.models``) are modelled in a y-up, front-toward-+z frame (glTF's convention) and turned into
the canonical frame by a 180 degree rotation about x: ``(x, y, z) -> (x, -y, -z)``. User mesh files
are assumed glTF-style (+Y up, front toward +Z) and go through the same rotation (a rotation, not a
mirror, so face winding and handedness survive).

Every procedural piece is a closed surface wound counter-clockwise seen from outside, so every
library mesh is watertight with consistent outward winding (pieces overlap; they are not unioned).
"""

from __future__ import annotations

import dataclasses
import functools
import os
from pathlib import Path

import numpy as np

from hoirecon.errors import InputError, first_line, shown
from hoirecon.geometry.frames import flip_yz
from hoirecon.geometry.mesh import face_areas
from hoirecon.objects import catalog, models
from hoirecon.objects import shapes as S
from hoirecon.objects.catalog import ObjectProperties
from hoirecon.objects.labels import resolve_label
from hoirecon.types import ObjectMesh

__all__ = ["build_mesh", "variant_names", "variant_for_label", "load_user_mesh", "read_mesh_file", "size_prior", "properties", "MAX_USER_VERTICES",
           "MAX_MESH_BYTES"]

MAX_USER_VERTICES = 6000
"""User meshes with more vertices than this are decimated (quadric) to about this many."""


def properties(category: str) -> ObjectProperties:
    """The category's record from ``objects.json`` (``category``: a key or any label
    ``resolve_label`` accepts): ``.upright`` (the fit's upright flag, from ``pose_prior``),
    ``.symmetry``, ``.size_m`` / ``.scale_sigma`` (``.size_prior``), ``.parts``, ``.synonyms``."""
    return catalog.entry(resolve_label(category))


def size_prior(category: str) -> tuple[float, float]:
    """``(size_m, scale_sigma)``: typical largest extent in metres and the log-scale std."""
    return properties(category).size_prior


# ------------------------------------------------------------------------------- library meshes


def canonicalise(vertices: np.ndarray, size_m: float | None) -> np.ndarray:
    """y-up / front +z vertices -> canonical frame (rotate, centre x/z, base at y = 0, scale)."""
    v = flip_yz(vertices)  # 180 deg about x: y-up / front +z -> y-down / front -z
    lo, hi = v.min(0), v.max(0)
    v = v - np.array([(lo[0] + hi[0]) / 2, hi[1], (lo[2] + hi[2]) / 2])
    if size_m is not None:
        extent = float((hi - lo).max())
        if extent <= 0:
            raise ValueError("degenerate mesh")
        v = v * (size_m / extent)
    return v


HEIGHT_PARTS = ("grip", "top", "bottom")


def _fine(vertices: np.ndarray, faces: np.ndarray, pieces: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """The mesh subdivided until no edge is longer than 1/``pieces`` of its largest extent (at most
    ``MAX_USER_VERTICES`` vertices), so that parts by height get vertices."""
    import trimesh

    size = float((vertices.max(0) - vertices.min(0)).max()) / pieces
    for _ in range(6):
        e = vertices[faces[:, [1, 2, 0]]] - vertices[faces]
        if float(np.linalg.norm(e, axis=-1).max()) <= size or len(vertices) * 4 > MAX_USER_VERTICES:
            break
        vertices, faces = trimesh.remesh.subdivide(vertices, faces)
    return np.asarray(vertices, np.float64), np.asarray(faces, np.int64)


def height_parts(vertices: np.ndarray, band: float = 0.2) -> tuple[np.ndarray, tuple[str, ...]]:
    """Generic parts of a canonical-frame mesh (y down, base on y = 0) by height: ``top`` (the highest
    ``band`` of the height), ``bottom`` (the lowest ``band``), ``grip`` (the rest). Returns
    ``(part_of_vertex (V,) int16, HEIGHT_PARTS)``."""
    y = np.asarray(vertices, np.float64)[:, 1]
    height = float(-y.min()) or 1.0
    rel = -y / height  # 0 at the base, 1 at the top
    part = np.where(rel >= 1 - band, 1, np.where(rel <= band, 2, 0)).astype(np.int16)
    return part, HEIGHT_PARTS


GRIP_MAX_M = 0.05
"""The thickest cross-section a hand closes around (a power grasp: handles, shafts, rails up to about
5 cm across): regions of a mesh at most this thick are its ``grip`` in :func:`generic_parts`."""
GRIP_MIN_FRACTION = 0.03


def generic_parts(vertices: np.ndarray, faces: np.ndarray, band: float = 0.2) -> tuple[np.ndarray, tuple[str, ...]]:
    """Generic parts of a canonical-frame mesh (metres, y down, base on y = 0) from its geometry, for a
    file with no category and no parts of its own: ``grip`` = the thin graspable regions (thickness
    along the inward normal at most :data:`GRIP_MAX_M`: a mug's handle, a broom's stick, a bag's
    straps) when they hold at least 3 % of the vertices, else the middle band by height as in
    :func:`height_parts`; ``top`` and ``bottom`` = the highest and lowest ``band`` of the height among
    the other vertices; ``body`` = the rest (only when the grip is the thin regions). Returns
    ``(part_of_vertex (V,) int16, names)``, names :data:`HEIGHT_PARTS` plus ``"body"`` when used."""
    from hoirecon.geometry.mesh import vertex_normals
    from hoirecon.geometry.raycast import inward_thickness

    v = np.asarray(vertices, np.float64)
    part, names = height_parts(v, band)
    thick = inward_thickness(v, faces, vertex_normals(v, faces))
    thin = thick <= GRIP_MAX_M
    if thin.mean() < GRIP_MIN_FRACTION:
        return part, names
    part = np.where(thin, 0, np.where(part == 0, 3, part)).astype(np.int16)
    return part, (*names, "body")


def read_mesh_groups(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]]:
    """The named groups of a mesh file: OBJ objects and groups (``o`` / ``g``), glTF nodes, as trimesh
    reads them. Returns ``(vertices (V, 3) float64, faces (F, 3) int64, group_of_face (F,) int64,
    group names)``, in the file's frame (the same triangles as :func:`read_mesh_file`, which checks
    the file first); one group named after the file for a file without names."""
    import trimesh

    p = Path(path)
    v0, f0 = read_mesh_file(p)
    if p.suffix.lower() == ".obj":  # trimesh merges OBJ objects: read the names from the text
        got = _obj_groups(p)
        return got if got is not None else (v0, f0, np.zeros(len(f0), np.int64), (p.stem,))
    try:
        loaded = trimesh.load(str(p), process=False)
    except Exception:  # noqa: BLE001 - the file read above; a loader without names: one group
        loaded = None
    if not isinstance(loaded, trimesh.Scene) or len(loaded.geometry) < 2:
        return v0, f0, np.zeros(len(f0), np.int64), (p.stem,)
    vs, fs, gs, names = [], [], [], []
    n = 0
    for node in loaded.graph.nodes_geometry:
        T, gname = loaded.graph[node]
        g = loaded.geometry[gname]
        if not isinstance(g, trimesh.Trimesh) or len(g.faces) == 0:
            continue
        gv = trimesh.transform_points(np.asarray(g.vertices, np.float64), T)
        names.append(str(node if node != loaded.graph.base_frame else gname))
        vs.append(gv)
        fs.append(np.asarray(g.faces, np.int64) + n)
        gs.append(np.full(len(g.faces), len(names) - 1, np.int64))
        n += len(gv)
    if not vs:
        return v0, f0, np.zeros(len(f0), np.int64), (p.stem,)
    return np.concatenate(vs), np.concatenate(fs), np.concatenate(gs), tuple(names)


def _obj_groups(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]] | None:
    """:func:`read_mesh_groups` for an OBJ file: ``v`` lines and ``f`` lines (polygons as fans), each
    face in the group of the last ``o`` or ``g`` line before it. None when the text cannot be read
    this way (the caller falls back to one group)."""
    verts, faces, gof, names = [], [], [], []
    current = -1
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                tok = line.split()
                if not tok:
                    continue
                if tok[0] == "v" and len(tok) >= 4:
                    verts.append([float(x) for x in tok[1:4]])
                elif tok[0] in ("o", "g") and len(tok) > 1:
                    name = " ".join(tok[1:])
                    if name not in names:
                        names.append(name)
                    current = names.index(name)
                elif tok[0] == "f" and len(tok) >= 4:
                    idx = [int(t.split("/")[0]) for t in tok[1:]]
                    idx = [i - 1 if i > 0 else len(verts) + i for i in idx]
                    for k in range(1, len(idx) - 1):
                        faces.append([idx[0], idx[k], idx[k + 1]])
                        gof.append(current)
    except (OSError, ValueError):
        return None
    if not faces or not verts:
        return None
    f = np.asarray(faces, np.int64)
    if f.min() < 0 or f.max() >= len(verts):
        return None
    g = np.asarray(gof, np.int64)
    if (g < 0).any():  # faces before the first name
        names.append(path.stem)
        g[g < 0] = len(names) - 1
    return np.asarray(verts, np.float64), f, g, tuple(names)


def _named_part_of_vertex(vertices: np.ndarray, groups: tuple, spec) -> tuple[np.ndarray, list[str]]:
    """Per vertex of ``vertices`` (the file's frame, before canonicalisation) the index into the
    returned part names of its named part, -1 for none. ``groups``: (vertices, faces, group_of_face,
    names) of :func:`read_mesh_groups`; ``spec``: ``"groups"`` (each group a part named after it) or
    ``{part: [group name or fnmatch pattern, ...]}``. Nearest group vertex decides."""
    import fnmatch

    from scipy.spatial import cKDTree

    gv, gf, gof, gnames = groups
    if spec == "groups":
        mapping = {catalog.normalise_label(n).replace(" ", "_") or f"group_{k}": [n] for k, n in enumerate(gnames)}
    else:
        mapping = {str(k): [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in dict(spec).items()}
    parts = list(mapping)
    group_part = np.full(len(gnames), -1, np.int64)
    for k, n in enumerate(gnames):
        for j, part in enumerate(parts):
            if any(fnmatch.fnmatchcase(n.lower(), pat.lower()) for pat in mapping[part]):
                group_part[k] = j
                break
    vert_group = np.full(len(gv), -1, np.int64)
    vert_group[gf.ravel()] = np.repeat(gof, 3)
    _, nearest = cKDTree(gv).query(np.asarray(vertices, np.float64), k=1)
    g = vert_group[nearest]
    return np.where(g >= 0, group_part[np.maximum(g, 0)], -1), parts


def readonly(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


def _make(category: str, vertices: np.ndarray, faces: np.ndarray, part_of_vertex: np.ndarray,
          part_names: tuple[str, ...], source: str) -> ObjectMesh:
    return ObjectMesh(
        category=category,
        vertices=readonly(vertices.astype(np.float32)),
        faces=readonly(faces.astype(np.int64)),
        part_of_vertex=readonly(part_of_vertex.astype(np.int16)),
        part_names=tuple(part_names),
        source=source,
        symmetry=catalog.entry(category).symmetry,
    )


@functools.lru_cache(maxsize=None)
def _build_cached(category: str) -> ObjectMesh:
    entry = catalog.entry(category)
    v, f, pov, names = S.merge(models.builder_for(category)(), part_names=entry.parts)
    v = canonicalise(v, entry.size_m)
    return _make(category, v, f, pov, names, f"library:{category}")


@functools.lru_cache(maxsize=None)
def _build_variant(category: str, name: str) -> ObjectMesh:
    spec = next(v for v in catalog.variants(category) if v["name"] == name)
    parts = tuple(p for p in catalog.entry(category).parts if any(pc["part"] == p for pc in spec["shape"]))
    pieces = models.shape_pieces(category, spec["shape"], parts=parts, size_m=spec["size_m"])
    v, f, pov, names = S.merge(pieces, part_names=parts)
    mesh = _make(category, canonicalise(v, spec["size_m"]), f, pov, names, f"library:{category}/{name}")
    aliases = tuple((a, b) for a, b in spec.get("part_aliases", {}).items() if a not in names)
    return dataclasses.replace(mesh, part_aliases=aliases, variant=name)


def variant_names(category: str) -> tuple[str, ...]:
    """The makes of category key ``category`` the library builds: ``("default", *objects.json
    variants)``, the entry's own mesh first."""
    return ("default", *(v["name"] for v in catalog.variants(category)))


def variant_for_label(category: str, label: str | None) -> str | None:
    """The variant of ``category`` a label names (one of its ``synonyms`` is the label or ends it as
    whole words: "office chair", "my old office chair"), else None (the label names the category
    only: the pipeline retrieves the make from the photo)."""
    if not label:
        return None
    text = f" {catalog.normalise_label(label)}"
    for v in catalog.variants(category):
        if any(text.endswith(f" {catalog.normalise_label(syn)}") for syn in v["synonyms"]):
            return v["name"]
    return None


def build_mesh(category: str, variant: str = "default") -> ObjectMesh:
    """The procedural library mesh of ``category`` (a key or any label ``resolve_label`` accepts) in
    the canonical frame, at the category's typical size; ``variant``: one of :func:`variant_names`
    (another make of the category at its own size). Cached; arrays are read-only."""
    key = resolve_label(category)
    if variant != "default":
        if variant not in variant_names(key):
            raise InputError(f"object category '{key}' has no variant '{shown(variant)}'; "
                             f"known: {', '.join(variant_names(key))}")
        return _build_variant(key, variant)
    if models.builder_for(key) is None:  # a category in the table without a builder
        raise InputError(f"no procedural mesh for object category '{key}'")
    return _build_cached(key)


# -------------------------------------------------------------------------------------- user mesh


def decimate(vertices: np.ndarray, faces: np.ndarray, max_vertices: int) -> tuple[np.ndarray, np.ndarray]:
    try:
        import open3d as o3d
    except Exception:  # open3d missing / broken: keep the full mesh
        return vertices, faces
    mesh = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(vertices.astype(np.float64)),
                                     o3d.utility.Vector3iVector(faces.astype(np.int32)))
    mesh = mesh.simplify_quadric_decimation(target_number_of_triangles=int(2 * max_vertices))
    mesh.remove_unreferenced_vertices()
    mesh.remove_degenerate_triangles()
    v, f = np.asarray(mesh.vertices), np.asarray(mesh.triangles, dtype=np.int64)
    if len(v) == 0 or len(f) == 0:
        return vertices, faces
    return v, f


MAX_MESH_BYTES = 512 * 1024 * 1024


def read_mesh_file(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """A user mesh file that trimesh reads as triangles with finite vertices, valid face indices and a
    non-zero area, read without trimesh's clean-up (which would hide NaN vertices): ``(vertices (V, 3)
    float64, faces (F, 3) int64)``. Every fault is a one-line InputError naming the file."""
    import trimesh  # a geometry library, not a model

    p = Path(path)
    where = shown(p)
    if not p.exists():
        raise InputError(f"{where}: mesh file not found")
    if not p.is_file():
        raise InputError(f"{where}: mesh path is not a file")
    size = p.stat().st_size
    if size == 0:
        raise InputError(f"{where}: mesh file is empty")
    if size > MAX_MESH_BYTES:
        raise InputError(f"{where}: mesh file is {size / 1e6:.0f} MB (limit {MAX_MESH_BYTES / 1e6:.0f} MB)")
    if not os.access(p, os.R_OK):
        raise InputError(f"{where}: permission denied")
    ext = p.suffix.lower().lstrip(".")
    if ext not in ("obj", "glb", "gltf", "ply", "stl", "off"):
        raise InputError(f"{where}: mesh must be .obj, .glb, .gltf, .ply, .stl or .off, got '{shown(p.suffix, 20)}'")
    try:
        loaded = trimesh.load(str(p), force="mesh", process=False)
    except Exception as err:  # noqa: BLE001 - trimesh's readers raise many types for a bad file; this is the reader's verdict
        raise InputError(f"{where}: cannot read the mesh ({shown(first_line(err), 120)})") from None
    if isinstance(loaded, trimesh.Scene):
        geoms = [g for g in loaded.dump() if isinstance(g, trimesh.Trimesh)]
        loaded = trimesh.util.concatenate(geoms) if geoms else None
    if not isinstance(loaded, trimesh.Trimesh):
        raise InputError(f"{where}: the file holds no triangle mesh")
    v = np.asarray(loaded.vertices, dtype=np.float64)
    f = np.asarray(loaded.faces, dtype=np.int64)
    if len(v) == 0 or len(f) == 0:
        raise InputError(f"{where}: mesh is empty (no faces)")
    if not np.all(np.isfinite(v)):
        bad = int((~np.isfinite(v)).any(axis=1).sum())
        raise InputError(f"{where}: mesh has {bad} vertices with NaN or infinite coordinates")
    if f.min() < 0 or f.max() >= len(v):
        raise InputError(f"{where}: mesh faces index vertices that do not exist")
    if not float(face_areas(v, f).sum()) > 0.0 or float((v.max(0) - v.min(0)).max()) <= 0.0:
        raise InputError(f"{where}: mesh is degenerate (zero area)")
    return v, f


def load_user_mesh(path: str | Path, category: str, *, max_vertices: int | None = MAX_USER_VERTICES,
                   size_m: float | None = None, up: str = "+y", parts=None) -> ObjectMesh:
    """Read a user's OBJ / GLB / GLTF / PLY / STL mesh for ``category`` into the canonical frame.

    The file is assumed glTF-style (+Y up, front toward +Z): it is turned upside down by the
    rotation ``(x, y, z) -> (x, -y, -z)``, centred on x/z with its base at y = 0, and scaled
    uniformly so that its largest extent equals the category's ``size_m``. Meshes with more than
    ``max_vertices`` vertices are decimated. Every vertex gets the part of the nearest vertex of the
    category's library mesh after both bounding boxes are aligned, so part-based contacts work (the
    ``proxy`` category, which has no library mesh of its own: parts from the geometry,
    :func:`generic_parts`: thin graspable regions, top, bottom).
    ``size_m``: the largest extent instead of the category's; ``up``: ``"+z"`` for a Z-up file (CAD,
    Blender), turned to +Y up first. ``parts``: the file's own named parts, ``"groups"`` (every OBJ
    object/group or glTF node is a part of its name) or ``{part: [group name or pattern, ...]}``
    (:func:`read_mesh_groups`); vertices of unnamed groups get the parts above. InputError when
    ``parts`` names groups the file does not have.
    Errors (missing, unreadable or empty file) raise a one-line ``InputError`` naming the file."""
    import trimesh

    key = resolve_label(category)
    p = Path(path)
    vertices, faces = read_mesh_file(p)  # checked as stored: finite, valid faces, non-zero area
    cleaned = trimesh.Trimesh(vertices, faces, process=True)  # then merged as trimesh.load(process=True) does
    vertices = np.asarray(cleaned.vertices, dtype=np.float64)
    faces = np.asarray(cleaned.faces, dtype=np.int64)
    used = np.unique(faces)
    if len(used) < len(vertices):  # drop unreferenced vertices
        remap = np.full(len(vertices), -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        vertices, faces = vertices[used], remap[faces]
    if float((vertices.max(0) - vertices.min(0)).max()) <= 0:
        raise InputError(f"object mesh '{p}' is degenerate (zero size)")
    if max_vertices is not None and len(vertices) > max_vertices:
        vertices, faces = decimate(vertices, faces, max_vertices)
    named, named_parts = None, []
    if parts is not None:
        groups = read_mesh_groups(p)
        named, named_parts = _named_part_of_vertex(vertices, groups, parts)
        if parts != "groups" and len(set(named[named >= 0].tolist())) < len(named_parts):
            missing = [n for j, n in enumerate(named_parts) if not np.any(named == j)]
            raise InputError(f"object mesh {shown(p)}: parts {', '.join(map(shown, missing))} match no group of the "
                             f"file (its groups: {', '.join(map(shown, groups[3][:12]))})")  # fmt: skip
    if up == "+z":  # Z-up -> Y-up: (x, y, z) -> (x, z, -y), a rotation about x
        vertices = np.stack([vertices[:, 0], vertices[:, 2], -vertices[:, 1]], 1)
    elif up != "+y":
        raise InputError(f"object mesh '{p}': up must be '+y' or '+z', got {shown(up)}")

    v = canonicalise(vertices, size_m if size_m is not None else catalog.entry(key).size_m)

    from scipy.spatial import cKDTree

    if key == "proxy" or models.builder_for(key) is None:  # no library mesh to take parts from: the geometry's
        fine, faces = _fine(v, faces)  # a low-poly file (a cylinder's two rings) has no vertex in its middle
        if named is not None:  # the new vertices take the named part of the nearest old one
            named = named[cKDTree(v).query(fine, k=1)[1]]
        v = fine
        part_of_vertex, names = generic_parts(v, faces)
    else:  # parts: nearest vertex of the library mesh after mapping its bounding box onto this mesh's
        lib = build_mesh(key)
        lv = lib.vertices.astype(np.float64)
        llo, lhi = lv.min(0), lv.max(0)
        ulo, uhi = v.min(0), v.max(0)
        mapped = (lv - llo) / np.maximum(lhi - llo, 1e-9) * (uhi - ulo) + ulo
        _, nearest = cKDTree(mapped).query(v, k=1)
        part_of_vertex, names = lib.part_of_vertex[nearest], lib.part_names
    if named is not None and np.any(named >= 0):  # the file's own parts win where it names them
        names = list(names)
        index = []
        for n in named_parts:
            if n not in names:
                names.append(n)
            index.append(names.index(n))
        part_of_vertex = np.where(named >= 0, np.asarray(index)[np.maximum(named, 0)], part_of_vertex)
        used = sorted(set(part_of_vertex.tolist()))  # drop parts left without vertices, keep the order
        remap = np.full(len(names), -1, np.int64)
        remap[used] = np.arange(len(used))
        part_of_vertex, names = remap[part_of_vertex], [names[i] for i in used]
    return _make(key, v, faces, part_of_vertex, tuple(names), f"user:{p.name}")


def _library_source(category: str, path: str | Path | None) -> ObjectMesh:  # noqa: ARG001 - the library needs no file
    return build_mesh(category)


def _file_source(category: str, path: str | Path | None) -> ObjectMesh:
    if path is None:
        raise InputError(f"the 'file' object source needs a mesh file for '{category}' (--mesh FILE)")
    return load_user_mesh(path, category)


#: where an object mesh comes from, by name: ``(category, path or None) -> ObjectMesh``. A new source
#: (a retrieval model, a mesh database) is one function and one entry here.
OBJECT_SOURCES = {"library": _library_source, "file": _file_source}


def object_mesh(category: str, mesh_path: str | Path | None = None, source: str | None = None) -> ObjectMesh:
    """The object stage's entry point: the mesh of ``category`` from ``source`` (default ``file``
    when ``mesh_path`` is given, else ``library``; see :data:`OBJECT_SOURCES`)."""
    name = source or ("file" if mesh_path is not None else "library")
    if name not in OBJECT_SOURCES:
        raise InputError(f"unknown object source '{name}'; use one of {', '.join(OBJECT_SOURCES)}")
    return OBJECT_SOURCES[name](category, mesh_path)
