"""``hoirecon doctor``: what is installed and found."""

from __future__ import annotations

import importlib.metadata as md
import platform

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table


def _version(pkg: str) -> str | None:
    try:
        return md.version(pkg)
    except md.PackageNotFoundError:
        return None


def doctor() -> None:
    """Report Python, torch/CUDA, the cache folder, and which stages' backends are usable.

    \b
    Example:
      hoirecon doctor
    """
    from hoirecon import __version__
    from hoirecon.cache import cache_dir, offline

    console = Console()
    table = Table(title=f"hoirecon {__version__}", show_header=True)
    table.add_column("item")
    table.add_column("status")
    table.add_row("python", platform.python_version())
    try:
        import torch

        cuda = f"CUDA {torch.version.cuda}, {torch.cuda.device_count()} GPU(s)" if torch.cuda.is_available() else "no CUDA"
        table.add_row("torch", f"{torch.__version__} ({cuda})")
    except ImportError:
        table.add_row("torch", "[red]missing[/]")
    cache = cache_dir()
    table.add_row("cache", f"{escape(str(cache))}{' (offline mode)' if offline() else ''}")
    anny_cached = any((cache / "anny").glob("**/*")) if (cache / "anny").exists() else False
    for pkg, role in [
        ("mediapipe", "person detection + mask (offline default)"),
        ("opencv-contrib-python", "GrabCut object mask (offline default)"),
        ("anny", "Anny body model (offline default)"),
        ("open3d", "ray casting (overlay, depth, SDF)"),
        ("trimesh", "user mesh import"),
        ("smplx", "SMPL-X body model (optional)"),
        ("ultralytics", "YOLO detection (optional)"),
        ("segment-anything", "SAM masks (optional)"),
    ]:
        v = _version(pkg)
        status = f"[green]{v}[/]" if v else "[yellow]not installed[/]"
        if pkg == "anny" and v:
            status += ", data built" if anny_cached else ", data not built yet (first run builds it: ~1 min)"
        table.add_row(pkg, f"{status} - {role}")
    from hoirecon.body import body_model_status

    for name, (usable, detail) in body_model_status().items():
        table.add_row(f"body model {name}", f"{'[green]usable[/]' if usable else '[yellow]not usable[/]'} - {escape(str(detail))}")
    from hoirecon import registry

    hash_text = {
        "ok": "[green]sha256 ok[/]",
        "recorded": "[green]sha256 matches the one recorded at download[/]",
        "unknown": "sha256 not checked (none published or recorded)",
        "mismatch": "[red]corrupt (size/sha256 mismatch): delete it or re-download[/]",
    }
    for st in registry.status():
        if st.present:
            table.add_row(f"weights {st.name}", f"[green]present[/] {escape(str(st.path))} - {hash_text.get(st.hash, st.hash)}")
        else:
            table.add_row(f"weights {st.name}", f"[yellow]absent[/] - hoirecon models download {st.name} (-> {escape(str(st.path))})")
    table.add_row("offline mode", "[yellow]on[/] (HOIRECON_OFFLINE): no downloads" if offline() else "off (downloads allowed)")
    console.print(table)
    raise typer.Exit(0)
