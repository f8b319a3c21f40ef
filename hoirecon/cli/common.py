"""What every command shares: the stderr console, one-line errors, HOIRECON_DEBUG."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Iterator

import typer
from rich.console import Console

from hoirecon.errors import HoireconError

err_console = Console(stderr=True, highlight=False)


def debug() -> bool:
    return os.environ.get("HOIRECON_DEBUG", "").lower() in {"1", "true", "yes", "on"}


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn failures into one line on stderr and a non-zero exit (full traceback with HOIRECON_DEBUG=1)."""
    try:
        yield
    except typer.Exit:
        raise
    except HoireconError as exc:
        if debug():
            raise
        err_console.print(f"[bold red]error:[/] {exc}", markup=True, soft_wrap=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("interrupted")
        raise typer.Exit(130) from None
    except Exception as exc:  # an internal failure: still one line, with the hint to get the traceback
        if debug():
            raise
        msg = str(exc).splitlines()[0] if str(exc) else ""
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {msg} (set HOIRECON_DEBUG=1 for the traceback)",
            markup=True,
            soft_wrap=True,
        )
        raise typer.Exit(1) from None


def quiet_native_logs() -> None:
    """Silence TensorFlow-Lite/absl/glog chatter from MediaPipe and warp on stderr."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
