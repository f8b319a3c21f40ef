"""``hoirecon batch``: reconstruct a folder (or glob) of photos, one output folder per photo."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Optional

import typer

from hoirecon.cli import options as opt
from hoirecon.cli.common import err_console, fetch_detector_on_first_use, print_info, print_notice, user_errors

HELP = """Reconstruct every photo of a folder or glob, one output folder per photo.

OUT/<name>/ gets the files of `hoirecon reconstruct` plus turntable.gif/.png and a `done` marker
(written last); a photo that fails gets OUT/<name>/error.txt (one line) and the batch goes on.
OUT/summary.json and summary.csv (one row per photo: status, seconds, object, losses, error, worker
peak memory) and OUT/index.html are written at the end. <name> is the photo's stem (stems used twice
get their extension appended). Photos whose folder is done are skipped unless --overwrite; failed
ones are retried. Each photo's sidecar (photo.jpg.json) gives its object, box and focal length;
--object is the label for photos whose sidecar names none.

Exit code: 0 when every photo is done (or skipped), 1 when some failed, 2 for bad arguments,
3 when models are missing, 130 when interrupted (Ctrl-C: no half-written folder is left; run the
same command again to resume).

\b
Examples:
  hoirecon batch photos/ --out results/
  hoirecon batch 'shoot/**/*.jpg' --out results/ --jobs 2
  hoirecon batch photos/ --out results/ --object chair --detector mediapipe --offline
  hoirecon batch photos/ --out results/ --shard 0/4      # this machine: images 0, 4, 8, ...
  hoirecon batch photos/ --out results/ --engine ray --jobs 8
  hoirecon batch photos/ --out results/ --engine ray --address ray://head:10001
  hoirecon batch photos/ --out results/ --object bat --contacts-from interactvlm-import --contacts ivlm_out/
  hoirecon batch photos/ --out results/ --config results/photo1/config.json   # repeat a run's settings
"""


@opt.per_run_options
def batch(
    source: str = typer.Argument(..., metavar="INPUT_DIR|GLOB", help="A folder (its images, not sub-folders) or a quoted glob ('**' recurses).", show_default=False),
    out: Path = typer.Option(..., "--out", help="Output folder (one sub-folder per image).", show_default=False),
    jobs: int = typer.Option(1, "--jobs", "-j", min=1, help="Worker processes (or Ray actors), each loading the models once."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Reprocess images that are already done."),
    shard: Optional[str] = typer.Option(None, "--shard", help="i/n: process only images i, i+n, i+2n, ... of the sorted list (0 <= i < n)."),
    engine: Literal["local", "ray"] = typer.Option("local", "--engine", help="local (process pool) or ray."),
    address: Optional[str] = typer.Option(None, "--address", help="Ray cluster address (default: start a local Ray instance)."),
    turntable: bool = typer.Option(True, "--turntable/--no-turntable", help="Render turntable.gif/.png per image."),
    *,
    run: opt.RunArgs,
) -> None:
    with user_errors():
        from hoirecon.batch import check_batch_root, parse_shard, run_batch
        from hoirecon.config import config_to_dict
        from hoirecon.inputs import check_focal, check_label, check_mesh, check_run

        # validate first: options, the default label, the mesh, the output folder (no model is imported here)
        options = run.options
        check_run(options)
        check_label(run.object_label)
        check_focal(run.focal_px, "--focal-px")
        if run.mesh is not None:
            check_mesh(run.mesh)
        shard_t = parse_shard(shard)
        check_batch_root(out, shard_t)
        from hoirecon.cli.reconstruct import check_device

        check_device(options.device)
        config = run.pipeline_config()
        fetch_detector_on_first_use(config.detection, run.quiet, needed=True)  # once, before the workers start
        from hoirecon.cache import anny_data_ready

        if config.body_model == "anny" and not anny_data_ready():
            print_notice("building Anny's body-model data once into the hoirecon cache (about a minute per worker "
                         "that starts before it is done)")
        image_options = {"object_label": run.object_label, "mesh": str(run.mesh) if run.mesh else None,
                         "focal_px": run.focal_px, "interaction": run.interaction,
                         "object_size": run.object_size, "mesh_dirs": list(run.mesh_dirs)}  # fmt: skip
        kwargs = dict(jobs=jobs, overwrite=overwrite, shard=shard_t, engine=engine, address=address,
                      object_label=run.object_label, pipeline=config_to_dict(config), turntable=turntable,
                      image_options=image_options, frame=run.frame)  # fmt: skip
        if run.quiet:
            result = run_batch(source, out, **kwargs)
        else:
            result = _run_with_progress(source, out, kwargs)
        if result.exit_code:
            raise typer.Exit(result.exit_code)


def _run_with_progress(source: str, out: Path, kwargs: dict):
    from rich.text import Text
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from hoirecon.batch import run_batch, summary_names

    progress = Progress(
        TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
        TextColumn("[green]{task.fields[ok]} ok[/] [red]{task.fields[failed]} failed[/] {task.fields[skipped]} skipped"),  # numbers only
        TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(), console=err_console, transient=False,
    )  # fmt: skip
    state = {"task": None}

    def on_event(kind: str, data) -> None:
        if kind == "plan":
            state["task"] = progress.add_task("batch", total=data["todo"] or 1, ok=0, failed=0, skipped=data["skipped"],
                                              completed=0 if data["todo"] else 1)  # fmt: skip
        elif kind == "row" and state["task"] is not None:
            t = progress.tasks[state["task"]]
            if data["status"] == "failed":
                progress.console.print(Text.assemble(("failed", "red"), f" {data['name']}: {data.get('error')}"), soft_wrap=True)
            elif data.get("quality") == "suspect":
                progress.console.print(Text.assemble(("suspect", "yellow"), f" {data['name']}: {data.get('quality_reasons')}"), soft_wrap=True)
            progress.update(state["task"], advance=1, ok=t.fields["ok"] + (data["status"] == "ok"),
                            failed=t.fields["failed"] + (data["status"] == "failed"))  # fmt: skip

    try:
        with progress:
            result = run_batch(source, out, on_event=on_event, **kwargs)
    except KeyboardInterrupt:
        err_console.print(Text(f"interrupted: finished images are kept; run the same command again to resume ({out})"))
        raise
    c, s = result.counts, result.summary
    ipm = s.get("images_per_minute")
    rss = s.get("peak_rss_mb_max")
    print_info(
        f"{c['ok']} ok, {c['failed']} failed, {c['skipped']} skipped in {s['wall_seconds']:.0f} s"
        + (f" ({ipm:.1f} images/minute" if ipm else "")
        + (f", peak memory per worker {rss:.0f} MiB)" if ipm and rss else (")" if ipm else ""))
        + f" -> {out}/{summary_names(kwargs.get('shard'))[0]}, {out}/index.html"
    )
    return result
