"""``hoirecon blender OUT_DIR``: the result folder as a Blender scene (.blend), through the Blender
script shipped in the package (``hoirecon/data/blender/import_scene.py``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from importlib import resources
from pathlib import Path
from typing import Optional

import typer

from hoirecon.cli.common import print_info, user_errors
from hoirecon.errors import HoireconError, InputError, MissingModelError, first_line, shown

BLENDER_HELP = ("Blender to run (default: $HOIRECON_BLENDER, then `blender` on the PATH).")


def import_script() -> Path:
    """The shipped Blender script's path."""
    return Path(str(resources.files("hoirecon.data").joinpath("blender").joinpath("import_scene.py")))


def find_blender(given: Path | None) -> str:
    """The Blender executable: ``given``, then ``$HOIRECON_BLENDER``, then ``blender`` on the PATH;
    MissingModelError (exit 3) saying where to get it otherwise."""
    for cand, what in ((given, "--blender"), (os.environ.get("HOIRECON_BLENDER"), "HOIRECON_BLENDER")):
        if cand:
            exe = shutil.which(str(cand))
            if exe is None:
                raise MissingModelError(f"{what} {shown(cand)}: no such executable")
            return exe
    exe = shutil.which("blender")
    if exe is None:
        raise MissingModelError("Blender not found: install it (https://www.blender.org/download/, or `apt install "
                                "blender`) or pass --blender PATH")  # fmt: skip
    return exe


def blender_cmd(
    out_dir: Path = typer.Argument(..., help="A result folder of `hoirecon reconstruct` or one photo's folder of a batch."),
    blend: Optional[Path] = typer.Option(None, "--blend", help="Where to save the .blend (default: OUT_DIR/scene.blend)."),
    blender: Optional[Path] = typer.Option(None, "--blender", help=BLENDER_HELP),
    background: bool = typer.Option(True, "--background/--no-background", help="Show the photo behind the meshes in the camera view (when params.json's image path exists)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print nothing but errors."),
) -> None:
    """Open a result in Blender and save it as a .blend: the meshes with their colours, the photo's
    camera as the scene camera at the photo's resolution, the photo as its background, a sun light.
    Works around the Debian 12 Blender 3.4 glTF importer bug (numpy.bool). Runs Blender in the
    background (no window).

    \b
    Examples:
      hoirecon blender out/photo
      hoirecon blender results/img_0001 --blend ~/scenes/img_0001.blend --blender /opt/blender/blender
    """
    with user_errors():
        folder = Path(out_dir)
        for name in ("scene.glb", "params.json"):
            if not (folder / name).is_file():
                raise InputError(f"{shown(folder)}: no {name} (not a hoirecon result folder)")
        target = Path(blend) if blend is not None else folder / "scene.blend"
        if target.suffix.lower() != ".blend":
            raise InputError(f"--blend {shown(target)}: must end in .blend")
        if not target.parent.is_dir():
            raise InputError(f"--blend {shown(target)}: no such folder {shown(target.parent)}")
        exe = find_blender(blender)
        tmp = target.parent / f".{target.stem}.{uuid.uuid4().hex[:12]}.part.blend"
        cmd = [exe, "-b", "--factory-startup", "--python-exit-code", "1", "--python", str(import_script()), "--",
               str(folder), str(tmp)] + ([] if background else ["--no-background"])  # fmt: skip
        try:
            res = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
            said = [ln for ln in (res.stdout + res.stderr).splitlines() if ln.startswith("hoirecon-blender:")]
            if res.returncode != 0 or not tmp.is_file():
                why = next((ln.split("error: ", 1)[1] for ln in said if "error: " in ln), None)
                tail = first_line(res.stderr.strip().splitlines()[-1] if res.stderr.strip() else f"exit code {res.returncode}")
                raise HoireconError(f"Blender failed on {shown(folder)}: {why or tail}")
            os.replace(tmp, target)
        except subprocess.TimeoutExpired:
            raise HoireconError(f"Blender took over 10 minutes on {shown(folder)}") from None
        finally:
            for leftover in (tmp, tmp.with_suffix(".blend1")):
                leftover.unlink(missing_ok=True)
        if not quiet:
            for ln in said:
                if "notice:" in ln:
                    print_info(ln.split("hoirecon-blender: ", 1)[1])
            print_info(f"saved {shown(target)}")
