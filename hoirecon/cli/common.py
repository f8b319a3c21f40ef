"""What every command shares: the stderr console, one-line messages, HOIRECON_DEBUG, quiet native logs.

Every message is plain text: user-supplied strings (paths, labels, sidecar values, exception texts)
are never read as rich markup. Styling comes from :class:`rich.text.Text` spans only.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from contextlib import contextmanager
from typing import Any, Iterator

import importlib

import typer
import typer.core
from rich.console import Console
from rich.text import Text

from hoirecon.errors import HoireconError, first_line, shown

# markup=False: nothing printed through this console is parsed for [tags]; emoji=False: nor :codes:.
err_console = Console(stderr=True, highlight=False, markup=False, emoji=False)

_STATE = {"quiet": False}


def debug() -> bool:
    return os.environ.get("HOIRECON_DEBUG", "").lower() in {"1", "true", "yes", "on"}


def print_json(data: Any) -> None:
    """``data`` as one JSON document on stdout (UTF-8, indented; paths as strings), never rich-rendered."""
    import json

    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def plain(text: Any) -> Text:
    """A user string as rich Text, never parsed for markup."""
    return Text(str(text))


def _line(prefix: str, style: str, message: str) -> None:
    err_console.print(Text.assemble((prefix, style), " ", message), soft_wrap=True)


def print_error(message: str) -> None:
    """``error: <message>`` on stderr (printed even with --quiet)."""
    _line("error:", "bold red", message)


def print_warning(message: str) -> None:
    """``warning: <message>`` on stderr, unless --quiet."""
    if not _STATE["quiet"]:
        _line("warning:", "yellow", message)


def print_notice(message: str) -> None:
    """``notice: <message>`` on stderr, unless --quiet."""
    if not _STATE["quiet"]:
        _line("notice:", "yellow", message)


def print_info(message: str | Text) -> None:
    """A plain progress/result line on stderr, unless --quiet."""
    if not _STATE["quiet"]:
        err_console.print(message if isinstance(message, Text) else Text(message), soft_wrap=True)


def set_quiet(quiet: bool) -> None:
    """--quiet: from now on only errors reach stderr (our warnings and notices, Python warnings and
    library log records are dropped)."""
    _STATE["quiet"] = bool(quiet)
    if quiet and not debug():
        warnings.simplefilter("ignore")
        logging.getLogger().setLevel(logging.ERROR)


def is_quiet() -> bool:
    return _STATE["quiet"]


class _WarningHandler(logging.Handler):
    """hoirecon's own ``logging`` warnings -> one ``warning:`` line each."""

    def emit(self, record: logging.LogRecord) -> None:  # pragma: no cover - exercised via the CLI
        try:
            print_warning(record.getMessage())
        except Exception:  # noqa: BLE001
            pass


_HANDLER = _WarningHandler(level=logging.WARNING)


def setup_logging() -> None:
    """Our loggers print one-line warnings; third-party Python loggers and warnings are silenced
    unless HOIRECON_DEBUG=1."""
    log = logging.getLogger("hoirecon")
    if _HANDLER not in log.handlers:
        log.addHandler(_HANDLER)
    if not debug():
        warnings.simplefilter("ignore")
        for name in ("ultralytics", "ray", "absl", "matplotlib", "PIL", "trimesh", "urllib3", "filelock"):
            logging.getLogger(name).setLevel(logging.ERROR)


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
        print_error(first_line(exc))
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err_console.print("interrupted")
        raise typer.Exit(130) from None
    except Exception as exc:  # an internal failure: still one line, with the hint to get the traceback
        if debug():
            raise
        msg = shown(first_line(exc), 400)
        _line("internal error:", "bold red", f"{type(exc).__name__}: {msg} (set HOIRECON_DEBUG=1 for the traceback)")
        raise typer.Exit(1) from None


def quiet_native_logs() -> None:
    """Ask TensorFlow-Lite/absl/glog (MediaPipe) and Open3D to log errors only (unless HOIRECON_DEBUG).

    The environment variables must be set before those libraries load; lines they print regardless
    (``INFO: Created TensorFlow Lite XNNPACK delegate``) are caught by :func:`redirect_native_stderr`."""
    if debug():
        return
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()


