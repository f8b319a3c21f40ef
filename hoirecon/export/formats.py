"""More mesh formats from a result folder's ``scene.glb``, each written by a maintained library.

:data:`EXPORTERS` is the one table of them: format name -> :class:`Exporter`. ``hoirecon export
--format`` offers its keys (:data:`FORMATS`). Registering a new format is one module with a
``write_<fmt>(folder: Path) -> list[Path]`` function (reading ``folder/scene.glb``, e.g. with
:func:`hoirecon.export.report.load_scene_meshes`, and writing its files next to it atomically) plus one
entry here; the module is imported only when its format is asked for, so an optional dependency
(``usd-core``) costs nothing otherwise.

* ``ply`` (:mod:`hoirecon.export.ply`, trimesh): ``scene.ply``, ``human.ply``, ``object.ply``, binary,
  vertex colours;
* ``usd`` (:mod:`hoirecon.export.usd`, ``usd-core``, optional): ``scene.usda``, vertex colours as
  ``displayColor``, ``upAxis = "Y"``, ``metersPerUnit = 1``.

All in the same frame as ``scene.glb``: +Y up, +Z toward the camera, metres. FBX is not offered: no
maintained Python library writes it (Blender can: import ``scene.glb`` and export FBX there).
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path

from hoirecon.errors import InputError

__all__ = ["Exporter", "EXPORTERS", "FORMATS", "export_folder"]


@dataclass(frozen=True)
class Exporter:
    """One extra format. ``target``: ``"module:function"``, the function ``(folder) -> [paths]``;
    ``files``: what it writes; ``help``: one line for the command line."""

    target: str
    files: tuple[str, ...]
    help: str

    def write(self, folder: Path) -> list[Path]:
        module, _, func = self.target.partition(":")
        return list(getattr(importlib.import_module(module), func)(folder))


EXPORTERS: dict[str, Exporter] = {
    "ply": Exporter("hoirecon.export.ply:write_ply", ("scene.ply", "human.ply", "object.ply"),
                    "binary PLY with vertex colours (trimesh)"),
    "usd": Exporter("hoirecon.export.usd:write_usd", ("scene.usda",),
                    "USD stage, Y up, metres (needs usd-core: pip install 'hoirecon[usd]')"),
}  # fmt: skip

#: The format names, in table order (the choices of ``hoirecon export --format``).
FORMATS = tuple(EXPORTERS)


def export_folder(folder: str | os.PathLike[str], fmt: str) -> list[Path]:
    """Write ``fmt`` files next to ``folder/scene.glb``; returns their paths."""
    folder = Path(folder)
    if fmt not in EXPORTERS:
        raise InputError(f"--format must be one of {', '.join(EXPORTERS)}, got '{fmt}'")
    if not (folder / "scene.glb").is_file():
        raise InputError(f"{folder}: no scene.glb (not a reconstruction output folder)")
    return EXPORTERS[fmt].write(folder)
