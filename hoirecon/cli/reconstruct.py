"""``hoirecon reconstruct``: one photo -> a fitted human + object scene in a folder.

Order of work: every argument, the photo, its sidecar, mask and mesh and the output folder are
checked first (``hoirecon.inputs``, no model imported); only then do the models load.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hoirecon.cli import options as opt
from hoirecon.cli.common import err_console, print_info, print_notice, print_warning, set_quiet, user_errors

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
  hoirecon reconstruct photo.jpg --object "tennis racket" --object-mask racket.png --out results/photo
  hoirecon reconstruct photo.jpg --object chair --mesh my_chair.glb --device cuda
  hoirecon reconstruct photo.jpg --body-model smplx --smplx-dir ~/models/smplx --gender female
  hoirecon reconstruct photo.jpg --object bat --body-model smplx --contacts-from interactvlm-import --contacts ivlm_out/

\b
Without --object-box the box (and label) come from a sidecar JSON next to the image,
photo.jpg.json or photo.json:  {"object": "chair", "object_box": [x0, y0, x1, y1]};
without either, a detector (YOLO) finds the object the person interacts with.
"""


def reconstruct(
    image: Path = typer.Argument(..., help="The photo (JPEG, PNG, ...).", show_default=False),
    object_label: Optional[str] = opt.OBJECT,
    object_box: Optional[str] = typer.Option(None, "--object-box", help="Object box in pixels: x0,y0,x1,y1 (a box that leaves the image is an error)."),
    object_mask: Optional[Path] = typer.Option(None, "--object-mask", help="Object mask PNG at the photo's size (nonzero = object)."),
    mesh: Optional[Path] = typer.Option(None, "--mesh", help="Use this OBJ/GLB/PLY/STL (+Y up) instead of the library mesh; scaled to the category's size."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: out/<image stem>)."),
    device: str = opt.DEVICE,
    body_model: opt.BodyModelName = opt.BODY_MODEL,
    smplx_dir: Optional[Path] = opt.SMPLX_DIR,
    gender: opt.Gender = opt.GENDER,
    detector: opt.DetectorName = opt.DETECTOR,
    segmenter: opt.SegmenterName = opt.SEGMENTER,
    yolo_weights: Optional[Path] = opt.YOLO_WEIGHTS,
    sam_weights: Optional[Path] = opt.SAM_WEIGHTS,
    person_index: Optional[int] = typer.Option(None, "--person-index", min=0, help="Which detected person (0 = largest)."),
    object_index: Optional[int] = typer.Option(None, "--object-index", min=0, help="Which candidate object (0 = the one the person interacts with most)."),
    offline: bool = opt.OFFLINE,
    focal_px: Optional[float] = typer.Option(None, "--focal-px", help="Focal length in pixels of the photo (default: EXIF, else a 55 degree field of view)."),
    contacts_from: opt.ContactSource = typer.Option("prior", "--contacts-from", help="Where contacts come from: prior (category priors + image evidence, offline), interactvlm-import (InteractVLM demo outputs in --contacts DIR) or interactvlm-run (run InteractVLM from --interactvlm-repo; CUDA; its Python via $HOIRECON_INTERACTVLM_PYTHON)."),
    contacts: Optional[Path] = typer.Option(None, "--contacts", help="interactvlm-import: folder with <name>_hcontact_vertices.npz and <name>_oafford_vertices.npz; interactvlm-run: where InteractVLM's inputs and outputs are kept."),
    interactvlm_repo: Optional[Path] = typer.Option(None, "--interactvlm-repo", help="InteractVLM checkout with its weights (for --contacts-from interactvlm-run)."),
    max_side: int = opt.MAX_SIDE,
    quiet: bool = opt.QUIET,
) -> None:
    set_quiet(quiet)
    with user_errors():
        from hoirecon import fsutil
        from hoirecon.inputs import RunChoices, check_image_inputs, check_object_source, check_run

        # 1. validate: nothing below imports a model
        run = RunChoices(
            device=device, body_model=body_model, gender=gender, smplx_dir=_s(smplx_dir), detector=detector,
            segmenter=segmenter, yolo_weights=_s(yolo_weights), sam_weights=_s(sam_weights),
            person_index=person_index, object_index=object_index, contacts_from=contacts_from,
            contacts_dir=_s(contacts), interactvlm_repo=_s(interactvlm_repo),
        )  # fmt: skip
        check_run(run)
        checked = check_image_inputs(image, object_label=object_label, object_box=object_box, object_mask=object_mask,
                                     mesh=mesh, focal_px=focal_px)  # fmt: skip
        check_object_source(checked, detector, run.yolo_weights)
        out_dir = out if out is not None else Path("out") / image.stem
        fsutil.check_output(out_dir)
        # 2. load and run
        _reconstruct(checked, out_dir, run, offline=offline, quiet=quiet, max_side=max_side)


def _s(p: Path | None) -> str | None:
    return str(p) if p is not None else None


def _reconstruct(checked, out_dir: Path, run, *, offline: bool, quiet: bool, max_side: int) -> None:
    from hoirecon.cache import anny_data_ready
    from hoirecon.cache import offline as offline_env
    from hoirecon.errors import shown

    check_device(run.device)
    from hoirecon.export import write_outputs
    from hoirecon.perception.chain import DetectorConfig
    from hoirecon.pipeline import Pipeline, PipelineConfig, ReconstructOptions

    det = DetectorConfig(
        detector=run.detector, segmenter=run.segmenter, yolo_weights=run.yolo_weights, sam_weights=run.sam_weights,
        person_index=run.person_index, object_index=run.object_index, offline=offline or offline_env(),
    )  # fmt: skip
    pipe = Pipeline(
        PipelineConfig(device=run.device, body_model=run.body_model, gender=run.gender, smplx_dir=run.smplx_dir,
                       detection=det, contacts_from=run.contacts_from, contacts_dir=run.contacts_dir,
                       interactvlm_repo=run.interactvlm_repo, working_max_side=max_side),
        notice=print_notice,
    )  # fmt: skip
    name = shown(checked.image_path.name, 60)
    if checked.label and checked.category is None:
        from hoirecon.objects import resolve_label

        resolve_label(checked.label)  # the text-embedding step: an unknown label fails before the body model loads
    if run.body_model == "anny" and not anny_data_ready():
        print_notice("building Anny's body-model data once into the hoirecon cache (about a minute; later runs load it in under a second)")

    with _StageProgress(name, quiet) as progress:
        progress.start("models")
        pipe.body_model  # load (or fail on missing model files) before any image work
        pipe.localizer  # fail now on a missing --contacts folder or InteractVLM checkout
        progress.done("models")
        recon = pipe.run(checked.image_path, ReconstructOptions(), on_stage=progress.stage, checked=checked)
        progress.start("export")
        write_outputs(recon, out_dir, body_model=pipe.body_model)
        progress.done("export")
    t = recon.timings
    print_info(
        f"{name}: person {recon.detections.person.backend}, object mask {recon.detections.object.backend}; "
        f"{recon.fit.object.mesh.category} fitted in {sum(t.values()):.1f} s "
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
