"""Errors that the CLI turns into one-line messages with a non-zero exit code, and the helpers that
keep those messages to one readable line (user values shortened, exceptions cut to their first line)."""

from __future__ import annotations

import os
from typing import Any

#: Longest user-supplied value (label, path, sidecar value) echoed whole in a message.
MAX_SHOWN = 200


class HoireconError(Exception):
    """A user-facing failure. ``exit_code`` is what the CLI returns."""

    exit_code = 1


class InputError(HoireconError):
    """Bad input: unreadable image, bad box, unknown label, missing file."""

    exit_code = 2


class NoPersonError(InputError):
    """No person was found in the image."""


class MissingModelError(HoireconError):
    """A model or weights file is not available (offline, licence-gated)."""

    exit_code = 3


def shown(value: Any, limit: int = MAX_SHOWN) -> str:
    """``value`` as one line of at most ``limit`` characters, for a message: strings and paths as
    they are (line breaks escaped), anything else by ``repr``; the middle of a longer text is
    replaced by ``...`` and its length (so that both ends of a long path stay readable)."""
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    text = value if isinstance(value, str) else repr(value)
    text = text.replace("\r", "\\r").replace("\n", "\\n")
    if len(text) <= limit:
        return text
    keep = max(8, limit - 24)
    head, tail = text[: keep * 2 // 3], text[-(keep - keep * 2 // 3):]
    return f"{head}...[{len(text)} characters]...{tail}"


def first_line(exc: BaseException) -> str:
    """The first non-empty line of an exception's text, or its class name."""
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__
