"""Mesh files for artists: binary glTF (``.glb``) and Wavefront OBJ with vertex colours.

Frames
------
Inside hoirecon everything lives in the camera frame (x right, y down, z forward, metres). The files
written here use the glTF convention: **+Y up, metres, +Z toward the camera** (the person who faces the
camera faces +Z). The conversion ``(x, y, z) -> (x, -y, -z)`` is a proper rotation (180 degrees about
x), so face winding and handedness are preserved. It is applied exactly once, by :func:`to_gltf_frame`,
which both writers call; callers pass camera-frame vertices.

OBJ files use the same +Y-up frame as the GLB: importing the OBJ into Blender with the default OBJ
axis settings ("Forward -Z, Up Y") gives the same placement and orientation as importing the GLB.

GLB layout (written directly with numpy + json + struct, no third-party writer, so the content is
fully controlled): one node per mesh, node and mesh both named after the mesh; one primitive per mesh
with ``POSITION`` (float32, with min/max), ``NORMAL`` (float32, unit, area-weighted vertex normals),
``COLOR_0`` (normalised unsigned byte RGBA) and uint32 ``indices``; one material per mesh
(``pbrMetallicRoughness`` with ``baseColorFactor`` white, so the vertex colours show unchanged;
``doubleSided`` true).
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

__all__ = ["to_gltf_frame", "from_gltf_frame", "write_glb", "write_obj", "glb_json", "safe_name", "MeshSpec"]

# (node_name, vertices (V, 3) camera frame, faces (F, 3) int, vertex_colors (V, 4) uint8 RGBA)
MeshSpec = tuple[str, np.ndarray, np.ndarray, np.ndarray]

_GLB_MAGIC = 0x46546C67  # b"glTF"
_CHUNK_JSON = 0x4E4F534A  # b"JSON"
_CHUNK_BIN = 0x004E4942  # b"BIN\0"

_FLOAT = 5126
_UBYTE = 5121
_UINT = 5125
_ARRAY_BUFFER = 34962
_ELEMENT_ARRAY_BUFFER = 34963

_CAMERA_TO_GLTF = np.array([1.0, -1.0, -1.0])


def to_gltf_frame(vertices: np.ndarray) -> np.ndarray:
    """Camera frame (x right, y down, z forward) -> glTF frame (+Y up, +Z toward the camera).

    ``(x, y, z) -> (x, -y, -z)``; returns a new (N, 3) float32 array.
    """
    v = np.asarray(vertices, dtype=np.float64).reshape(-1, 3)
    return (v * _CAMERA_TO_GLTF).astype(np.float32)


def from_gltf_frame(vertices: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_gltf_frame` (the rotation is its own inverse)."""
    return to_gltf_frame(vertices)


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


