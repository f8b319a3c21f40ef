"""``hoirecon models``: list, download and locate the weights files (YOLO, SAM) in the cache."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hoirecon.cli.common import err_console, print_json, user_errors, with_download_progress
from hoirecon.cli.options import JSON_OUT

models_app = typer.Typer(
    name="models",
    help="List, download and locate weights files (YOLO, SAM) in the hoirecon cache.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

_OFFLINE_HELP = "Never touch the network (same as HOIRECON_OFFLINE=1)."


def _human(n: int | None) -> str:
    if n is None:
        return "?"
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover


@models_app.command("list")
def list_cmd(json_out: bool = JSON_OUT) -> None:
    """List the known weights: name, kind, whether it is in the cache, size, licence, path.

    \b
    Examples:
      hoirecon models list
      hoirecon models list --json
    """
    from hoirecon import registry

    with user_errors():
        ents = registry.entries()
        if json_out:
            rows = []
            for st in registry.status(verify=False):
                e = ents[st.name]
                rows.append({"name": e.name, "kind": e.kind, "present": bool(st.present),
                             "size_bytes": st.path.stat().st_size if st.present else e.size, "licence": e.licence,
                             "path": str(st.path)})  # fmt: skip
            print_json(rows)
            return
        table = Table(title="weights", show_header=True)
        table.add_column("name", no_wrap=True)
        table.add_column("kind", no_wrap=True)
        table.add_column("present", no_wrap=True)
        table.add_column("size", no_wrap=True)
        table.add_column("licence")
        table.add_column("path", overflow="fold")
        for st in registry.status(verify=False):
            e = ents[st.name]
            present = "[green]yes[/]" if st.present else "[yellow]no[/]"
            size = _human(st.path.stat().st_size if st.present else e.size)
            table.add_row(escape(e.name), e.kind, present, size, escape(e.licence), escape(str(st.path)))
        Console().print(table)


@models_app.command("download")
def download_cmd(
    name: str = typer.Argument(..., help="Registry name, e.g. yolo11n-seg or sam_vit_b (see `hoirecon models list`)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    force: bool = typer.Option(False, "--force", help="Download again even when a valid file is cached."),
    offline: bool = typer.Option(False, "--offline", help=_OFFLINE_HELP),
) -> None:
    """Download a weights file into the cache (checked, then renamed into place) and print its path.

    A cached file that checks out is kept; a corrupt one is downloaded again. With
    HOIRECON_WEIGHTS_MIRROR=URL/ the file comes from URL/<filename> instead.

    \b
    Examples:
      hoirecon models download yolo11n-seg
      hoirecon models download sam_vit_b --quiet
      HOIRECON_WEIGHTS_MIRROR=http://mirror.local/weights/ hoirecon models download sam_vit_h
    """
    from hoirecon import registry

    with user_errors():
        registry.get(name)
        before = registry.check(name)
        path = with_download_progress(
            name, quiet, lambda cb: registry.download(name, force=force, offline=True if offline else None, progress=cb)
        )
        if before.present and before.hash != "mismatch" and not force and not quiet:
            err_console.print(f"{name}: already in the cache", markup=False)
        typer.echo(str(path))


@models_app.command("path")
def path_cmd(
    name: str = typer.Argument(..., help="Registry name, e.g. yolo11n-seg or sam_vit_b."),
    download: bool = typer.Option(False, "--download", help="Download the file when it is not cached."),
    offline: bool = typer.Option(False, "--offline", help=_OFFLINE_HELP),
) -> None:
    """Print the path of a cached weights file; fail with one line (exit 3) when it is not there.

    \b
    Examples:
      hoirecon models path sam_vit_b
      hoirecon models path yolo11n-seg --download
      hoirecon models path sam_vit_b --offline
    """
    from hoirecon import registry

    with user_errors():
        path = with_download_progress(
            name,
            not download or offline,
            lambda cb: registry.resolve(name, download=download, offline=True if offline else None, progress=cb),
        )
        typer.echo(str(path))
