"""Atomic file and folder writes: write to a temporary name beside the target, then rename."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in ``target``'s folder; on success rename it onto ``target``.

    On an exception the temporary file is removed and ``target`` is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part" + target.suffix, dir=target.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; give them the usual permissions
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(target: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: str | os.PathLike[str], text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


def write_json(target: str | os.PathLike[str], obj: Any) -> None:
    write_text(target, json.dumps(obj, indent=2, sort_keys=False) + "\n")


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success it replaces ``target`` (an existing
    ``target`` is removed only then). On an exception the temporary folder is removed.

    The new folder gets hoirecon's :data:`MARKER`; an existing ``target`` is replaced only when it is
    hoirecon's own or empty (else InputError, and nothing is written)."""
    target = Path(target)
    check_output(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent))
    try:
        yield tmp
        write_marker(tmp)
        if target.exists():
            old = target.with_name(f".{target.name}.old")
            if old.exists():
                shutil.rmtree(old)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------------------ folders we may write

#: The file hoirecon writes into every output folder it makes: a folder is replaced or written into
#: only when it is new, empty, or holds this marker (so a user's own folder is never touched).
MARKER = ".hoirecon"


def is_ours(folder: str | os.PathLike[str]) -> bool:
    """True when ``folder`` holds hoirecon's marker file."""
    return (Path(folder) / MARKER).is_file()


def write_marker(folder: str | os.PathLike[str]) -> None:
    from hoirecon import __version__

    (Path(folder) / MARKER).write_text(
        json.dumps({"written_by": "hoirecon", "version": __version__}) + "\n", encoding="utf-8"
    )


def _writable(folder: Path) -> bool:
    """Writable by us, and not marked read-only (no write bit at all: refused even for root, who
    could write anyway)."""
    try:
        mode = folder.stat().st_mode
    except OSError:
        return False
    return os.access(folder, os.W_OK | os.X_OK) and bool(mode & 0o222)


def _first_existing(path: Path) -> Path:
    p = path.absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    return p


def output_problem(folder: str | os.PathLike[str], *, own: bool = True) -> str | None:
    """Why hoirecon may not write its outputs into ``folder`` (None when it may).

    The folder may be created (its first existing parent is a writable folder), or it exists, is a
    writable folder, and (``own=True``) is empty or holds :data:`MARKER`. Checked before any work."""
    from hoirecon.errors import shown

    p = Path(folder)
    name = shown(p)
    if p.is_symlink() and not p.exists():
        return f"{name}: is a broken symbolic link"
    if p.exists():
        if not p.is_dir():
            return f"{name}: exists and is not a folder"
        if not _writable(p):
            return f"{name}: folder is not writable"
        if own and not is_ours(p):
            try:
                empty = not any(p.iterdir())
            except OSError as e:
                return f"{name}: cannot list the folder ({e.strerror or e})"
            if not empty:
                return (f"{name}: folder exists and was not written by hoirecon (no {MARKER} marker); "
                        "it is left alone: choose another output folder or empty it")
        return None
    anc = _first_existing(p)
    if not anc.is_dir():
        return f"{name}: cannot be created, {shown(anc)} is not a folder"
    if not _writable(anc):
        return f"{name}: cannot be created, {shown(anc)} is not writable"
    return None


def check_output(folder: str | os.PathLike[str], *, own: bool = True) -> None:
    """Raise InputError (exit 2) with :func:`output_problem`'s reason."""
    from hoirecon.errors import InputError

    why = output_problem(folder, own=own)
    if why:
        raise InputError(why)
