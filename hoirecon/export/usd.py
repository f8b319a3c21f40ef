"""``usd`` export (Pixar's ``usd-core`` package, optional: ``pip install 'hoirecon[usd]'``):
``scene.usda`` with ``/hoirecon/human`` and ``/hoirecon/object_<category>`` ``Mesh`` prims, vertex
colours as the ``displayColor`` primvar (vertex interpolation), ``upAxis = "Y"`` and
``metersPerUnit = 1``; the frame of ``scene.glb`` (+Y up, +Z toward the camera, metres)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from hoirecon import fsutil
from hoirecon.errors import InputError
from hoirecon.export.mesh_io import safe_name
from hoirecon.export.report import load_scene_meshes

__all__ = ["write_usd"]


def write_usd(folder: Path) -> list[Path]:
    """Write ``scene.usda`` next to ``folder/scene.glb``; returns its path."""
    try:
        from pxr import Gf, Sdf, Usd, UsdGeom, Vt
    except ImportError:
        raise InputError("--format usd needs usd-core: pip install 'hoirecon[usd]' (or pip install usd-core)") from None

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
