"""``hoirecon doctor``: what is installed and found."""

from __future__ import annotations

import importlib.metadata as md
import platform
import re

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hoirecon.cli.common import print_json
from hoirecon.cli.options import JSON_OUT


def _version(pkg: str) -> str | None:
    try:
        return md.version(pkg)
    except md.PackageNotFoundError:
        return None


def _release(version: str) -> tuple[int, ...]:
    """The leading numbers of a version string: "0.10.21" -> (0, 10, 21), "1.2.3rc1" -> (1, 2, 3)."""
    out = []
    for part in version.split("."):
        m = re.match(r"\d+", part)
        if m is None:
            break
        out.append(int(m.group()))
    return tuple(out)


_PACKAGES = [
    ("mediapipe", "person detection + mask (offline default)"),
    ("opencv-contrib-python", "GrabCut object mask (offline default)"),
    ("anny", "Anny body model (offline default)"),
    ("open3d", "ray casting (overlay, depth, SDF)"),
    ("trimesh", "user mesh import"),
    ("smplx", "SMPL-X body model (optional)"),
    ("ultralytics", "YOLO detection (optional)"),
    ("segment-anything", "SAM masks (optional)"),
]

_HASH_TEXT = {
    "ok": "[green]sha256 ok[/]",
    "recorded": "[green]sha256 matches the one recorded at download[/]",
    "unknown": "sha256 not checked (none published or recorded)",
    "mismatch": "[red]corrupt (size/sha256 mismatch): delete it or re-download[/]",
}


def report() -> dict:
    """What ``doctor`` prints, as data: python, torch (version, CUDA, GPUs), the cache folder and offline
    mode, each package (version or None, its role; Anny: whether its data is built), each body model
    (usable, detail) and each weights file (present, path, hash status)."""
    from hoirecon import __version__, registry
    from hoirecon.body import body_model_status
    from hoirecon.cache import cache_dir, offline

    out: dict = {"hoirecon": __version__, "python": platform.python_version()}
    try:
        import torch

        cuda = torch.cuda.is_available()
        out["torch"] = {"version": torch.__version__, "cuda": torch.version.cuda if cuda else None,
                        "gpus": torch.cuda.device_count() if cuda else 0}  # fmt: skip
    except ImportError:
        out["torch"] = None
    cache = cache_dir()
    out["cache"] = str(cache)
    out["offline"] = offline()
    anny_cached = any((cache / "anny").glob("**/*")) if (cache / "anny").exists() else False
    out["packages"] = {pkg: {"version": _version(pkg), "role": role} for pkg, role in _PACKAGES}
    out["packages"]["anny"]["data_built"] = anny_cached
    mp = out["packages"]["mediapipe"]
    mp["usable"] = mp["version"] is not None and _release(mp["version"]) < (0, 10, 30)  # 0.10.30 dropped mp.solutions
    out["body_models"] = {name: {"usable": bool(usable), "detail": str(detail)}
                          for name, (usable, detail) in body_model_status().items()}  # fmt: skip
    out["weights"] = [{"name": st.name, "present": bool(st.present), "path": str(st.path), "hash": st.hash}
                      for st in registry.status()]  # fmt: skip
    return out


def doctor(json_out: bool = JSON_OUT) -> None:
    """Report Python, torch/CUDA, the cache folder, and which stages' backends are usable.

    \b
    Examples:
      hoirecon doctor
      hoirecon doctor --json
    """
    r = report()
    if json_out:
        print_json(r)
        raise typer.Exit(0)
    console = Console()
    table = Table(title=f"hoirecon {r['hoirecon']}", show_header=True)
    table.add_column("item")
    table.add_column("status")
    table.add_row("python", r["python"])
    t = r["torch"]
    if t is None:
        table.add_row("torch", "[red]missing[/]")
    else:
        cuda = f"CUDA {t['cuda']}, {t['gpus']} GPU(s)" if t["cuda"] else "no CUDA"
        table.add_row("torch", f"{t['version']} ({cuda})")
    table.add_row("cache", f"{escape(r['cache'])}{' (offline mode)' if r['offline'] else ''}")
    for pkg, info in r["packages"].items():
        v = info["version"]
        status = f"[green]{v}[/]" if v else "[yellow]not installed[/]"
        if pkg == "mediapipe" and v and not info["usable"]:
            status = f"[red]{v}: has no mp.solutions[/] (pip install 'mediapipe>=0.10.14,<0.10.30')"
        if pkg == "anny" and v:
            status += ", data built" if info["data_built"] else ", data not built yet (first run builds it: ~1 min)"
        table.add_row(pkg, f"{status} - {info['role']}")
    for name, b in r["body_models"].items():
        table.add_row(f"body model {name}", f"{'[green]usable[/]' if b['usable'] else '[yellow]not usable[/]'} - {escape(b['detail'])}")
    for w in r["weights"]:
        if w["present"]:
            table.add_row(f"weights {w['name']}", f"[green]present[/] {escape(w['path'])} - {_HASH_TEXT.get(w['hash'], w['hash'])}")
        else:
            table.add_row(f"weights {w['name']}", f"[yellow]absent[/] - hoirecon models download {w['name']} (-> {escape(w['path'])})")
    table.add_row("offline mode", "[yellow]on[/] (HOIRECON_OFFLINE): no downloads" if r["offline"] else "off (downloads allowed)")
    console.print(table)
    raise typer.Exit(0)
