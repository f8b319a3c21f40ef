"""``hoirecon reconstruct``: one photo -> a fitted human + object scene in a folder."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from hoirecon.cli.common import err_console, user_errors

HELP = """Reconstruct the person and the object they use from one photo.

Writes scene.glb, scene.obj, human.obj, object.obj, params.json, overlay.png, config.json and
the contact pictures human_contacts.png, object_contacts.png into --out (default: out/<image name>).

\b
Examples:
  hoirecon reconstruct examples/camera.png
  hoirecon reconstruct photo.jpg                    # detect person + object (needs YOLO weights)
  hoirecon reconstruct photo.jpg --object chair --object-box 120,340,610,900
  hoirecon reconstruct photo.jpg --object "tennis racket" --object-mask racket.png --out results/photo
  hoirecon reconstruct photo.jpg --object chair --mesh my_chair.glb --device cuda
  hoirecon reconstruct photo.jpg --body-model smplx --smplx-dir ~/models/smplx --gender female
  hoirecon reconstruct photo.jpg --object bat --body-model smplx --contacts-from interactvlm-import --contacts ivlm_out/
  hoirecon reconstruct photo.jpg --object chair --body-model smplx --contacts-from interactvlm-run --interactvlm-repo ~/InteractVLM

\b
Without --object-box the box (and label) come from a sidecar JSON next to the image,
photo.jpg.json or photo.json:  {"object": "chair", "object_box": [x0, y0, x1, y1]};
without either, a detector (YOLO) finds the object the person interacts with.
"""


def reconstruct(
    image: Path = typer.Argument(..., help="The photo (JPEG, PNG, ...).", show_default=False),
    object_label: Optional[str] = typer.Option(None, "--object", "-o", help="What the person uses: chair, bicycle, cup, ... (see `hoirecon objects`)."),
    object_box: Optional[str] = typer.Option(None, "--object-box", help="Object box in pixels: x0,y0,x1,y1."),
    object_mask: Optional[Path] = typer.Option(None, "--object-mask", help="Object mask PNG at the photo's size (nonzero = object)."),
    mesh: Optional[Path] = typer.Option(None, "--mesh", help="Use this OBJ/GLB/PLY (+Y up) instead of the library mesh; scaled to the category's size."),
    out: Optional[Path] = typer.Option(None, "--out", help="Output folder (default: out/<image stem>)."),
    device: str = typer.Option("cpu", "--device", help="cpu, cuda or cuda:N."),
    body_model: str = typer.Option("anny", "--body-model", help="anny (free, default) or smplx (needs SMPL-X model files)."),
    smplx_dir: Optional[Path] = typer.Option(None, "--smplx-dir", help="Folder with SMPLX_NEUTRAL.npz (default: $HOIRECON_SMPLX_DIR, else <cache>/body_models/smplx)."),
    gender: str = typer.Option("neutral", "--gender", help="SMPL-X model: neutral, male or female."),
    detector: str = typer.Option("auto", "--detector", help="auto (YOLO when its weights are available, else MediaPipe), yolo or mediapipe."),
    segmenter: str = typer.Option("auto", "--segmenter", help="Object mask: auto (SAM, else YOLO's mask, else GrabCut), sam, yolo or grabcut."),
    yolo_weights: Optional[Path] = typer.Option(None, "--yolo-weights", help="YOLO segmentation checkpoint (.pt); default: the registry's yolo11n-seg."),
    sam_weights: Optional[Path] = typer.Option(None, "--sam-weights", help="SAM checkpoint (.pth); default: the registry's sam_vit_b."),
    person_index: Optional[int] = typer.Option(None, "--person-index", help="Which detected person (0 = largest)."),
    object_index: Optional[int] = typer.Option(None, "--object-index", help="Which candidate object (0 = the one the person interacts with most)."),
    offline: bool = typer.Option(False, "--offline", help="Never download weights (same as HOIRECON_OFFLINE=1)."),
    focal_px: Optional[float] = typer.Option(None, "--focal-px", help="Focal length in pixels (default: EXIF, else a 55 degree field of view)."),
    contacts_from: str = typer.Option("prior", "--contacts-from", help="Where contacts come from: prior (category priors + image evidence, offline), interactvlm-import (InteractVLM demo outputs in --contacts DIR) or interactvlm-run (run InteractVLM from --interactvlm-repo; CUDA; its Python via $HOIRECON_INTERACTVLM_PYTHON)."),
    contacts: Optional[Path] = typer.Option(None, "--contacts", help="interactvlm-import: folder with <name>_hcontact_vertices.npz and <name>_oafford_vertices.npz; interactvlm-run: where InteractVLM's inputs and outputs are kept."),
    interactvlm_repo: Optional[Path] = typer.Option(None, "--interactvlm-repo", help="InteractVLM checkout with its weights (for --contacts-from interactvlm-run)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress output."),
) -> None:
    with user_errors():
        from hoirecon.export import write_outputs
        from hoirecon.pipeline import Pipeline, PipelineConfig, ReconstructOptions

        check_device(device)
        from hoirecon.contact.localizers import CONTACT_SOURCES
        from hoirecon.errors import InputError

        if contacts_from not in CONTACT_SOURCES:
            raise InputError(f"--contacts-from must be one of {', '.join(CONTACT_SOURCES)}, got '{contacts_from}'")
        out_dir = out if out is not None else Path("out") / image.stem
        options = ReconstructOptions(
            object_label=object_label, object_box=object_box, object_mask=object_mask, mesh=mesh, focal_px=focal_px
        )
        from hoirecon.cache import offline as offline_env
        from hoirecon.perception.chain import DetectorConfig

        det = DetectorConfig(
            detector=detector, segmenter=segmenter, yolo_weights=str(yolo_weights) if yolo_weights else None,
            sam_weights=str(sam_weights) if sam_weights else None, person_index=person_index,
            object_index=object_index, offline=offline or offline_env(),
        )  # fmt: skip
        notice = None if quiet else (lambda msg: err_console.print(f"[yellow]notice:[/] {msg}", soft_wrap=True))
        pipe = Pipeline(
            PipelineConfig(device=device, body_model=body_model, gender=gender,
                           smplx_dir=str(smplx_dir) if smplx_dir else None, detection=det,
                           contacts_from=contacts_from, contacts_dir=str(contacts) if contacts else None,
                           interactvlm_repo=str(interactvlm_repo) if interactvlm_repo else None),
            notice=notice,
        )  # fmt: skip
        pipe.body_model  # load (or fail on missing model files) before any image work
        pipe.localizer  # fail now on a missing --contacts folder or InteractVLM checkout
        if quiet:
            recon = pipe.run(image, options)
            write_outputs(recon, out_dir, body_model=pipe.body_model)
            return
        with err_console.status(f"{image.name}: starting") as status:
            recon = pipe.run(image, options, on_stage=lambda s: status.update(f"{image.name}: {s}"))
            status.update(f"{image.name}: export")
            write_outputs(recon, out_dir, body_model=pipe.body_model)
        t = recon.timings
        prov = recon.detections.provenance
        err_console.print(
            f"{image.name}: person {recon.detections.person.backend}, object box {prov.get('object', {}).get('box')}, "
            f"mask {recon.detections.object.backend}", soft_wrap=True,
        )
        err_console.print(
            f"{image.name}: {recon.fit.object.mesh.category} fitted in {sum(t.values()):.1f} s "
            f"(contact {100 * recon.fit.losses.get('contact_distance_m', float('nan')):.1f} cm) -> {out_dir}"
        )


def check_device(device: str) -> None:
    from hoirecon.errors import InputError

    if device == "cpu":
        return
    if not device.startswith("cuda"):
        raise InputError(f"--device must be cpu, cuda or cuda:N, got '{device}'")
    import torch

    if not torch.cuda.is_available():
        raise InputError(f"--device {device}: CUDA is not available on this machine (torch {torch.__version__})")
