"""Errors that the CLI turns into one-line messages with a non-zero exit code."""


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
