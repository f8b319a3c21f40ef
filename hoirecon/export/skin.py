"""A skinned ``human`` in the GLB: the body model's skeleton, posed as fitted, so an artist can re-pose it.

:func:`add_skin` takes the GLB that :func:`hoirecon.export.mesh_io.glb_bytes` wrote and adds a glTF skin
to the named mesh node:

* one node per bone (the body model's bone names; Anny 104, SMPL-X 55), in the model's hierarchy, each
  with ``translation`` and ``rotation`` (its frame relative to its parent's), the root bone's node under
  the scene root and carrying the export transform (camera -> glTF or world frame), so the skeleton
  sits in the exported scene where the body is;
* ``JOINTS_0``/``JOINTS_1`` (unsigned short) and ``WEIGHTS_0``/``WEIGHTS_1`` (float): the eight largest
  skinning weights of each vertex, renormalised (:class:`hoirecon.types.Skin`);
* ``inverseBindMatrices``: the inverse of each bone's world transform *as fitted*. The bind pose is the
  fitted pose, so every joint matrix is the identity and the mesh is exactly the fitted mesh, for
  readers that apply skins (Blender, three.js) and for readers that ignore them (trimesh): nothing
  moves until a bone is turned. In Blender the armature's rest pose is therefore the fitted pose.

The mesh node keeps its place in the scene (a skinned mesh's own transform is ignored by glTF, and ours
is the identity). Bones are rigid transforms (rotation with det +1, translation); the export transform
is rigid too, so TRS nodes hold them exactly (up to float32).
"""

from __future__ import annotations

import json
import struct

import numpy as np

from hoirecon.geometry import frames

__all__ = ["add_skin", "skin_summary"]

_GLB_MAGIC, _CHUNK_JSON, _CHUNK_BIN = 0x46546C67, 0x4E4F534A, 0x004E4942
_FLOAT, _USHORT = 5126, 5123
_ARRAY_BUFFER = 34962


def _split(glb: bytes) -> tuple[dict, bytearray]:
    magic, version, _ = struct.unpack_from("<III", glb, 0)
    if magic != _GLB_MAGIC or version != 2:
        raise ValueError("not a glTF 2.0 binary file")
    n, kind = struct.unpack_from("<II", glb, 12)
    if kind != _CHUNK_JSON:
        raise ValueError("first GLB chunk is not JSON")
    tree = json.loads(glb[20 : 20 + n].decode("utf-8"))
    off = 20 + n
    binary = bytearray()
    if off < len(glb):
        m, kind = struct.unpack_from("<II", glb, off)
        if kind != _CHUNK_BIN:
            raise ValueError("second GLB chunk is not BIN")
        binary = bytearray(glb[off + 8 : off + 8 + m])
    return tree, binary


def _join(tree: dict, binary: bytearray) -> bytes:
    tree["buffers"] = [{"byteLength": len(binary)}]
    text = json.dumps(tree, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 4)
    binary = bytes(binary) + b"\0" * (-len(binary) % 4)
    total = 12 + 8 + len(text) + 8 + len(binary)
    return (struct.pack("<III", _GLB_MAGIC, 2, total) + struct.pack("<II", len(text), _CHUNK_JSON) + text
            + struct.pack("<II", len(binary), _CHUNK_BIN) + binary)  # fmt: skip


def _append(tree: dict, binary: bytearray, array: np.ndarray, component: int, kind: str,
            target: int | None, normalized: bool = False) -> int:  # fmt: skip
    """Append ``array`` as a new buffer view and accessor; the accessor's index."""
    binary.extend(b"\0" * (-len(binary) % 4))
    data = np.ascontiguousarray(array).tobytes()
    view = {"buffer": 0, "byteOffset": len(binary), "byteLength": len(data)}
    if target is not None:
        view["target"] = target
    binary.extend(data)
    tree.setdefault("bufferViews", []).append(view)
    acc = {"bufferView": len(tree["bufferViews"]) - 1, "componentType": component, "count": int(len(array)), "type": kind}
    if normalized:
        acc["normalized"] = True
    tree.setdefault("accessors", []).append(acc)
    return len(tree["accessors"]) - 1


def _rigid(M: np.ndarray) -> np.ndarray:
    """The nearest rigid transform (orthonormal rotation with det +1, same translation)."""
    U, _, Vt = np.linalg.svd(M[:3, :3])
    R = U @ Vt
    if np.linalg.det(R) < 0:
        U[:, -1] *= -1
        R = U @ Vt
    out = np.eye(4)
    out[:3, :3] = R
    out[:3, 3] = M[:3, 3]
    return out


