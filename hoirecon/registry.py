"""The weights registry: which checkpoint files hoirecon can use, where they live, how they are fetched.

Entries come from ``hoirecon/data/weights.json`` (name -> url, sha256, size, filename, licence, kind,
description) plus any added at run time with :func:`register` / :func:`registered` (tests, plugins).

:func:`resolve` finds a weights file, in this order:

1. an explicit ``path`` (it must exist, else :class:`~hoirecon.errors.InputError` naming it; it is not
   hash-checked: it may be your own fine-tuned checkpoint);
2. the cache, ``cache_dir()/weights/<filename>`` (``$HOIRECON_HOME``, else
   ``${XDG_CACHE_HOME:-~/.cache}/hoirecon``), checked against the known size and sha256; a file that does
   not match is an error telling to delete it or re-download it (``hoirecon models download NAME``). The
   sha256 of a file is computed once per process per (path, mtime, size);
3. a download (unless offline: ``HOIRECON_OFFLINE=1`` or ``offline=True``, which never touch the network):
   streamed with ``urllib.request`` to a ``<filename>.<random>.part`` file in the cache folder, with a
   socket timeout, up to :data:`ATTEMPTS` attempts with a short exponential backoff (:data:`BACKOFF_S`)
   on network errors, truncated transfers and HTTP 5xx/429; checked (Content-Length, size, sha256) and
   only then renamed onto the final name with ``os.replace``. On any failure the ``.part`` file is removed
   and :class:`~hoirecon.errors.MissingModelError` (exit 3) says, on one line, what, from where, why, and
   where to put the file by hand. Nothing is ever written into the current directory. Processes that
   want the same file at once (``hoirecon batch --jobs N`` workers) download it once: a download holds
   an exclusive lock on ``.<filename>.lock`` in the cache folder (``fcntl.flock``; not on Windows), and
   a process that waited for the lock uses the file the other one wrote.

About the hashes: the sha256 and size in ``weights.json`` are only those known with confidence when it
was written (the three SAM checkpoints). The Ultralytics YOLO11 files have ``"sha256": null`` and
``"size": null``: for them a download is checked against the size (when known) and the server's
Content-Length only, and the sha256 computed while downloading is recorded in a ``<filename>.sha256``
sidecar beside the file (trust on first use); later runs check the cached file against that record.

``HOIRECON_WEIGHTS_MIRROR=http://host/path/`` makes every download URL ``<mirror><filename>`` (an
internal mirror, or a local test server).
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import re
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Callable, Iterator, Mapping, NamedTuple

from hoirecon import cache as _cache
from hoirecon.errors import InputError, MissingModelError

#: Download attempts (network errors, truncated transfers, HTTP 5xx/429/408 are retried).
ATTEMPTS = 3
#: Backoff before the 2nd attempt, doubled for each further one (seconds).
BACKOFF_S = 1.0
#: Socket timeout for connecting and for each read (seconds).
TIMEOUT_S = 30.0
#: Read size while streaming and hashing.
CHUNK = 1 << 20
#: Environment variable: download from ``<mirror><filename>`` instead of each entry's URL.
MIRROR_ENV = "HOIRECON_WEIGHTS_MIRROR"
#: Hash states reported by :func:`status` / :func:`check`.
HASH_STATES = ("ok", "recorded", "unknown", "mismatch", "absent")

Progress = Callable[[int, "int | None"], None]
"""``progress(bytes_done, total_bytes_or_None)``, called as a download goes."""

_SHA_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class WeightsEntry:
    """One downloadable weights file. ``sha256``/``size`` are None where not known with confidence."""

    name: str
    url: str
    filename: str
    sha256: str | None = None
    size: int | None = None
    licence: str = ""
    kind: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError("weights entry needs a name")
        fn = self.filename
        if not fn or fn in {".", ".."} or "/" in fn or "\\" in fn or fn != fn.strip():
            raise ValueError(f"weights entry {self.name}: filename must be a plain file name, got {fn!r}")
        if self.sha256 is not None:
            sha = self.sha256.lower()
            if not _SHA_RE.match(sha):
                raise ValueError(f"weights entry {self.name}: sha256 must be 64 hex digits or null")
            object.__setattr__(self, "sha256", sha)
        if self.size is not None and (not isinstance(self.size, int) or self.size <= 0):
            raise ValueError(f"weights entry {self.name}: size must be a positive integer or null")

    @classmethod
    def from_dict(cls, name: str, d: Mapping) -> "WeightsEntry":
        return cls(
            name=name,
            url=d["url"],
            filename=d["filename"],
            sha256=d.get("sha256"),
            size=d.get("size"),
            licence=d.get("licence", ""),
            kind=d.get("kind", ""),
            description=d.get("description", ""),
        )

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("name")
        return d


class WeightsStatus(NamedTuple):
    """One row of :func:`status`. ``hash``: ok (matches the published sha256), recorded (matches the
    sha256 recorded at download, no published one), unknown (no hash to compare with), mismatch (size or
    hash differs: corrupt or another file), absent (not in the cache)."""

    name: str
    present: bool
    path: Path
    hash: str


# -- entries ---------------------------------------------------------------------------------------

_BUILTIN: dict[str, WeightsEntry] | None = None
_EXTRA: dict[str, WeightsEntry] = {}
_LOCK = threading.Lock()


def _builtin() -> dict[str, WeightsEntry]:
    global _BUILTIN
    if _BUILTIN is None:
        text = resources.files("hoirecon").joinpath("data/weights.json").read_text(encoding="utf-8")
        raw = json.loads(text)
        _BUILTIN = {k: WeightsEntry.from_dict(k, v) for k, v in raw.items() if not k.startswith("_")}
    return _BUILTIN


def entries() -> dict[str, WeightsEntry]:
    """All entries: the built-in ones and those added with :func:`register` (which win on a name clash)."""
    out = dict(_builtin())
    with _LOCK:
        out.update(_EXTRA)
    return out


def get(name: str) -> WeightsEntry:
    """The entry called ``name``; :class:`InputError` listing the known names otherwise."""
    e = entries().get(name)
    if e is None:
        raise InputError(f"unknown weights '{name}'; known: {', '.join(sorted(entries()))}")
    return e


def register(entry: WeightsEntry) -> None:
    """Add (or replace) an entry for this process."""
    if not isinstance(entry, WeightsEntry):
        raise TypeError("register() takes a WeightsEntry")
    with _LOCK:
        _EXTRA[entry.name] = entry


def unregister(name: str) -> None:
    """Remove an entry added with :func:`register` (built-in entries stay)."""
    with _LOCK:
        _EXTRA.pop(name, None)


@contextlib.contextmanager
def registered(*new: WeightsEntry) -> Iterator[None]:
    """Register entries for the duration of a ``with`` block, then restore what was there."""
    with _LOCK:
        saved = {e.name: _EXTRA.get(e.name) for e in new}
    for e in new:
        register(e)
    try:
        yield
    finally:
        with _LOCK:
            for name, old in saved.items():
                if old is None:
                    _EXTRA.pop(name, None)
                else:
                    _EXTRA[name] = old


# -- paths, URLs, hashes -------------------------------------------------------------------------------


def weights_dir(create: bool = False) -> Path:
    """``cache_dir()/weights``."""
    d = _cache.cache_dir(create=create) / "weights"
    if create:
        d.mkdir(parents=True, exist_ok=True)
    return d


def cached_path(name: str | WeightsEntry) -> Path:
    """Where the entry's file lives in the cache (whether or not it is there)."""
    e = name if isinstance(name, WeightsEntry) else get(name)
    return weights_dir() / e.filename


