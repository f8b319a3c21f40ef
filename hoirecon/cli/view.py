"""``hoirecon view`` (index.html + turntables) and ``hoirecon export`` (more mesh formats)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import typer

from hoirecon.cli.common import print_info, user_errors

#: the keys of hoirecon.export.formats.EXPORTERS (a test holds them equal; the CLI does not import
#: the export stage to show its help)
FormatName = Literal["ply", "usd"]

VIEW_HELP = """Write OUT_DIR/index.html to look at results in a browser, with a turntable per scene.

OUT_DIR is one reconstruction folder or a batch folder (one card per image: overlay, turntable,
an orbitable 3D view, status, object, contact distance, penetration, silhouette IoU, body height,
seconds, error, links to the files). The page works offline from file:// (viewer.js and each
folder's scene.glb.js are written beside it); index.html#NAME opens that card's 3D view. Turntables (turntable.gif and turntable.png: 8 azimuths, ray cast on the CPU) are
rendered for folders that have none yet.

\b
Examples:
  hoirecon view out/camera
  hoirecon view results/                 # a batch folder
  hoirecon view results/ --no-turntable  # the page only
"""

EXPORT_HELP = """Write more mesh formats next to scene.glb (same frame: +Y up, metres).

ply: scene.ply, human.ply, object.ply with vertex colours (trimesh). usd: scene.usda with
displayColor (needs usd-core: pip install 'hoirecon[usd]'). OUT_DIR is one reconstruction folder
or a batch folder (every image folder with a scene.glb). FBX: import scene.glb into Blender and
export FBX there (no maintained Python FBX writer).

\b
Examples:
  hoirecon export out/camera --format ply
  hoirecon export results/ --format usd
"""


def view(
    out_dir: Path = typer.Argument(..., help="A reconstruction folder or a batch folder.", show_default=False),
    turntable: bool = typer.Option(True, "--turntable/--no-turntable", help="Render missing turntables."),
) -> None:
    with user_errors():
        from hoirecon.errors import InputError, shown
        from hoirecon.export.report import result_folders, write_index

        if not out_dir.is_dir():
            raise InputError(f"{shown(out_dir)}: not a folder")
        if not result_folders(out_dir):
            raise InputError(f"{shown(out_dir)}: no reconstruction folders in it (params.json, done or error.txt)")
        path = write_index(out_dir, turntables=turntable)
        print_info(f"wrote {path}")


def export(
    out_dir: Path = typer.Argument(..., help="A reconstruction folder or a batch folder.", show_default=False),
    fmt: FormatName = typer.Option(..., "--format", "-f", help="ply or usd.", show_default=False),
) -> None:
    with user_errors():
        from hoirecon.errors import InputError, shown
        from hoirecon.export.formats import export_folder
        from hoirecon.export.report import result_folders

        if not out_dir.is_dir():
            raise InputError(f"{shown(out_dir)}: not a folder")
        folders = [f for f in result_folders(out_dir) if (f / "scene.glb").is_file()]
        if not folders:
            raise InputError(f"{shown(out_dir)}: no scene.glb in it or in its sub-folders")
        n = 0
        for f in folders:
            n += len(export_folder(f, fmt))
        print_info(f"wrote {n} {fmt} file(s) in {len(folders)} folder(s) under {out_dir}")