def add_skin(glb: bytes, node_name: str, skin, transform: np.ndarray | None = None) -> bytes:
    """``glb`` with a skin on the mesh node ``node_name`` (see the module docstring). ``skin``:
    :class:`hoirecon.types.Skin` (camera frame); ``transform``: (4, 4) camera -> export (None: the glTF
    frame, :data:`hoirecon.geometry.frames.CAMERA_TO_GLTF`). The node's vertex count must match."""
    from scipy.spatial.transform import Rotation

    tree, binary = _split(glb)
    nodes = tree.get("nodes", [])
    hit = [i for i, n in enumerate(nodes) if n.get("name") == node_name and "mesh" in n]
    if len(hit) != 1:
        raise ValueError(f"GLB has {len(hit)} mesh nodes named {node_name!r}")
    node = nodes[hit[0]]
    mesh = tree["meshes"][node["mesh"]]
    prim_counts = {tree["accessors"][p["attributes"]["POSITION"]]["count"] for p in mesh["primitives"]}
    if prim_counts != {len(skin.joints)}:
        raise ValueError(f"{node_name}: {prim_counts} vertices in the GLB, {len(skin.joints)} in the skin")
    T = frames.CAMERA_TO_GLTF if transform is None else np.asarray(transform, np.float64)
    world = np.stack([_rigid(T @ M) for M in np.asarray(skin.joint_world, np.float64)])
    parents = np.asarray(skin.parents, np.int64)
    first = len(nodes)
    composed = np.empty_like(world)  # each bone's world transform as the TRS nodes give it (float32)
    for j, name in enumerate(skin.joint_names):
        local = world[j] if parents[j] < 0 else np.linalg.inv(world[parents[j]]) @ world[j]
        q = Rotation.from_matrix(local[:3, :3]).as_quat()  # x, y, z, w: glTF's order
        t = local[:3, 3]
        n: dict = {"name": str(name), "translation": [float(x) for x in t], "rotation": [float(x) for x in q]}
        nodes.append(n)
        L = np.eye(4)
        L[:3, :3] = Rotation.from_quat(np.asarray(n["rotation"], np.float32).astype(np.float64)).as_matrix()
        L[:3, 3] = np.asarray(n["translation"], np.float32)
        composed[j] = L if parents[j] < 0 else composed[parents[j]] @ L
    for j in range(len(skin.joint_names)):
        if parents[j] >= 0:
            nodes[first + parents[j]].setdefault("children", []).append(first + j)
    roots = [first + j for j in range(len(parents)) if parents[j] < 0]
    for sc in tree.get("scenes", []):
        sc.setdefault("nodes", []).extend(roots)
    ibm = np.stack([np.linalg.inv(M) for M in composed])
    ibm[:, 3, :] = (0.0, 0.0, 0.0, 1.0)
    ibm_acc = _append(tree, binary, ibm.transpose(0, 2, 1).reshape(-1, 16).astype(np.float32), _FLOAT, "MAT4", None)
    J = np.asarray(skin.joints, np.uint16)
    W = np.asarray(skin.weights, np.float32)
    sets = {}
    for s in range(J.shape[1] // 4):
        sets[f"JOINTS_{s}"] = _append(tree, binary, J[:, 4 * s : 4 * s + 4], _USHORT, "VEC4", _ARRAY_BUFFER)
        sets[f"WEIGHTS_{s}"] = _append(tree, binary, W[:, 4 * s : 4 * s + 4], _FLOAT, "VEC4", _ARRAY_BUFFER)
    for p in mesh["primitives"]:
        p["attributes"].update(sets)
    tree.setdefault("skins", []).append({"name": f"{node_name}_skeleton", "joints": list(range(first, first + len(parents))),
                                         "inverseBindMatrices": ibm_acc, "skeleton": roots[0]})  # fmt: skip
    node["skin"] = len(tree["skins"]) - 1
    return _join(tree, binary)


def skin_summary(skin) -> dict:
    """What ``params.json`` records of the skin (``human.skin``)."""
    return {"joints": len(skin.joint_names), "root": str(skin.joint_names[int(np.argmin(skin.parents))]),
            "influences_per_vertex": int(skin.joints.shape[1]), "weight_dropped_max": round(float(skin.dropped), 6),
            "bind_pose": "as fitted"}  # fmt: skip