def download_url(name: str | WeightsEntry) -> str:
    """The entry's URL, or ``<mirror><filename>`` when ``HOIRECON_WEIGHTS_MIRROR`` is set."""
    e = name if isinstance(name, WeightsEntry) else get(name)
    mirror = os.environ.get(MIRROR_ENV, "").strip()
    if mirror:
        return (mirror if mirror.endswith("/") else mirror + "/") + e.filename
    return e.url


def sidecar_path(path: str | os.PathLike[str]) -> Path:
    """``<file>.sha256``: the sha256 recorded at download for entries without a published one."""
    p = Path(path)
    return p.with_name(p.name + ".sha256")


_HASHES: dict[tuple[str, int, int], str] = {}


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def _key(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_mtime_ns, st.st_size)


def sha256_of(path: str | os.PathLike[str]) -> str:
    """The file's sha256 (hex), computed once per process per (path, mtime, size)."""
    p = Path(path)
    key = _key(p)
    with _LOCK:
        hit = _HASHES.get(key)
    if hit is not None:
        return hit
    digest = _hash_file(p)
    with _LOCK:
        _HASHES[key] = digest
    return digest


def _read_sidecar(path: Path) -> str | None:
    sc = sidecar_path(path)
    try:
        token = sc.read_text(encoding="utf-8").split()[0].lower()
    except (OSError, IndexError, UnicodeDecodeError):
        return None
    return token if _SHA_RE.match(token) else None


def _hash_state(e: WeightsEntry, path: Path) -> tuple[str, str]:
    """(state, detail) of a present file: ok / recorded / unknown / mismatch."""
    size = path.stat().st_size
    if e.size is not None and size != e.size:
        return "mismatch", f"size {size} bytes, expected {e.size}"
    if e.sha256:
        got = sha256_of(path)
        return ("ok", "") if got == e.sha256 else ("mismatch", f"sha256 {got}, expected {e.sha256}")
    recorded = _read_sidecar(path)
    if recorded:
        got = sha256_of(path)
        if got == recorded:
            return "recorded", ""
        return "mismatch", f"sha256 {got}, recorded at download {recorded} in {sidecar_path(path).name}"
    return "unknown", ""


