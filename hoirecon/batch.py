"""Reconstruct many photos: one output folder per image, resumable, isolated failures, N workers.

Layout of ``OUT_DIR`` (see :func:`run_batch`)::

    OUT_DIR/<name>/scene.glb ... config.json   the outputs of ``hoirecon reconstruct`` (written atomically)
    OUT_DIR/<name>/turntable.gif, turntable.png the scene from 8 azimuths (unless turntable=False)
    OUT_DIR/<name>/done                          JSON summary row of the image, written last (atomic)
    OUT_DIR/<name>/error.txt                     instead of the outputs: the one-line error of a failed image
    OUT_DIR/summary.json, summary.csv            one row per image of this run (``summary-<i>of<n>.*`` with a shard)
    OUT_DIR/index.html                           thumbnails and key numbers of every image folder
    OUT_DIR/.logs/worker-<pid>.log               native log lines of the worker processes (jobs > 1)

Images: the files of ``INPUT_DIR`` (not its sub-folders) or of a glob (``**`` recurses) whose extension is
one of :data:`IMAGE_EXTENSIONS`, sorted by path. ``<name>`` is the file's stem (characters other than
letters, digits, ``_ . -`` become ``_``); stems used twice get their extension appended (``a_png``,
``a_jpg``), then ``_2``, ``_3``, ... in sorted order. Names are given over the whole sorted list, so every
shard agrees on them.

Resume: an image whose folder holds ``done`` is skipped (``overwrite`` reprocesses it); failed images
(``error.txt``) are retried on the next run. The ``done`` marker is written only after every output is in
place, and all files are written to temporary names then renamed, so an interrupted run (Ctrl-C, a killed
worker) leaves either a complete folder or none that counts as done; temporary files of this run's
images are removed on interrupt and at the next start.

Workers: ``jobs`` worker processes (``engine="local"``: ``concurrent.futures.ProcessPoolExecutor`` with the
spawn start method; ``jobs=1`` runs in this process) or Ray actors (``engine="ray"``), each holding one
:class:`~hoirecon.pipeline.Pipeline`, so models are loaded once per worker; each uses
``max(1, cores // jobs)`` torch threads. A worker that dies (e.g. killed for memory) fails the images
it held after one retry; the batch goes on with a new worker.
"""

from __future__ import annotations

import csv
import glob
import io
import os
import re
import shutil
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from hoirecon import fsutil
from hoirecon.errors import HoireconError, InputError, first_line, shown

__all__ = [
    "IMAGE_EXTENSIONS", "DONE_MARKER", "ERROR_FILE", "BatchItem", "BatchSettings", "BatchResult",
    "collect_images", "assign_names", "parse_shard", "plan", "run_batch", "summary_names",
    "process_item", "read_done", "SUMMARY_FIELDS", "SUMMARY_SCHEMA_VERSION",
]  # fmt: skip

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")
DONE_MARKER = "done"
ERROR_FILE = "error.txt"
_RESERVED = {"index.html", "summary.json", "summary.csv"}
_GLOB_CHARS = re.compile(r"[*?\[]")
_UNSAFE = re.compile(r"[^\w.-]+")

#: version of summary.csv's columns and summary.json's layout (``hoirecon/data/schemas/summary.schema.json``)
SUMMARY_SCHEMA_VERSION = 3

SUMMARY_FIELDS = (
    "schema_version", "image", "name", "status", "seconds", "object_category", "object_label", "interaction",
    "object_make", "contact_distance_m",
    "penetration_max_m", "silhouette_iou", "loss_total", "height_m", "quality", "quality_reasons", "worker_pid",
    "peak_rss_mb", "error",
)  # fmt: skip


# ----------------------------------------------------------------------------------------- planning


@dataclass(frozen=True)
class BatchItem:
    """One image: its position in the full sorted list, its path, its output folder name."""

    index: int
    image: Path
    name: str


