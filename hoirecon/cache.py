"""The hoirecon cache folder: ``$HOIRECON_HOME``, else ``${XDG_CACHE_HOME:-~/.cache}/hoirecon``."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir(create: bool = True) -> Path:
    """The cache root. Created on first use unless ``create`` is False."""
    env = os.environ.get("HOIRECON_HOME")
    if env:
        root = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(xdg).expanduser() / "hoirecon"
    if create:
        root.mkdir(parents=True, exist_ok=True)
    return root


def offline() -> bool:
    """True when ``HOIRECON_OFFLINE`` is set to a true value: never touch the network."""
    return os.environ.get("HOIRECON_OFFLINE", "").lower() in {"1", "true", "yes", "on"}


def anny_data_ready() -> bool:
    """True when Anny's body-model data has been built into the cache (the first use builds it,
    about a minute; see ``hoirecon.body.anny_model``)."""
    folder = cache_dir(create=False) / "anny"
    return folder.is_dir() and any(p.is_file() for p in folder.rglob("*"))