def check(name: str, *, verify: bool = True) -> WeightsStatus:
    """The cache state of one entry (``verify=False``: presence only, hash ``unknown``)."""
    e = get(name)
    p = cached_path(e)
    if not p.is_file():
        return WeightsStatus(e.name, False, p, "absent")
    return WeightsStatus(e.name, True, p, _hash_state(e, p)[0] if verify else "unknown")


def status(verify: bool = True) -> list[WeightsStatus]:
    """One row per entry: (name, present, path, hash state), for ``hoirecon doctor`` and ``models list``.

    ``verify`` hashes present files (once per process each); large SAM files take a few seconds."""
    return [check(name, verify=verify) for name in entries()]


# -- resolve / download --------------------------------------------------------------------------------


def _corrupt(e: WeightsEntry, path: Path, detail: str) -> MissingModelError:
    return MissingModelError(
        f"{e.name}: cached weights file {path} is corrupt or not the expected file ({detail}); delete it, "
        f"or re-download it with `hoirecon models download {e.name}`"
    )


def _verify_cached(e: WeightsEntry, path: Path) -> None:
    state, detail = _hash_state(e, path)
    if state == "mismatch":
        raise _corrupt(e, path, detail)


def resolve(
    name: str,
    path: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    offline: bool | None = None,
    progress: Progress | None = None,
) -> Path:
    """The weights file for ``name``: explicit ``path``, else the cache, else a download (see the module
    docstring). ``offline=None`` follows ``HOIRECON_OFFLINE``; ``download=False`` never downloads."""
    e = get(name)
    if path is not None:
        p = Path(path).expanduser()
        if not p.exists():
            raise InputError(f"{name}: weights file {p} not found")
        if not p.is_file():
            raise InputError(f"{name}: weights path {p} is not a file")
        return p.absolute()
    target = cached_path(e)
    if target.is_file():
        _verify_cached(e, target)
        return target
    if offline is None:
        offline = _cache.offline()
    url = download_url(e)
    if offline:
        raise MissingModelError(
            f"{e.name}: weights file {e.filename} not in {target.parent} (offline mode); "
            f"download {url} and put it there, or pass its path"
        )
    if not download:
        raise MissingModelError(
            f"{e.name}: weights file {e.filename} not in {target.parent}; run `hoirecon models download {e.name}`, "
            f"or download {url} and put it there, or pass its path"
        )
    return _download(e, target, progress=progress)


def download(
    name: str,
    *,
    force: bool = False,
    offline: bool | None = None,
    progress: Progress | None = None,
    attempts: int | None = None,
    backoff_s: float | None = None,
    timeout_s: float | None = None,
) -> Path:
    """Make sure the entry's file is in the cache and return its path. A present file that checks out
    is kept (unless ``force``); a missing or corrupt one is (re-)downloaded. Offline: only a present,
    valid file succeeds."""
    e = get(name)
    target = cached_path(e)
    off = _cache.offline() if offline is None else offline
    if target.is_file():
        state, detail = _hash_state(e, target)
        if state != "mismatch" and not force:
            return target
        if off:
            if state == "mismatch":
                raise _corrupt(e, target, detail)
            return target  # --force while offline: keep the valid file that is there
    elif off:
        return resolve(name, offline=True)  # raises the offline message
    return _download(e, target, progress=progress, attempts=attempts, backoff_s=backoff_s, timeout_s=timeout_s,
                     reuse=not target.is_file())  # a corrupt or --force file is replaced, not reused


class _Retry(Exception):
    """A failure worth another attempt (network, truncated transfer, HTTP 5xx)."""