def collect_images(source: str | os.PathLike[str]) -> list[Path]:
    """The images of a folder (not recursive) or a glob pattern (``**`` recurses), sorted by path.

    A single image file is accepted too. Raises InputError when nothing matches."""
    text = os.fspath(source)
    p = Path(text)
    if p.is_dir():
        files = [q for q in p.iterdir() if q.is_file() and q.suffix.lower() in IMAGE_EXTENSIONS]
    elif p.is_file():
        files = [p]
    elif _GLOB_CHARS.search(text):
        files = [Path(x) for x in glob.glob(text, recursive=True)]
        files = [q for q in files if q.is_file() and q.suffix.lower() in IMAGE_EXTENSIONS]
    else:
        raise InputError(f"{text}: no such folder or file (and not a glob pattern)")
    files = [q for q in files if not q.name.startswith(".")]
    if not files:
        raise InputError(f"{text}: no images found (looked for {', '.join(IMAGE_EXTENSIONS)})")
    return sorted(set(files), key=lambda q: os.fspath(q))


def _safe(text: str) -> str:
    s = _UNSAFE.sub("_", text).lstrip(".").strip()
    return s or "image"


def assign_names(images: Sequence[Path]) -> list[str]:
    """Unique output folder names, one per image (see the module docstring); case-insensitive."""
    stems = [_safe(p.stem) for p in images]
    counts = Counter(s.casefold() for s in stems)
    names = [s if counts[s.casefold()] == 1 else _safe(f"{p.stem}_{p.suffix.lstrip('.')}") for s, p in zip(stems, images)]
    seen: Counter = Counter()
    out = []
    for n in names:
        if n.casefold() in _RESERVED:
            n = f"{n}_image"
        key = n.casefold()
        seen[key] += 1
        if seen[key] > 1:
            k = seen[key]
            while f"{n}_{k}".casefold() in seen:
                k += 1
            n = f"{n}_{k}"
            seen[n.casefold()] += 1
        out.append(n)
    return out


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"i/n"`` (0 <= i < n) -> (i, n); None -> None."""
    if text is None or text == "":
        return None
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not m or int(m.group(2)) < 1 or int(m.group(1)) >= int(m.group(2)):
        raise InputError(f"--shard must be i/n with 0 <= i < n (e.g. 0/4), got '{text}'")
    return int(m.group(1)), int(m.group(2))


def plan(source: str | os.PathLike[str], shard: tuple[int, int] | None = None) -> list[BatchItem]:
    """Every image of ``source`` with its name, then this shard's part: items ``i, i + n, i + 2n, ...``."""
    images = collect_images(source)
    items = [BatchItem(k, img, name) for k, (img, name) in enumerate(zip(images, assign_names(images)))]
    if shard is not None:
        i, n = shard
        items = items[i::n]
    return items


def check_batch_root(out_root: Path, shard: tuple[int, int] | None = None) -> None:
    """InputError unless the batch may write into ``out_root``: a folder that can be created, or a
    writable folder that is hoirecon's (marker) or holds none of the files a batch writes at its top
    (summary files, index.html, viewer.js, .logs), so a user's files there are never replaced."""
    why = fsutil.output_problem(out_root, own=False)
    if why:
        raise InputError(f"--out {why}")
    if out_root.is_dir() and not fsutil.is_ours(out_root):
        ours = {*summary_names(shard), "index.html", "viewer.js", ".logs"}
        clash = sorted(q.name for q in out_root.iterdir() if q.name in ours)
        if clash:
            raise InputError(f"--out {shown(out_root)}: holds {', '.join(clash)} that hoirecon did not write "
                             f"(no {fsutil.MARKER} marker); they are left alone: choose another folder")  # fmt: skip


def summary_names(shard: tuple[int, int] | None) -> tuple[str, str]:
    if shard is None:
        return "summary.json", "summary.csv"
    return f"summary-{shard[0]}of{shard[1]}.json", f"summary-{shard[0]}of{shard[1]}.csv"


# ------------------------------------------------------------------------------------------ settings