def silence_open3d() -> None:
    """Open3D's own log lines (``[Open3D WARNING] ...``) off, unless HOIRECON_DEBUG."""
    if debug():
        return
    try:
        import open3d as o3d

        o3d.utility.set_verbosity_level(o3d.utility.VerbosityLevel.Error)
    except Exception:  # noqa: BLE001 - a log level is a nicety
        pass


def redirect_native_stderr(target: str | None = None) -> None:
    """Send what native code writes to file descriptor 2 to ``target`` (default: the null device),
    while Python's ``sys.stderr`` (our messages, rich progress, tracebacks) keeps the real stderr.

    Used by the ``hoirecon`` console script (not by in-process test runners) and by batch worker
    processes; a no-op with HOIRECON_DEBUG=1, where everything is shown."""
    if debug():
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
        sys.stderr = os.fdopen(saved, "w", buffering=1, encoding="utf-8", errors="backslashreplace")
        if target:
            os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        else:
            fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, 2)
        os.close(fd)
    except OSError:  # pragma: no cover - keep the real stderr
        pass


def _click_exceptions() -> tuple[tuple[type, ...], tuple[type, ...], tuple[type, ...]]:
    """(UsageError, ClickException, Abort) classes of the click that typer uses: its vendored copy
    (typer >= 0.2x) and/or the click package."""
    usage: list[type] = []
    other: list[type] = []
    abort: list[type] = [typer.Abort]
    for name in ("typer._click.exceptions", "click.exceptions"):
        try:
            m = importlib.import_module(name)
        except ImportError:
            continue
        usage.append(m.UsageError)
        other.append(m.ClickException)
        if hasattr(m, "Abort"):
            abort.append(m.Abort)
    return tuple(usage), tuple(other), tuple(abort)


_USAGE, _CLICK, _ABORT = _click_exceptions()


class OneLineGroup(typer.core.TyperGroup):
    """The command group: usage errors (unknown option, bad choice, missing argument) print one line
    ``error: ...`` and exit 2, like every other input error, instead of click's three-line block."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):  # type: ignore[override]
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            rv = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except _USAGE as e:
            ctx = getattr(e, "ctx", None)
            where = f"{ctx.command_path}: " if ctx is not None else ""
            hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
            print_error(f"{where}{shown(e.format_message(), 400)}{hint}")
            sys.exit(2)
        except _CLICK as e:
            print_error(shown(e.format_message(), 400))
            sys.exit(e.exit_code)
        except _ABORT:
            err_console.print("interrupted")
            sys.exit(130)
        sys.exit(rv if isinstance(rv, int) else 0)


def with_download_progress(name: str, quiet: bool, fn):
    """Run ``fn(progress_callback)``, with a rich progress bar on stderr unless ``quiet``."""
    if quiet:
        return fn(None)
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(name, total=None)

        def cb(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        return fn(cb)


def fetch_detector_on_first_use(det, quiet: bool, needed: bool) -> None:
    """Download the YOLO weights now (before any model loads; a progress bar on stderr unless ``quiet``)
    when ``--detector auto`` needs them (``needed``: a photo without an object box or mask) or
    ``--detector yolo`` asks for them, they are not in the cache, no ``--yolo-weights`` path is given and
    the run is not offline. ``det``: the run's ``DetectorConfig``. A failed download is a
    MissingModelError (exit 3) saying where to put the file by hand."""
    from hoirecon import registry

    if det.detector == "mediapipe" or det.yolo_weights is not None or det.offline:
        return
    if not (needed or det.detector == "yolo") or registry.cached_path(det.yolo_model).is_file():
        return
    e = registry.get(det.yolo_model)
    print_notice(f"first use: downloading {e.name} ({e.description}; licence {e.licence}) from "
                 f"{registry.download_url(e)} into {registry.cached_path(e).parent}")  # fmt: skip
    with_download_progress(e.name, quiet, lambda cb: registry.resolve(e.name, offline=False, progress=cb))
