"""``hoirecon reconstruct``: one photo -> a fitted human + object scene in a folder.

Order of work: every argument, the photo, its sidecar, mask and mesh and the output folder are
checked first (``hoirecon.inputs``, no model imported); only then do the models load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hoirecon.cli import options as opt
from hoirecon.cli.common import (err_console, fetch_detector_on_first_use, print_info, print_notice, print_warning,
                                 user_errors)

HELP = """Reconstruct the person and the object they use from one photo.

Writes scene.glb, scene.obj, human.obj, object.obj, params.json, overlay.png, config.json and
the contact pictures human_contacts.png, object_contacts.png into --out (default: out/<image name>).
An existing --out folder is written into only when hoirecon made it (its .hoirecon marker) or it is
empty. Exit codes: 0 done, 2 bad input (one line names the file and the fault), 3 a model is missing.

\b
Examples:
  hoirecon reconstruct examples/camera.png
  hoirecon reconstruct photo.jpg                    # detect person + object (needs YOLO weights)
  hoirecon reconstruct photo.jpg --object chair --object-box 120,340,610,900
  hoirecon reconstruct photo.jpg --object chair --object-box 120,340,610,900 --interaction stand_on
  hoirecon reconstruct photo.jpg --object "tennis racket" --object-mask racket.png --out results/photo
  hoirecon reconstruct photo.jpg --object chair --mesh my_chair.glb --device cuda
  hoirecon reconstruct photo.jpg --body-model smplx --smplx-dir ~/models/smplx --gender female
  hoirecon reconstruct photo.jpg --object bat --body-model smplx --contacts-from interactvlm-import --contacts ivlm_out/
  hoirecon reconstruct photo.jpg --config out/other/config.json   # the settings of an earlier run

\b
Without --object-box the box (and label) come from a sidecar JSON next to the image,
photo.jpg.json or photo.json:  {"object": "chair", "object_box": [x0, y0, x1, y1]};
without either, a detector (YOLO) finds the object the person interacts with.
"""


@opt.per_run_options
def reconstruct(
    image: Path = typer.Argument(..., help="The photo (JPEG, PNG, ...).", show_default=False),
    object_box: Optional[str] = typer.Option(None, "--object-box", help="Object box in pixels: x0,y0,x1,y1 (a box that leaves the image is an error)."),
    object_mask: Optional[Path] = typer.Option(None, "--object-mask", help="Object mask PNG at the photo's size (nonzero = object)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: out/<image stem>)."),
    *,
    run: opt.RunArgs,
) -> None:
    with user_errors():
        from hoirecon import fsutil
        from hoirecon.cache import offline
        from hoirecon.inputs import check_image_inputs, check_object_source, check_run

        # 1. validate: nothing below imports a model
        options = run.options
        check_run(options)
        checked = check_image_inputs(image, object_label=run.object_label, object_box=object_box,
                                     object_mask=object_mask, mesh=run.mesh, focal_px=run.focal_px)  # fmt: skip
        check_object_source(checked, options.detector, options.yolo_weights, offline=bool(options.offline) or offline())
        out_dir = out if out is not None else Path("out") / image.stem
        fsutil.check_output(out_dir)
        # 2. load and run
        _reconstruct(checked, out_dir, run)


def _reconstruct(checked, out_dir: Path, run: opt.RunArgs) -> None:
    from hoirecon.cache import anny_data_ready
    from hoirecon.errors import shown

    check_device(run.options.device)
    config = run.pipeline_config()
    from hoirecon.export import write_outputs
    from hoirecon.pipeline import Pipeline, ReconstructOptions

    pipe = Pipeline(config, notice=print_notice)
    name = shown(checked.image_path.name, 60)
    category = checked.category
    if checked.label and category is None:
        from hoirecon.objects import resolve_or_proxy

        category = resolve_or_proxy(checked.label).category  # typo, text embedding, else a proxy from the mask
    forced = run.interaction or (checked.sidecar.interaction if checked.sidecar is not None else None)
    if forced and category is not None:
        from hoirecon.contact.priors import category_prior

        category_prior(category, forced)  # an unknown mode fails before the models load
    fetch_detector_on_first_use(config.detection, run.quiet, needed=checked.box is None and checked.mask is None)
    if config.body_model == "anny" and not anny_data_ready():
        print_notice("building Anny's body-model data once into the hoirecon cache (about a minute; later runs load it in under a second)")

    with _StageProgress(name, run.quiet) as progress:
        progress.start("models")
        pipe.body_model  # load (or fail on missing model files) before any image work
        pipe.contact_source  # fail now on a missing --contacts folder or InteractVLM checkout
        progress.done("models")
        recon = pipe.run(checked.image_path, ReconstructOptions(interaction=run.interaction, object_size=run.object_size,
                                                                  mesh_dirs=run.mesh_dirs),
                         on_stage=progress.stage,
                         checked=checked)
        progress.start("export")
        write_outputs(recon, out_dir, frame=run.frame)
        progress.done("export")
    t = recon.timings
    print_info(
        f"{name}: person {recon.detections.person.backend}, object mask {recon.detections.object.backend}; "
        f"{recon.fit.object.mesh.category} ({recon.interaction.name if recon.interaction else '-'}) fitted in {sum(t.values()):.1f} s "
        f"(contact {100 * recon.fit.losses.get('contact_distance_m', float('nan')):.1f} cm, "
        f"silhouette IoU {recon.fit.losses.get('silhouette_iou', float('nan')):.2f}) -> {shown(out_dir)}"
    )
    q = recon.quality or {}
    if q.get("status") == "suspect":
        print_warning(f"{name}: the fit looks wrong: {'; '.join(q.get('reasons', []))} (params.json: quality)")


class _StageProgress:
    """One line per stage on stderr with a spinner while it runs and its seconds when done (rich);
    nothing with --quiet."""

    def __init__(self, name: str, quiet: bool) -> None:
        self.name, self.quiet = name, quiet
        self.progress = None
        self.tasks: dict[str, int] = {}
        self.t0: dict[str, float] = {}

    def __enter__(self) -> "_StageProgress":
        if not self.quiet:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.progress = Progress(SpinnerColumn(finished_text="done"), TextColumn("{task.description}", markup=False),
                                     TimeElapsedColumn(), console=err_console, transient=False)  # fmt: skip
            self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            self.progress.__exit__(*exc)

    def start(self, stage: str) -> None:
        if self.progress is not None:
            self.tasks[stage] = self.progress.add_task(f"{self.name}: {stage}", total=1)

    def done(self, stage: str, seconds: float | None = None) -> None:
        if self.progress is not None and stage in self.tasks:
            self.progress.update(self.tasks[stage], completed=1)
            self.progress.stop_task(self.tasks[stage])

    def stage(self, stage: str, seconds: float | None) -> None:
        """The pipeline's ``on_stage`` callback."""
        if seconds is None:
            self.start(stage)
        else:
            self.done(stage, seconds)


def check_device(device: str) -> None:
    """``--device``: its syntax, then (torch loads here) whether CUDA is there."""
    from hoirecon.errors import InputError
    from hoirecon.inputs import check_device_name

    check_device_name(device)
    if device == "cpu":
        return
    import torch

    if not torch.cuda.is_available():
        raise InputError(f"--device {device}: CUDA is not available on this machine (torch {torch.__version__})")