@dataclass(frozen=True)
class BatchSettings:
    """What every worker needs (plain values only: it is pickled to spawn workers and Ray actors).

    ``pipeline``: the run's ``PipelineConfig`` as a dict (``hoirecon.config.config_to_dict``; a part
    of it keeps the other defaults). ``object_label``: the label for images whose sidecar names none;
    ``image_options``: the per-run options every image gets (``mesh``, ``focal_px``). ``pipeline_factory``: ``"module:function"`` taking the ``pipeline`` dict
    and returning an object with ``run(image, ReconstructOptions) -> Reconstruction`` (tests use a
    cheap fake; the default builds a :class:`~hoirecon.pipeline.Pipeline`)."""

    pipeline: dict[str, Any] = field(default_factory=dict)
    object_label: str | None = None
    image_options: dict[str, Any] = field(default_factory=dict)
    overwrite: bool = False
    turntable: bool = True
    threads: int = 1
    pipeline_factory: str = "hoirecon.batch:default_pipeline"
    frame: str = "world"  # the mesh files' frame (hoirecon.export.world)
    log_dir: str | None = None  # pool workers send native stderr chatter (MediaPipe, TFLite) here


def default_pipeline(pipeline_kwargs: dict[str, Any]):
    """A Pipeline with its body model loaded (fails here, once, on missing model files)."""
    from hoirecon.pipeline import Pipeline

    from hoirecon.config import config_from_dict

    pipe = Pipeline(config_from_dict(pipeline_kwargs, where="batch settings"))
    pipe.body_model  # noqa: B018 - load now
    return pipe


def _resolve(spec: str) -> Callable[[dict[str, Any]], Any]:
    import importlib

    mod, _, fn = spec.partition(":")
    return getattr(importlib.import_module(mod), fn)


# -------------------------------------------------------------------------------------------- worker


class _Worker:
    """Per-process state: the pipeline (built once), or the error that prevented building it."""

    pipeline: Any = None
    error: BaseException | None = None
    settings: BatchSettings | None = None
    images: int = 0


_STATE = _Worker()


def _set_threads(threads: int) -> None:
    n = str(max(1, int(threads)))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = n
    try:
        import torch

        torch.set_num_threads(max(1, int(threads)))
    except Exception:  # noqa: BLE001 - threads are a hint
        pass


def _exit_on_signal(signum, frame) -> None:  # noqa: ARG001
    raise SystemExit(128 + signum)


