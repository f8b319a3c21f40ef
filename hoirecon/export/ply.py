"""``ply`` export (trimesh): ``scene.ply`` (both meshes in one, vertex colours), ``human.ply``,
``object.ply``; binary little-endian, vertex colours as ``red green blue alpha`` uchar properties; the
frame of ``scene.glb`` (+Y up, +Z toward the camera, metres)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hoirecon import fsutil
from hoirecon.export.report import load_scene_meshes

__all__ = ["write_ply"]


def write_ply(folder: Path) -> list[Path]:
    """Write the PLY files next to ``folder/scene.glb``; returns their paths."""
    import trimesh

    meshes = load_scene_meshes(folder / "scene.glb")
    tms = []
    for _name, v, f, c in meshes:
        rgba = np.concatenate([np.round(c * 255.0), np.full((len(c), 1), 255.0)], axis=1).astype(np.uint8)
        tms.append(trimesh.Trimesh(vertices=v, faces=f, vertex_colors=rgba, process=False))
    human = [t for (n, *_), t in zip(meshes, tms) if n == "human"]
    objs = [t for (n, *_), t in zip(meshes, tms) if n.startswith("object")]
    out = []
    targets = [("scene.ply", trimesh.util.concatenate(tms))]
    if human:
        targets.append(("human.ply", human[0]))
    if objs:
        targets.append(("object.ply", objs[0]))
    for name, mesh in targets:
        data = mesh.export(file_type="ply", encoding="binary")
        fsutil.write_bytes(folder / name, data)
        out.append(folder / name)
    return out
