"""Mesh files for artists: binary glTF (``.glb``, written by trimesh) and Wavefront OBJ with vertex colours.

Frames
------
Inside hoirecon everything lives in the camera frame (x right, y down, z forward, metres). The files
written here use the glTF convention: **+Y up, metres, +Z toward the camera** (the person who faces the
camera faces +Z). The conversion ``(x, y, z) -> (x, -y, -z)`` (:func:`hoirecon.geometry.frames.camera_to_gltf`)
is a proper rotation (180 degrees about x), so face winding and handedness are preserved. It is applied
exactly once, by :func:`to_gltf_frame`, which both writers call; callers pass camera-frame vertices.

OBJ files use the same +Y-up frame as the GLB: importing the OBJ into Blender with the default OBJ
axis settings ("Forward -Z, Up Y") gives the same placement and orientation as importing the GLB.

GLB layout
----------
:func:`gltf_scene` builds a ``trimesh.Scene`` and trimesh's glTF writer encodes it; a small tree
post-processor (:func:`_finish_tree`) adds what trimesh does not set. Content: one node per mesh, node
and mesh both named after the mesh, identity transforms; one primitive per mesh with ``POSITION``
(float32, with min/max), ``NORMAL`` (float32, unit, area-weighted vertex normals, (0, 1, 0) for a vertex
no face uses), ``COLOR_0`` (normalised unsigned byte RGBA) and uint32 ``indices``; one material per mesh
named ``<mesh>_material`` (``pbrMetallicRoughness`` with ``baseColorFactor`` white, so the vertex colours
show unchanged, metallic 0, roughness 0.8; ``doubleSided`` true); buffer views with their ``target``;
``asset.generator`` "hoirecon", the scene named "hoirecon", the frame described in the root ``extras``.
trimesh stores identical arrays once (e.g. two meshes with the same colours share one accessor), which
readers handle like any other accessor. A mesh without faces becomes a point primitive (mode 0).

Why trimesh and not a hand-written encoder: the same parsed content (checked against the earlier
encoder on the two example photos: identical names, materials, positions, colours and faces; normals
within 6e-8 (1 float32 ulp, on ~1 % of the vertices: summation order); 44 ms vs 51 ms for Anny), one
maintained writer for GLB, PLY and friends, and its scene graph is where later additions go:

* **the photo's camera** (:func:`gltf_camera`): ``cameras[0]`` and a node ``photo_camera`` at the
  origin with the identity transform (the glTF-frame camera looks down -Z with +Y up, as glTF cameras
  do), added by the tree post-processor;
* **a skinned, rigged body**: trimesh writes no skins, so the skin goes in through the same two hooks
  trimesh offers and :func:`glb_bytes` already uses: ``buffer_postprocessor`` appends the
  ``JOINTS_0``/``WEIGHTS_0`` and inverse-bind-matrix arrays to the binary buffer, ``tree_postprocessor``
  (:func:`_finish_tree` is one) adds the joint nodes (children of a ``human_rig`` node), the ``skins``
  entry and the two attributes of the ``human`` primitive, and sets ``skin`` on the ``human`` node. The
  rest of the file stays as it is.
"""

from __future__ import annotations

import json
import os
import re
import struct
from pathlib import Path
from typing import Sequence

import numpy as np

from hoirecon import fsutil
from hoirecon.geometry import frames
from hoirecon.geometry.mesh import vertex_normals as _area_weighted_normals

__all__ = ["to_gltf_frame", "from_gltf_frame", "write_glb", "glb_bytes", "gltf_scene", "gltf_camera", "write_obj",
           "build_obj", "build_mtl", "CAMERA_NODE",
           "glb_json", "safe_name", "gltf_normals", "MeshSpec", "GLTF_FRAME", "WORLD_FRAME"]  # fmt: skip

# (node_name, vertices (V, 3) camera frame, faces (F, 3) int, vertex_colors (V, 4) uint8 RGBA)
MeshSpec = tuple[str, np.ndarray, np.ndarray, np.ndarray]

GLTF_FRAME = "glTF: +Y up, +Z toward the camera, metres (camera (x, y, z) -> (x, -y, -z))"
WORLD_FRAME = ("world: +Y up (gravity), the floor at Y = 0 under the pelvis, the person facing +Z, metres "
               "(params.json frames.camera_to_export)")  # fmt: skip


def _frame_note(transform: np.ndarray | None) -> str:
    if transform is None or np.allclose(transform, frames.CAMERA_TO_GLTF, atol=1e-12):
        return GLTF_FRAME
    return WORLD_FRAME

_GLB_MAGIC = 0x46546C67  # b"glTF"
_CHUNK_JSON = 0x4E4F534A  # b"JSON"

_ARRAY_BUFFER = 34962
_ELEMENT_ARRAY_BUFFER = 34963