def _redirect_stderr(log_dir: str | None) -> None:
    """Point this worker's file descriptor 2 at ``log_dir/worker-<pid>.log`` (unless HOIRECON_DEBUG),
    so that native libraries' log lines do not break the parent's progress bar."""
    from hoirecon.cli.common import debug

    if not log_dir or debug():
        return
    try:
        os.makedirs(log_dir, exist_ok=True)
        fd = os.open(os.path.join(log_dir, f"worker-{os.getpid()}.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except OSError:
        return
    sys.stderr.flush()
    os.dup2(fd, 2)
    os.close(fd)


def init_worker(settings: BatchSettings, set_threads: bool = True, signals: bool = False) -> None:
    """Build this process's pipeline (ProcessPoolExecutor initializer; Ray actors call it too).

    A failure is kept and reported by the first :func:`process_item` call as a fatal row. ``signals``:
    SIGINT/SIGTERM end the process quietly with SystemExit (``finally`` blocks, and so the clean-up of
    temporary files, still run); used for pool workers, whose parent handles the interrupt. A SIGINT
    the process inherited as ignored (``nohup``, a background job of a non-interactive shell) stays
    ignored, as it does in the parent: a Ctrl-C that does not stop the batch must not abort (and after
    a second one fail) the images in flight."""
    if signals:
        import signal

        if signal.getsignal(signal.SIGINT) != signal.SIG_IGN:
            signal.signal(signal.SIGINT, _exit_on_signal)
        signal.signal(signal.SIGTERM, _exit_on_signal)
        _redirect_stderr(settings.log_dir)
    if set_threads:
        _set_threads(settings.threads)
    from hoirecon.cli.common import quiet_native_logs

    quiet_native_logs()
    _STATE.settings = settings
    _STATE.images = 0
    try:
        _STATE.pipeline = _resolve(settings.pipeline_factory)(dict(settings.pipeline))
        _STATE.error = None
    except Exception as exc:  # noqa: BLE001 - reported as a fatal row
        _STATE.pipeline = None
        _STATE.error = exc


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, MiB (Linux ru_maxrss is in KiB)."""
    import resource

    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kb / (1024.0 * 1024.0) if sys.platform == "darwin" else kb / 1024.0, 1)


def one_line(exc: BaseException) -> str:
    """The error as one line: a user error's message, else ``internal error: Type: first line``."""
    first = shown(first_line(exc), 400) if str(exc).strip() else ""
    if isinstance(exc, HoireconError):
        return first or type(exc).__name__
    return f"internal error: {type(exc).__name__}: {first}".rstrip(": ")


def options_for(image: Path, default_label: str | None, image_options: dict[str, Any] | None = None):
    from hoirecon import photo as hio
    from hoirecon.pipeline import ReconstructOptions

    side = hio.read_sidecar(image)  # a bad sidecar fails this image only
    label = None if (side is not None and side.object) else default_label
    extra = dict(image_options or {})
    mesh = extra.get("mesh")
    inter = None if (side is not None and side.interaction) else extra.get("interaction")  # the sidecar's wins
    return ReconstructOptions(object_label=label, mesh=Path(mesh) if mesh else None, focal_px=extra.get("focal_px"),
                              interaction=inter, object_size=extra.get("object_size"),
                              mesh_dirs=tuple(extra.get("mesh_dirs") or ()))  # fmt: skip


def _num(x: Any) -> float | None:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return None
    return round(v, 6) if v == v and abs(v) != float("inf") else None


def _write_error(out: Path, message: str) -> None:
    """``out`` becomes a folder holding only ``error.txt`` (stale outputs of an earlier run go); only
    a folder hoirecon made (or an empty one) is touched (``fsutil.atomic_dir`` checks)."""
    if out.is_dir() and fsutil.is_ours(out) and not any(q.name not in (ERROR_FILE, fsutil.MARKER) for q in out.iterdir()):
        fsutil.write_text(out / ERROR_FILE, message + "\n")
        return
    with fsutil.atomic_dir(out) as tmp:
        (tmp / ERROR_FILE).write_text(message + "\n", encoding="utf-8")
        os.chmod(tmp, 0o777 & ~_umask())


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def process_item(item: BatchItem, out_root: str | os.PathLike[str]) -> dict[str, Any]:
    """Reconstruct one image into ``out_root/item.name`` in this worker; returns its summary row.

    Never raises for a bad image (the row says ``failed`` and ``error.txt`` holds the message); a
    worker whose pipeline could not be built returns a ``fatal`` row. KeyboardInterrupt propagates
    (every write is atomic, so nothing half-written stays)."""
    st = _STATE
    settings = st.settings or BatchSettings()
    out = Path(out_root) / item.name
    row: dict[str, Any] = {"image": os.fspath(item.image), "name": item.name, "index": item.index,
                           "worker_pid": os.getpid()}  # fmt: skip
    if st.pipeline is None:
        err = st.error or RuntimeError("worker not initialised")
        row.update(status="fatal", error=one_line(err), exit_code=getattr(err, "exit_code", 1))
        return row
    t0 = time.perf_counter()
    foreign = fsutil.output_problem(out)
    if foreign is not None:  # a folder or file hoirecon did not make: never touched, not even error.txt
        row.update(status="failed", seconds=0.0, error=foreign, peak_rss_mb=peak_rss_mb())
        return row
    try:
        if settings.overwrite:
            (out / DONE_MARKER).unlink(missing_ok=True)
        options = options_for(item.image, settings.object_label, settings.image_options)
        recon = st.pipeline.run(item.image, options)
        from hoirecon.export import write_outputs

        write_outputs(recon, out, frame=settings.frame)
        if settings.turntable:
            from hoirecon.export.report import write_turntable

            write_turntable(out)
        (out / ERROR_FILE).unlink(missing_ok=True)
        losses = dict(recon.fit.losses)
        row.update(
            status="ok",
            seconds=round(time.perf_counter() - t0, 3),
            object_category=recon.fit.object.mesh.category,
            object_label=recon.detections.object.label,
            interaction=recon.interaction.name if recon.interaction is not None else None,
            object_make=recon.fit.object.mesh.variant if recon.fit.object.mesh.source.startswith("library:") else None,
            contact_distance_m=_num(losses.get("contact_distance_m")),
            penetration_max_m=_num(losses.get("penetration_max_m")),
            silhouette_iou=_num(losses.get("silhouette_iou")),
            loss_total=_num(losses.get("total")),
            height_m=_num(recon.fit.body.height_m),
            timings_s={k: _num(v) for k, v in recon.timings.items()},
            quality=(recon.quality or {}).get("status"),
            quality_reasons="; ".join((recon.quality or {}).get("reasons", [])) or None,
            error=None,
        )
        st.images += 1
        row["peak_rss_mb"] = peak_rss_mb()
        fsutil.write_json(out / DONE_MARKER, row)  # last: the folder now counts as done
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # noqa: BLE001 - one image's failure must not stop the batch
        msg = one_line(exc)
        st.images += 1
        row.update(status="failed", seconds=round(time.perf_counter() - t0, 3), error=msg, peak_rss_mb=peak_rss_mb())
        try:
            _write_error(out, msg)
        except OSError as exc2:  # e.g. the disk is full: still report the row
            row["error"] = f"{msg} (and error.txt could not be written: {exc2})"
    return row


def _done_stamp(folder: Path) -> tuple[int, int, int] | None:
    """(inode, mtime ns, size) of ``folder/done``, None when there is none: a ``done`` whose stamp
    differs from the one seen at the start was written by this run (it is always written by rename)."""
    try:
        st = (folder / DONE_MARKER).stat()
    except OSError:
        return None
    return st.st_ino, st.st_mtime_ns, st.st_size


def read_done(folder: Path) -> dict[str, Any] | None:
    """The row stored in ``folder/done``, or None when the folder is not done."""
    import json

    p = folder / DONE_MARKER
    if not p.is_file():
        return None
    try:
        row = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return row if isinstance(row, dict) else None


def sweep_temporaries(out_root: Path, names: Iterable[str]) -> int:
    """Remove the temporary files and folders that writes for ``names`` may have left (a killed run).
    Only this batch's own names are touched, so a concurrent run on another shard is safe."""
    removed = 0
    if not out_root.is_dir():
        return 0
    wanted = set(names)
    pat = re.compile(r"^\.(?P<name>.+)\.(?:[A-Za-z0-9_]+\.part|old)$")
    for entry in out_root.iterdir():
        m = pat.match(entry.name)
        if m and m.group("name") in wanted:
            shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
            removed += 1
    for name in wanted:
        folder = out_root / name
        if folder.is_dir() and fsutil.is_ours(folder):  # never look inside a folder we did not make
            for entry in folder.iterdir():
                if entry.name.startswith(".") and ".part" in entry.name:
                    shutil.rmtree(entry, ignore_errors=True) if entry.is_dir() else entry.unlink(missing_ok=True)
                    removed += 1
    return removed


# ------------------------------------------------------------------------------------------- engines


Event = Callable[[str, Any], None]


def _cores() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _run_inline(items: list[BatchItem], out_root: Path, settings: BatchSettings, emit: Callable[[dict], None]) -> None:
    init_worker(settings, set_threads=False)
    if _STATE.pipeline is None:
        raise _STATE.error  # type: ignore[misc]
    try:
        for item in items:
            emit(process_item(item, out_root))
    finally:
        _STATE.pipeline = None  # free the models


class _Fatal(Exception):
    def __init__(self, row: dict[str, Any]):
        super().__init__(row.get("error"))
        self.row = row


def _died_row(item: BatchItem, why: str) -> dict[str, Any]:
    return {"image": os.fspath(item.image), "name": item.name, "index": item.index, "status": "failed",
            "seconds": None, "error": f"worker process died while processing this image ({why})"}  # fmt: skip


def _run_processes(items: list[BatchItem], out_root: Path, settings: BatchSettings, jobs: int,
                   emit: Callable[[dict], None]) -> None:  # fmt: skip
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("spawn")
    queue: deque[BatchItem] = deque(items)
    attempts: Counter = Counter()
    executor = None
    running: dict[Any, BatchItem] = {}

    def new_executor():
        return ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=init_worker,
                                   initargs=(settings, True, True))

    try:
        executor = new_executor()
        while queue or running:
            while queue and len(running) < jobs:
                item = queue.popleft()
                running[executor.submit(process_item, item, out_root)] = item
            done, _ = wait(list(running), return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                item = running.pop(fut)
                try:
                    row = fut.result()
                except (BrokenProcessPool, SystemExit) as exc:  # SystemExit: the worker was signalled
                    broken = broken or isinstance(exc, BrokenProcessPool)
                    attempts[item.index] += 1
                    if attempts[item.index] >= 2:
                        row = _died_row(item, str(exc) or "broken process pool")
                        try:
                            _write_error(out_root / item.name, row["error"])
                        except OSError:
                            pass
                        emit(row)
                    else:
                        queue.appendleft(item)
                    continue
                if row.get("status") == "fatal":
                    raise _Fatal(row)
                emit(row)
            if broken:
                for fut, item in list(running.items()):  # every other in-flight image goes back in the queue
                    running.pop(fut)
                    attempts[item.index] += 1
                    queue.appendleft(item)
                executor.shutdown(wait=False, cancel_futures=True)
                executor = new_executor()
    except BaseException:
        if executor is not None:
            _stop_processes(executor)
            executor = None
        raise
    finally:
        if executor is not None:
            executor.shutdown(wait=True)


def _stop_processes(executor) -> None:
    """Interrupt: SIGTERM to every worker (their writes clean up), then SIGKILL whatever is left."""
    import signal

    procs = list(getattr(executor, "_processes", {}).values())
    for p in procs:
        if p.is_alive():
            try:
                os.kill(p.pid, signal.SIGTERM)
            except OSError:
                pass
    deadline = time.monotonic() + 5.0
    for p in procs:
        p.join(timeout=max(0.0, deadline - time.monotonic()))
    for p in procs:
        if p.is_alive():
            p.kill()
            p.join(timeout=5.0)
    try:
        executor.shutdown(wait=False, cancel_futures=True)
    except Exception:  # noqa: BLE001
        pass


class _RayWorker:
    """A Ray actor holding one pipeline (the same code as a process-pool worker)."""

    def __init__(self, settings: BatchSettings):
        init_worker(settings)

    def process(self, item: BatchItem, out_root: str) -> dict[str, Any]:
        return process_item(item, out_root)

    def rss(self) -> float:
        return peak_rss_mb()


def _ray_init(jobs: int, address: str | None):
    try:
        import ray
    except ImportError:
        raise InputError("--engine ray needs Ray: pip install 'hoirecon[ray]' (or pip install ray)") from None
    if ray.is_initialized():
        return ray, False
    if address:
        ray.init(address=address, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    else:
        ray.init(num_cpus=jobs, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
                 object_store_memory=128 * 1024 * 1024)  # fmt: skip
    return ray, True


def _run_ray(items: list[BatchItem], out_root: Path, settings: BatchSettings, jobs: int, address: str | None,
             emit: Callable[[dict], None]) -> None:  # fmt: skip
    ray, started = _ray_init(jobs, address)
    Actor = ray.remote(num_cpus=1, max_restarts=0)(_RayWorker)
    actors: list[Any] = []
    try:
        actors = [Actor.remote(settings) for _ in range(min(jobs, len(items)))]
        idle = deque(actors)
        queue: deque[BatchItem] = deque(items)
        attempts: Counter = Counter()
        running: dict[Any, tuple[Any, BatchItem]] = {}
        root = os.fspath(out_root.absolute())
        while queue or running:
            while queue and idle:
                actor, item = idle.popleft(), queue.popleft()
                running[actor.process.remote(item, root)] = (actor, item)
            ready, _ = ray.wait(list(running), num_returns=1)
            for ref in ready:
                actor, item = running.pop(ref)
                try:
                    row = ray.get(ref)
                except ray.exceptions.RayActorError as exc:
                    attempts[item.index] += 1
                    if attempts[item.index] >= 2:
                        row = _died_row(item, type(exc).__name__)
                        _write_error(out_root / item.name, row["error"])
                        emit(row)
                    else:
                        queue.appendleft(item)
                    replacement = Actor.remote(settings)
                    actors.append(replacement)
                    idle.append(replacement)
                    continue
                if row.get("status") == "fatal":
                    raise _Fatal(row)
                emit(row)
                idle.append(actor)
    finally:
        for a in actors:
            try:
                ray.kill(a)
            except Exception:  # noqa: BLE001
                pass
        if started:
            ray.shutdown()


# --------------------------------------------------------------------------------------------- batch


@dataclass
class BatchResult:
    """What a batch did. ``rows``: one per image of this run (``ok``, ``failed``, ``skipped``), in order."""

    out_dir: Path
    rows: list[dict[str, Any]]
    summary: dict[str, Any]
    interrupted: bool = False

    @property
    def counts(self) -> dict[str, int]:
        c = Counter(r["status"] for r in self.rows)
        return {"total": len(self.rows), "ok": c["ok"], "failed": c["failed"], "skipped": c["skipped"]}

    @property
    def exit_code(self) -> int:
        """0 when no image failed, 1 when some failed, 130 when interrupted."""
        if self.interrupted:
            return 130
        return 1 if self.counts["failed"] else 0


def _csv_text(rows: list[dict[str, Any]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(SUMMARY_FIELDS), extrasaction="ignore", lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if r.get(k) is None else r.get(k)) for k in SUMMARY_FIELDS} | {"schema_version": SUMMARY_SCHEMA_VERSION})
    return buf.getvalue()


def _build_summary(rows, items_total, settings, engine, jobs, shard, source, out_dir, wall, interrupted,
                   started_at) -> dict[str, Any]:  # fmt: skip
    c = Counter(r["status"] for r in rows)
    processed = [r for r in rows if r["status"] in ("ok", "failed")]
    workers: dict[str, dict[str, Any]] = {}
    for r in processed:
        pid = r.get("worker_pid")
        if pid is None:
            continue
        w = workers.setdefault(str(pid), {"pid": pid, "images": 0, "peak_rss_mb": 0.0})
        w["images"] += 1
        w["peak_rss_mb"] = max(w["peak_rss_mb"], float(r.get("peak_rss_mb") or 0.0))
    secs = [r["seconds"] for r in rows if r["status"] == "ok" and r.get("seconds")]
    return {
        "schema_version": SUMMARY_SCHEMA_VERSION,
        "source": os.fspath(source),
        "out_dir": os.fspath(out_dir),
        "engine": engine,
        "jobs": jobs,
        "shard": list(shard) if shard else None,
        "started": started_at,
        "wall_seconds": round(wall, 3),
        "interrupted": interrupted,
        "counts": {"images": items_total, "ok": c["ok"], "failed": c["failed"], "skipped": c["skipped"],
                   "not_run": items_total - len(rows)},  # fmt: skip
        "images_per_minute": round(60.0 * len(processed) / wall, 3) if processed and wall > 0 else None,
        "seconds_per_ok_image_median": round(sorted(secs)[len(secs) // 2], 3) if secs else None,
        "workers": sorted(workers.values(), key=lambda w: w["pid"]),
        "peak_rss_mb_max": max((w["peak_rss_mb"] for w in workers.values()), default=None),
        "settings": {"object_label": settings.object_label, "overwrite": settings.overwrite,
                     "threads_per_worker": settings.threads, "image_options": settings.image_options,
                     "pipeline": settings.pipeline},  # fmt: skip
        "exit_code": 130 if interrupted else (1 if c["failed"] else 0),
        "images": rows,
    }


def run_batch(
    source: str | os.PathLike[str],
    out_dir: str | os.PathLike[str],
    *,
    jobs: int = 1,
    overwrite: bool = False,
    shard: tuple[int, int] | None = None,
    engine: str = "local",
    address: str | None = None,
    object_label: str | None = None,
    pipeline: dict[str, Any] | None = None,
    image_options: dict[str, Any] | None = None,
    turntable: bool = True,
    index: bool = True,
    threads: int | None = None,
    pipeline_factory: str = "hoirecon.batch:default_pipeline",
    on_event: Event | None = None,
    frame: str = "world",
) -> BatchResult:
    """Reconstruct every image of ``source`` (folder or glob) into ``out_dir/<name>/``.

    Returns a :class:`BatchResult` (its ``exit_code``: 0 all fine, 1 some images failed, 130
    interrupted). Raises InputError for a bad source/shard/engine, and the pipeline's error when the
    models cannot be loaded (e.g. MissingModelError) before any image is marked failed. On
    KeyboardInterrupt the workers are stopped, temporary files removed, a partial summary written, and
    the KeyboardInterrupt re-raised.

    ``on_event(kind, data)``: ``("plan", {"total", "todo", "skipped"})`` once, then ``("row", row)``
    per processed image, ``("summary", summary)`` at the end."""
    if jobs < 1:
        raise InputError(f"--jobs must be at least 1, got {jobs}")
    if engine not in ("local", "ray"):
        raise InputError(f"--engine must be local or ray, got '{engine}'")
    if object_label:
        from hoirecon.inputs import check_label

        check_label(object_label)  # an empty or malformed default label fails before any work (an unknown one gets a proxy)
    emit_event = on_event or (lambda kind, data: None)
    out_root = Path(out_dir)
    check_batch_root(out_root, shard)
    items = plan(source, shard)
    out_root.mkdir(parents=True, exist_ok=True)
    if not fsutil.is_ours(out_root):
        fsutil.write_marker(out_root)
    sweep_temporaries(out_root, [it.name for it in items])

    per_worker = threads if threads is not None else max(1, _cores() // jobs)
    settings = BatchSettings(pipeline=dict(pipeline or {}), object_label=object_label,
                             image_options=dict(image_options or {}), overwrite=overwrite,
                             turntable=turntable, threads=per_worker, pipeline_factory=pipeline_factory,
                             log_dir=os.fspath(out_root.absolute() / ".logs"), frame=frame)  # fmt: skip

    rows_by_index: dict[int, dict[str, Any]] = {}
    todo: list[BatchItem] = []
    for it in items:
        prev = None if overwrite else read_done(out_root / it.name)
        if prev is not None and prev.get("status") == "ok":
            row = dict(prev, status="skipped", image=os.fspath(it.image), name=it.name, index=it.index)
            rows_by_index[it.index] = row
        else:
            todo.append(it)
    stamps = {it.index: _done_stamp(out_root / it.name) for it in todo}
    emit_event("plan", {"total": len(items), "todo": len(todo), "skipped": len(items) - len(todo)})

    def emit(row: dict[str, Any]) -> None:
        rows_by_index[row["index"]] = row
        emit_event("row", row)

    started_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    t0 = time.perf_counter()
    interrupted = False
    try:
        if todo:
            if engine == "ray":
                _run_ray(todo, out_root, settings, jobs, address, emit)
            elif jobs == 1 or len(todo) == 1:
                if jobs == 1 and threads is not None:
                    _set_threads(threads)
                _run_inline(todo, out_root, settings, emit)
            else:
                _run_processes(todo, out_root, settings, min(jobs, len(todo)), emit)
    except _Fatal as f:
        sweep_temporaries(out_root, [it.name for it in items])
        exc_cls = _error_class(f.row.get("exit_code", 1))
        raise exc_cls(f"could not start the workers: {f.row.get('error')}") from None
    except KeyboardInterrupt:
        interrupted = True
        sweep_temporaries(out_root, [it.name for it in items])
        # An image a worker finished (its ``done`` written) just before the interrupt, whose row had not
        # reached this process yet, is done on disk (the next run skips it): the summary counts it too.
        for it in todo:
            if it.index not in rows_by_index and _done_stamp(out_root / it.name) != stamps[it.index]:
                prev = read_done(out_root / it.name)
                if prev is not None and prev.get("status") == "ok":
                    rows_by_index[it.index] = dict(prev, image=os.fspath(it.image), name=it.name, index=it.index)
    wall = time.perf_counter() - t0

    rows = [rows_by_index[it.index] for it in items if it.index in rows_by_index]
    summary = _build_summary(rows, len(items), settings, engine, jobs, shard, source, out_root, wall, interrupted,
                             started_at)  # fmt: skip
    json_name, csv_name = summary_names(shard)
    fsutil.write_json(out_root / json_name, summary)
    fsutil.write_text(out_root / csv_name, _csv_text(rows))
    result = BatchResult(out_root, rows, summary, interrupted)
    if interrupted:
        raise KeyboardInterrupt
    if index:
        from hoirecon.export.report import write_index

        write_index(out_root, turntables=False)
    emit_event("summary", summary)
    return result


def _error_class(code: int):
    from hoirecon.errors import MissingModelError

    return {2: InputError, 3: MissingModelError}.get(int(code or 1), HoireconError)

