"""The ``hoirecon`` command (Typer). One module per command."""

from __future__ import annotations

from typing import Optional

import typer

from hoirecon.cli.batch import HELP as BATCH_HELP
from hoirecon.cli.batch import batch
from hoirecon.cli.blender import blender_cmd
from hoirecon.cli.common import OneLineGroup, quiet_native_logs, redirect_native_stderr, setup_logging
from hoirecon.cli.doctor import doctor
from hoirecon.cli.models import models_app
from hoirecon.cli.objects import objects_cmd
from hoirecon.cli.reconstruct import HELP as RECONSTRUCT_HELP
from hoirecon.cli.reconstruct import reconstruct
from hoirecon.cli.view import EXPORT_HELP, VIEW_HELP, export, view

app = typer.Typer(
    name="hoirecon",
    help="One photo of a person using an object -> a metric 3D human + object scene (GLB, OBJ, JSON).",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion (bash, zsh, fish, PowerShell)
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # help is plain text: "[x0, y0, x1, y1]" and "'hoirecon[usd]'" print as written
    cls=OneLineGroup,
)


def _version_callback(value: bool) -> None:
    if value:
        from hoirecon import __version__

        typer.echo(f"hoirecon {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Optional[bool] = typer.Option(
        None, "--version", callback=_version_callback, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    quiet_native_logs()
    setup_logging()


app.command("reconstruct", help=RECONSTRUCT_HELP)(reconstruct)
app.command("batch", help=BATCH_HELP)(batch)
app.command("view", help=VIEW_HELP)(view)
app.command("export", help=EXPORT_HELP)(export)
app.command("doctor")(doctor)
app.command("objects")(objects_cmd)
app.command("blender")(blender_cmd)
app.add_typer(models_app, name="models", help="List, download and locate weights files (YOLO, SAM) in the cache.")

def run() -> None:
    """The ``hoirecon`` console script: native libraries' stderr lines (TensorFlow Lite, absl, glog)
    go to the null device (HOIRECON_DEBUG=1 shows them), then the app runs."""
    quiet_native_logs()
    redirect_native_stderr()
    app()


if __name__ == "__main__":
    run()