def vertex_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals (float32); vertices without faces get (0, 1, 0)."""
    v = np.asarray(vertices, dtype=np.float64)
    n = np.zeros_like(v)
    if len(faces):
        tri = v[faces]
        fn = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])  # length = 2 * area
        for k in range(3):
            np.add.at(n, faces[:, k], fn)
    length = np.linalg.norm(n, axis=1)
    bad = ~(length > 1e-20)
    n[bad] = (0.0, 1.0, 0.0)
    length[bad] = 1.0
    return (n / length[:, None]).astype(np.float32)


def _pad4(data: bytes, fill: bytes) -> bytes:
    return data + fill * ((-len(data)) % 4)


def build_glb(meshes: Sequence[MeshSpec]) -> bytes:
    """The bytes of a GLB holding ``meshes`` (camera-frame input, written in the glTF frame)."""
    checked = [_check_mesh(safe_name(m[0]), *m[1:]) for m in meshes]
    names = [m[0] for m in checked]
    if len(set(names)) != len(names):
        raise ValueError(f"mesh names must be unique, got {names}")

    blobs: list[bytes] = []
    offset = 0
    buffer_views: list[dict] = []
    accessors: list[dict] = []

    def add_view(data: bytes, target: int) -> int:
        nonlocal offset
        buffer_views.append({"buffer": 0, "byteOffset": offset, "byteLength": len(data), "target": target})
        padded = _pad4(data, b"\x00")
        blobs.append(padded)
        offset += len(padded)
        return len(buffer_views) - 1

    def add_accessor(view: int, component: int, count: int, type_: str, **extra) -> int:
        acc = {"bufferView": view, "byteOffset": 0, "componentType": component, "count": int(count), "type": type_}
        acc.update(extra)
        accessors.append(acc)
        return len(accessors) - 1

    gl_meshes, nodes, materials = [], [], []
    for i, (name, v_cam, faces, colors) in enumerate(checked):
        pos = np.ascontiguousarray(to_gltf_frame(v_cam), dtype="<f4")
        nrm = np.ascontiguousarray(vertex_normals(pos, faces), dtype="<f4")
        col = np.ascontiguousarray(colors, dtype=np.uint8)
        idx = np.ascontiguousarray(faces.reshape(-1), dtype="<u4")

        a_pos = add_accessor(
            add_view(pos.tobytes(), _ARRAY_BUFFER), _FLOAT, len(pos), "VEC3",
            min=[float(x) for x in pos.min(0)], max=[float(x) for x in pos.max(0)],
        )
        a_nrm = add_accessor(add_view(nrm.tobytes(), _ARRAY_BUFFER), _FLOAT, len(nrm), "VEC3")
        a_col = add_accessor(add_view(col.tobytes(), _ARRAY_BUFFER), _UBYTE, len(col), "VEC4", normalized=True)
        primitive = {
            "attributes": {"POSITION": a_pos, "NORMAL": a_nrm, "COLOR_0": a_col},
            "material": i,
            "mode": 4,  # triangles
        }
        if len(idx):
            a_idx = add_accessor(
                add_view(idx.tobytes(), _ELEMENT_ARRAY_BUFFER), _UINT, len(idx), "SCALAR",
                min=[int(idx.min())], max=[int(idx.max())],
            )
            primitive["indices"] = a_idx
        else:
            primitive["mode"] = 0  # points: a mesh without faces
        materials.append(
            {
                "name": f"{name}_material",
                "pbrMetallicRoughness": {
                    "baseColorFactor": [1.0, 1.0, 1.0, 1.0],
                    "metallicFactor": 0.0,
                    "roughnessFactor": 0.8,
                },
                "doubleSided": True,
            }
        )
        gl_meshes.append({"name": name, "primitives": [primitive]})
        nodes.append({"name": name, "mesh": i})

    binary = b"".join(blobs)
    gltf = {
        "asset": {"version": "2.0", "generator": "hoirecon"},
        "extras": {"frame": "glTF: +Y up, +Z toward the camera, metres (camera (x, y, z) -> (x, -y, -z))"},
        "scene": 0,
        "scenes": [{"name": "hoirecon", "nodes": list(range(len(nodes)))}],
        "nodes": nodes,
        "meshes": gl_meshes,
        "materials": materials,
        "accessors": accessors,
        "bufferViews": buffer_views,
        "buffers": [{"byteLength": len(binary)}],
    }
    json_bytes = _pad4(json.dumps(gltf, separators=(",", ":"), allow_nan=False).encode("utf-8"), b" ")
    chunks = struct.pack("<II", len(json_bytes), _CHUNK_JSON) + json_bytes
    if binary:
        chunks += struct.pack("<II", len(binary), _CHUNK_BIN) + binary
    header = struct.pack("<III", _GLB_MAGIC, 2, 12 + len(chunks))
    return header + chunks


def write_glb(path: str | os.PathLike[str], meshes: Sequence[MeshSpec]) -> None:
    """Write ``meshes`` — a list of ``(node_name, vertices_camera_frame, faces, vertex_colors_rgba_u8)`` —
    to a binary glTF at ``path`` (atomically), converting to the glTF frame (+Y up, +Z toward camera)."""
    fsutil.write_bytes(path, build_glb(meshes))


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


def build_obj(meshes: Sequence[MeshSpec]) -> str:
    """OBJ text: one ``o name`` per mesh, ``v x y z r g b`` (colours 0..1), 1-based faces; glTF frame."""
    checked = [_check_mesh(safe_name(m[0]), *m[1:]) for m in meshes]
    lines = [
        "# hoirecon OBJ export",
        "# frame: +Y up, +Z toward the camera, metres (same as scene.glb);",
        "# Blender: File > Import > Wavefront (.obj) with the defaults Forward -Z, Up Y.",
        "# vertex colours: 'v x y z r g b', r g b in 0..1",
    ]
    base = 1
    for name, v_cam, faces, colors in checked:
        pos = to_gltf_frame(v_cam).astype(np.float64)
        rgb = colors[:, :3].astype(np.float64) / 255.0
        lines.append(f"o {name}")
        vt = np.concatenate([pos, rgb], axis=1)
        lines.extend(f"v {a:.6f} {b:.6f} {c:.6f} {r:.4f} {g:.4f} {bl:.4f}" for a, b, c, r, g, bl in vt.tolist())
        lines.extend(f"f {a} {b} {c}" for a, b, c in (faces + base).tolist())
        base += len(pos)
    return "\n".join(lines) + "\n"


def write_obj(path: str | os.PathLike[str], meshes: Sequence[MeshSpec]) -> None:
    """Write ``meshes`` (same tuples as :func:`write_glb`) to a Wavefront OBJ at ``path`` (atomically),
    in the same +Y-up frame as the GLB. Vertex colours are written as ``v x y z r g b``."""
    fsutil.write_text(path, build_obj(meshes))