def to_gltf_frame(vertices: np.ndarray) -> np.ndarray:
    """Camera frame (x right, y down, z forward) -> glTF frame (+Y up, +Z toward the camera).

    ``(x, y, z) -> (x, -y, -z)``; returns a new (N, 3) float32 array.
    """
    return frames.camera_to_gltf(np.asarray(vertices, dtype=np.float64).reshape(-1, 3)).astype(np.float32)


def from_gltf_frame(vertices: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_gltf_frame` (the rotation is its own inverse); (N, 3) float32."""
    return frames.gltf_to_camera(np.asarray(vertices, dtype=np.float64).reshape(-1, 3)).astype(np.float32)


def safe_name(name: str) -> str:
    """A node/object name that survives glTF, OBJ and Blender: ``[A-Za-z0-9_.-]`` only."""
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("_")
    return s or "mesh"


def _check_mesh(name: str, vertices, faces, colors) -> tuple[str, np.ndarray, np.ndarray, np.ndarray]:
    v = np.asarray(vertices, dtype=np.float64)
    if v.ndim != 2 or v.shape[1] != 3 or len(v) == 0:
        raise ValueError(f"mesh {name!r}: vertices must be a non-empty (V, 3) array, got {v.shape}")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"mesh {name!r}: vertices contain NaN or inf")
    f = np.asarray(faces)
    if f.size == 0:
        f = f.reshape(0, 3)
    if f.ndim != 2 or f.shape[1] != 3:
        raise ValueError(f"mesh {name!r}: faces must be (F, 3), got {f.shape}")
    if not np.issubdtype(f.dtype, np.integer):
        if not np.all(np.equal(np.mod(f, 1), 0)):
            raise ValueError(f"mesh {name!r}: faces must be integers")
    f = f.astype(np.int64)
    if f.size and (f.min() < 0 or f.max() >= len(v)):
        raise ValueError(f"mesh {name!r}: face index out of range [0, {len(v)})")
    c = np.asarray(colors)
    if c.ndim != 2 or c.shape[0] != len(v) or c.shape[1] not in (3, 4):
        raise ValueError(f"mesh {name!r}: vertex_colors must be (V, 4) uint8, got {c.shape} for V={len(v)}")
    if c.dtype != np.uint8:
        if np.issubdtype(c.dtype, np.floating) and c.size and float(np.nanmax(c)) <= 1.0:
            c = np.round(np.clip(c, 0.0, 1.0) * 255.0)
        c = np.clip(np.nan_to_num(c), 0, 255).astype(np.uint8)
    if c.shape[1] == 3:
        c = np.concatenate([c, np.full((len(c), 1), 255, np.uint8)], axis=1)
    return str(name), v, f, np.ascontiguousarray(c)


def _checked(meshes: Sequence[MeshSpec]) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    checked = [_check_mesh(safe_name(m[0]), *m[1:]) for m in meshes]
    names = [m[0] for m in checked]
    if len(set(names)) != len(names):
        raise ValueError(f"mesh names must be unique, got {names}")
    return checked


def gltf_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """(V, 3) float32 unit area-weighted vertex normals as the GLB stores them: those of
    :func:`hoirecon.geometry.mesh.vertex_normals`, with (0, 1, 0) (not zero) for a vertex no face uses,
    so that every NORMAL is a unit vector as glTF requires."""
    n = _area_weighted_normals(vertices, faces)
    n[~(np.linalg.norm(n, axis=1) > 0.5)] = (0.0, 1.0, 0.0)
    return n.astype(np.float32)


def _exported(v_cam: np.ndarray, transform: np.ndarray | None) -> np.ndarray:
    """(N, 3) float32 camera-frame points in the file's frame: ``transform`` ((4, 4) camera -> export,
    ``hoirecon.export.world.export_transform``), or the glTF camera frame (:func:`to_gltf_frame`)."""
    if transform is None:
        return to_gltf_frame(v_cam)
    return frames.transform_points(transform, v_cam).astype(np.float32)


def gltf_scene(meshes: Sequence[MeshSpec], transform: np.ndarray | None = None):
    """A ``trimesh.Scene`` of ``meshes`` (camera-frame input) in the glTF frame (or through
    ``transform``, camera -> export, (4, 4)): one node per mesh, node and geometry named after it, each
    with its vertex colours, normals and material."""
    import trimesh
    from trimesh.visual import TextureVisuals
    from trimesh.visual.material import PBRMaterial

    scene = trimesh.Scene()
    for name, v_cam, faces, colors in _checked(meshes):
        pos = _exported(v_cam, transform)
        if len(faces) == 0:  # no triangles: a point primitive, colours kept
            geom = trimesh.PointCloud(pos, colors=colors)
        else:
            material = PBRMaterial(name=f"{name}_material", baseColorFactor=[1.0, 1.0, 1.0, 1.0],
                                   metallicFactor=0.0, roughnessFactor=0.8, doubleSided=True)  # fmt: skip
            visual = TextureVisuals(material=material)
            visual.vertex_attributes["color"] = colors  # written as COLOR_0, read back the same way
            geom = trimesh.Trimesh(vertices=pos, faces=faces, visual=visual, vertex_normals=gltf_normals(pos, faces),
                                   process=False, validate=False)  # fmt: skip
        scene.add_geometry(geom, geom_name=name, node_name=name)
    return scene


def _finish_tree(tree: dict) -> None:
    """What trimesh leaves out: generator, scene name, the frame note, buffer-view targets; and the
    empty per-mesh ``extras`` it adds go."""
    tree["asset"] = {"version": "2.0", "generator": "hoirecon"}
    tree["extras"] = {"frame": GLTF_FRAME}
    for sc in tree.get("scenes", []):
        sc["name"] = "hoirecon"
    targets: dict[int, set[int]] = {}
    accessors = tree.get("accessors", [])
    for mesh in tree.get("meshes", []):
        if mesh.get("extras") == {}:
            del mesh["extras"]
        for prim in mesh.get("primitives", []):
            for acc in prim.get("attributes", {}).values():
                targets.setdefault(accessors[acc]["bufferView"], set()).add(_ARRAY_BUFFER)
            if "indices" in prim:
                targets.setdefault(accessors[prim["indices"]]["bufferView"], set()).add(_ELEMENT_ARRAY_BUFFER)
    for i, view in enumerate(tree.get("bufferViews", [])):
        t = targets.get(i, set())
        if len(t) == 1:  # (a view holding both kinds would be legal without a target)
            view["target"] = t.pop()


CAMERA_NODE = "photo_camera"


def gltf_camera(camera) -> dict:
    """The glTF perspective camera of a photo's intrinsics (``CameraIntrinsics``): ``yfov`` = 2 atan(H /
    2 fy) radians, ``aspectRatio`` = (W / fx) / (H / fy) (W / H for square pixels), znear 1 cm, zfar
    1 km. glTF has no principal point: a camera whose (cx, cy) is off the image centre is drawn
    shifted by the difference (hoirecon's own cameras put it at the centre)."""
    import math

    W, H = float(camera.width), float(camera.height)
    yfov = 2.0 * math.atan(0.5 * H / float(camera.fy))
    return {"type": "perspective", "name": CAMERA_NODE,
            "perspective": {"yfov": yfov, "aspectRatio": (W / float(camera.fx)) / (H / float(camera.fy)),
                            "znear": 0.01, "zfar": 1000.0}}  # fmt: skip


def _add_camera(tree: dict, camera, transform: np.ndarray | None = None) -> None:
    """A ``photo_camera`` node: a glTF camera looks down its local -Z with +Y up, which is the camera
    frame turned 180 degrees about x, so in the glTF camera frame the node has the identity transform
    (no ``matrix``) and through ``transform`` (camera -> export) the matrix ``transform @ diag(1, -1,
    -1, 1)``. Blender: select it, then View > Cameras > Active Camera (Numpad 0)."""
    tree.setdefault("cameras", []).append(gltf_camera(camera))
    node = {"name": CAMERA_NODE, "camera": len(tree["cameras"]) - 1}
    if transform is not None:
        M = np.asarray(transform, np.float64) @ frames.CAMERA_TO_GLTF
        if not np.allclose(M, np.eye(4), atol=1e-12):
            node["matrix"] = [float(x) for x in M.T.reshape(-1)]  # glTF: column-major
    tree.setdefault("nodes", []).append(node)
    for sc in tree.get("scenes", []):
        sc.setdefault("nodes", []).append(len(tree["nodes"]) - 1)


def glb_bytes(meshes: Sequence[MeshSpec], camera=None, transform: np.ndarray | None = None) -> bytes:
    """The bytes of a GLB holding ``meshes`` (camera-frame input, written in the glTF frame or through
    ``transform``, (4, 4) camera -> export), and with ``camera`` (``CameraIntrinsics``) a
    ``photo_camera`` node through which the meshes line up with the photo (:func:`gltf_camera`)."""

    def finish(tree: dict) -> None:
        _finish_tree(tree)
        tree["extras"] = {"frame": _frame_note(transform)}
        if camera is not None:
            _add_camera(tree, camera, transform)

    scene = gltf_scene(meshes, transform)
    return scene.export(file_type="glb", include_normals=True, tree_postprocessor=finish)


def write_glb(path: str | os.PathLike[str], meshes: Sequence[MeshSpec], camera=None,
              transform: np.ndarray | None = None) -> None:  # fmt: skip
    """Write ``meshes`` — a list of ``(node_name, vertices_camera_frame, faces, vertex_colors_rgba_u8)`` —
    to a binary glTF at ``path`` (atomically), converting to the glTF frame (+Y up, +Z toward camera)
    or through ``transform``; with ``camera`` (the photo's ``CameraIntrinsics``) also the photo's
    camera (:func:`glb_bytes`)."""
    fsutil.write_bytes(path, glb_bytes(meshes, camera, transform))


def glb_json(path_or_bytes: str | os.PathLike[str] | bytes) -> dict:
    """Parse and return the JSON chunk of a GLB (for checks and debugging)."""
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    magic, version, length = struct.unpack_from("<III", data, 0)
    if magic != _GLB_MAGIC or version != 2:
        raise ValueError("not a glTF 2.0 binary file")
    chunk_len, chunk_type = struct.unpack_from("<II", data, 12)
    if chunk_type != _CHUNK_JSON:
        raise ValueError("first GLB chunk is not JSON")
    return json.loads(data[20 : 20 + chunk_len].decode("utf-8"))


def _base_color(colors: np.ndarray) -> np.ndarray:
    """A mesh's material colour (0..1 RGB): its most common vertex colour (the uncoloured surface,
    not the contact highlight)."""
    rgb, counts = np.unique(np.asarray(colors)[:, :3], axis=0, return_counts=True)
    return rgb[int(np.argmax(counts))].astype(np.float64) / 255.0 if len(rgb) else np.full(3, 0.8)


def build_mtl(meshes: Sequence[MeshSpec]) -> str:
    """MTL text for :func:`build_obj`'s materials: one ``<mesh>_material`` per mesh, diffuse ``Kd`` its
    base colour (:func:`_base_color`), no specular, opaque."""
    lines = ["# hoirecon materials (one per mesh; the per-vertex colours are in the OBJ's v lines)"]
    for name, _, _, colors in (_check_mesh(safe_name(m[0]), *m[1:]) for m in meshes):
        r, g, b = _base_color(colors).tolist()
        lines += [f"newmtl {name}_material", f"Kd {r:.4f} {g:.4f} {b:.4f}", "Ka 0.0000 0.0000 0.0000",
                  "Ks 0.0000 0.0000 0.0000", "d 1.0", "illum 1", ""]  # fmt: skip
    return "\n".join(lines)


def build_obj(meshes: Sequence[MeshSpec], mtllib: str | None = None, transform: np.ndarray | None = None) -> str:
    """OBJ text: one ``o name`` per mesh, ``v x y z r g b`` (colours 0..1), 1-based faces; glTF frame.
    ``mtllib``: the MTL file's name (:func:`build_mtl`), referenced with ``mtllib`` and each mesh's
    ``usemtl <mesh>_material``. ``transform``: (4, 4) camera -> export instead of the glTF camera frame."""
    checked = [_check_mesh(safe_name(m[0]), *m[1:]) for m in meshes]  # (duplicate names allowed, as before)
    lines = [
        "# hoirecon OBJ export",
        f"# frame: {_frame_note(transform)} (same as scene.glb);",
        "# Blender: File > Import > Wavefront (.obj) with the defaults Forward -Z, Up Y.",
        "# vertex colours: 'v x y z r g b', r g b in 0..1",
    ]
    if mtllib is not None:
        lines.append(f"mtllib {mtllib}")
    base = 1
    for name, v_cam, faces, colors in checked:
        pos = _exported(v_cam, transform).astype(np.float64)
        rgb = colors[:, :3].astype(np.float64) / 255.0
        lines.append(f"o {name}")
        if mtllib is not None:
            lines.append(f"usemtl {name}_material")
        vt = np.concatenate([pos, rgb], axis=1)
        lines.extend(f"v {a:.6f} {b:.6f} {c:.6f} {r:.4f} {g:.4f} {bl:.4f}" for a, b, c, r, g, bl in vt.tolist())
        lines.extend(f"f {a} {b} {c}" for a, b, c in (faces + base).tolist())
        base += len(pos)
    return "\n".join(lines) + "\n"


def write_obj(path: str | os.PathLike[str], meshes: Sequence[MeshSpec], materials: bool = True,
              transform: np.ndarray | None = None) -> None:  # fmt: skip
    """Write ``meshes`` (same tuples as :func:`write_glb`) to a Wavefront OBJ at ``path`` (atomically),
    in the same +Y-up frame as the GLB. Vertex colours are written as ``v x y z r g b``; with
    ``materials`` also the MTL file beside it (``path`` with ``.mtl``; :func:`build_mtl`)."""
    p = Path(path)
    if materials:
        fsutil.write_text(p.with_suffix(".mtl"), build_mtl(meshes))
    fsutil.write_text(p, build_obj(meshes, p.with_suffix(".mtl").name if materials else None, transform))