class _Fatal(Exception):
    """A failure another attempt will not fix (404, wrong hash, disk error)."""


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def _fetch(e: WeightsEntry, url: str, part: Path, timeout: float, progress: Progress | None) -> str:
    """Stream ``url`` into ``part`` (truncating it); return the sha256 of what was written, after the
    size/Content-Length/sha256 checks."""
    from hoirecon import __version__

    req = urllib.request.Request(url, headers={"User-Agent": f"hoirecon/{__version__}", "Accept-Encoding": "identity"})
    h = hashlib.sha256()
    done = 0
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.strip().isdigit() else None
            if e.size is not None and total is not None and total != e.size:
                raise _Fatal(f"server sends {total} bytes, expected {e.size}")
            expected = total if total is not None else e.size
            if progress:
                progress(0, expected)
            with open(part, "wb") as f:
                while True:
                    try:
                        chunk = resp.read(CHUNK)
                    except http.client.IncompleteRead as exc:
                        chunk = exc.partial
                        if chunk:
                            f.write(chunk)
                            h.update(chunk)
                            done += len(chunk)
                        raise _Retry(f"connection closed after {done} of {expected} bytes") from None
                    if not chunk:
                        break
                    f.write(chunk)
                    h.update(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, expected)
                    if e.size is not None and done > e.size:
                        raise _Fatal(f"server sent more than the expected {e.size} bytes")
                f.flush()
                os.fsync(f.fileno())
    except (_Retry, _Fatal):
        raise
    except urllib.error.HTTPError as exc:
        msg = f"HTTP {exc.code} {_one_line(exc.reason)}"
        if exc.code >= 500 or exc.code in (408, 425, 429):
            raise _Retry(msg) from None
        raise _Fatal(msg) from None
    except urllib.error.URLError as exc:
        raise _Retry(_one_line(exc.reason)) from None
    except (http.client.HTTPException, ConnectionError, TimeoutError) as exc:
        raise _Retry(f"{type(exc).__name__}: {_one_line(exc)}".rstrip(": ")) from None
    except OSError as exc:  # the disk, not the network
        raise _Fatal(f"cannot write {part}: {_one_line(exc.strerror or exc)}") from None
    if total is not None and done != total:
        raise _Retry(f"connection closed after {done} of {total} bytes")
    if e.size is not None and done != e.size:
        raise _Retry(f"got {done} bytes, expected {e.size}")
    if done == 0:
        raise _Fatal("empty response")
    digest = h.hexdigest()
    if e.sha256 and digest != e.sha256:
        raise _Fatal(f"sha256 mismatch: got {digest}, expected {e.sha256}")
    return digest


@contextlib.contextmanager
def _download_lock(target: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``.<filename>.lock`` beside ``target`` (one download per file across
    processes); without ``fcntl`` (Windows) or where the lock file cannot be made, no lock."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(target.parent / f".{target.name}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _download(
    e: WeightsEntry,
    target: Path,
    *,
    progress: Progress | None = None,
    attempts: int | None = None,
    backoff_s: float | None = None,
    timeout_s: float | None = None,
    reuse: bool = True,
) -> Path:
    """Download ``e`` onto ``target`` under the download lock; ``reuse``: a valid file that another
    process wrote while this one waited for the lock is returned instead."""
    with _download_lock(target):
        if reuse and target.is_file():
            _verify_cached(e, target)
            return target
        return _download_locked(e, target, progress=progress, attempts=attempts, backoff_s=backoff_s,
                                timeout_s=timeout_s)  # fmt: skip


def _download_locked(
    e: WeightsEntry,
    target: Path,
    *,
    progress: Progress | None,
    attempts: int | None,
    backoff_s: float | None,
    timeout_s: float | None,
) -> Path:
    attempts = max(1, int(ATTEMPTS if attempts is None else attempts))
    backoff = float(BACKOFF_S if backoff_s is None else backoff_s)
    timeout = float(TIMEOUT_S if timeout_s is None else timeout_s)
    url = download_url(e)

    def fail(reason: str) -> MissingModelError:
        return MissingModelError(
            f"{e.name}: could not download {url}: {_one_line(reason)}; download it yourself and put it at "
            f"{target}, or pass its path"
        )

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f"{e.filename}.", suffix=".part", dir=target.parent)
        os.close(fd)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600 files; give the weights the usual permissions
    except OSError as exc:
        raise fail(f"cannot write in {target.parent}: {exc.strerror or exc}") from None
    part = Path(tmp)
    try:
        digest = None
        last = ""
        for i in range(attempts):
            if i:
                time.sleep(backoff * (2 ** (i - 1)))
            try:
                digest = _fetch(e, url, part, timeout, progress)
                break
            except _Retry as exc:
                last = str(exc)
            except _Fatal as exc:
                raise fail(str(exc)) from None
        if digest is None:
            raise fail(f"{last} ({attempts} attempt{'s' if attempts > 1 else ''})")
        sidecar = sidecar_path(target)
        try:
            if e.sha256 is None:
                sidecar.unlink(missing_ok=True)
            os.replace(part, target)
        except OSError as exc:
            raise fail(f"cannot write {target}: {exc.strerror or exc}") from None
        with _LOCK:
            _HASHES[_key(target)] = digest
        if e.sha256 is None:
            from hoirecon.fsutil import write_text

            try:
                write_text(sidecar, f"{digest}  {e.filename}\n")
            except OSError:
                pass  # the file is fine; it just stays unrecorded
        return target
    finally:
        with contextlib.suppress(OSError):
            part.unlink(missing_ok=True)
