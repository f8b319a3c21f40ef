"""More mesh formats from a result folder's ``scene.glb``, each written by a maintained library.

* ``ply`` (trimesh): ``scene.ply`` (both meshes in one, vertex colours), ``human.ply``, ``object.ply``;
  binary little-endian, vertex colours as ``red green blue alpha`` uchar properties;
* ``usd`` (Pixar's ``usd-core`` package, optional: ``pip install 'hoirecon[usd]'``): ``scene.usda`` with
  ``/hoirecon/human`` and ``/hoirecon/object_<category>`` ``Mesh`` prims, vertex colours as the
  ``displayColor`` primvar (vertex interpolation), ``upAxis = "Y"`` and ``metersPerUnit = 1``.

All in the same frame as ``scene.glb``: +Y up, +Z toward the camera, metres. FBX is not offered: no
maintained Python library writes it (Blender can: import ``scene.glb`` and export FBX there).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from hoirecon import fsutil
from hoirecon.errors import InputError

__all__ = ["FORMATS", "export_folder"]

FORMATS = ("ply", "usd")


def _ply(folder: Path) -> list[Path]:
    import trimesh

    from hoirecon.export.report import load_scene_meshes

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


def _usd(folder: Path) -> list[Path]:
    try:
        from pxr import Gf, Sdf, Usd, UsdGeom, Vt
    except ImportError:
        raise InputError("--format usd needs usd-core: pip install 'hoirecon[usd]' (or pip install usd-core)") from None
    from hoirecon.export.mesh_io import safe_name
    from hoirecon.export.report import load_scene_meshes

    meshes = load_scene_meshes(folder / "scene.glb")
    target = folder / "scene.usda"
    with fsutil.atomic_path(target) as tmp:
        tmp_usda = tmp.with_name(tmp.name + ".usda")  # USD picks the format from the extension
        try:
            stage = Usd.Stage.CreateNew(os.fspath(tmp_usda))
            UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
            UsdGeom.SetStageMetersPerUnit(stage, 1.0)
            root = UsdGeom.Xform.Define(stage, "/hoirecon")
            stage.SetDefaultPrim(root.GetPrim())
            for name, v, f, c in meshes:
                m = UsdGeom.Mesh.Define(stage, f"/hoirecon/{safe_name(name)}")
                m.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(np.ascontiguousarray(v, np.float32)))
                m.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(np.full(len(f), 3, np.int32)))
                m.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(np.ascontiguousarray(f.reshape(-1), np.int32)))
                m.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)
                m.CreateDoubleSidedAttr(True)
                lo, hi = v.min(0), v.max(0)
                m.CreateExtentAttr(Vt.Vec3fArray([Gf.Vec3f(*map(float, lo)), Gf.Vec3f(*map(float, hi))]))
                pv = UsdGeom.PrimvarsAPI(m).CreatePrimvar("displayColor", Sdf.ValueTypeNames.Color3fArray,
                                                          UsdGeom.Tokens.vertex)  # fmt: skip
                pv.Set(Vt.Vec3fArray.FromNumpy(np.ascontiguousarray(c, np.float32)))
            stage.GetRootLayer().Save()
            os.replace(tmp_usda, tmp)
        finally:
            if tmp_usda.exists():
                tmp_usda.unlink()
    return [target]


def export_folder(folder: str | os.PathLike[str], fmt: str) -> list[Path]:
    """Write ``fmt`` files next to ``folder/scene.glb``; returns their paths."""
    folder = Path(folder)
    if fmt not in FORMATS:
        raise InputError(f"--format must be one of {', '.join(FORMATS)}, got '{fmt}'")
    if not (folder / "scene.glb").is_file():
        raise InputError(f"{folder}: no scene.glb (not a reconstruction output folder)")
    return _ply(folder) if fmt == "ply" else _usd(folder)
