"""Chains the stages: image -> detections -> body -> object mesh -> contacts -> joint fit.

``Pipeline`` keeps the loaded models (the body model) so that a batch loads them once.
Every stage is timed; the seconds go to ``Reconstruction.timings``.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator


from hoirecon.body.fit import BodyFitConfig, fit_body
from hoirecon.contact.localizers import RLLConfig, infer_contacts_rll, make_localizer
from hoirecon.contact.priors import ContactConfig, category_prior
from hoirecon.fitting.joint import FitConfig, fit_object
from hoirecon.perception.chain import DetectionChain, DetectorConfig
from hoirecon.types import Box, Reconstruction


@dataclass(frozen=True)
class ReconstructOptions:
    """What the user asked for one image. ``object_box``: "x0,y0,x1,y1" or a list; None -> sidecar."""

    object_label: str | None = None
    object_box: str | list[float] | None = None
    object_mask: Path | None = None
    mesh: Path | None = None
    focal_px: float | None = None
    fov_deg: float | None = None


@dataclass(frozen=True)
class PipelineConfig:
    """Settings that hold for a whole run (written to ``config.json``)."""

    device: str = "cpu"
    body_model: str = "anny"  # "anny" or "smplx"
    gender: str = "neutral"  # SMPL-X only
    smplx_dir: str | None = None  # SMPL-X only; else $HOIRECON_SMPLX_DIR, else <cache>/body_models/smplx
    detection: DetectorConfig = field(default_factory=DetectorConfig)
    body_fit: BodyFitConfig = field(default_factory=BodyFitConfig)
    contact: ContactConfig = field(default_factory=ContactConfig)
    contacts_from: str = "prior"  # "prior" | "interactvlm-import" | "interactvlm-run"
    contacts_dir: str | None = None  # import: InteractVLM's demo outputs; run: where its inputs/outputs go
    interactvlm_repo: str | None = None  # run: the InteractVLM checkout (with its weights)
    rll: RLLConfig = field(default_factory=RLLConfig)
    fit: FitConfig = field(default_factory=FitConfig)


StageCallback = Callable[[str], None]


class Pipeline:
    """Reconstruct images one after another with the same loaded models."""

    def __init__(self, config: PipelineConfig = PipelineConfig(), notice: Callable[[str], None] | None = None) -> None:
        self.config = config
        self._body_model = None
        self._localizer = None
        self.detection = DetectionChain(config.detection, device=config.device, notice=notice)

    @property
    def body_model(self):
        if self._body_model is None:
            from hoirecon.body import load_body_model

            c = self.config
            self._body_model = load_body_model(c.body_model, device=c.device, gender=c.gender, smplx_dir=c.smplx_dir)
        return self._body_model

    @property
    def localizer(self):
        """The contact localizer (checks its inputs on first use: the --contacts folder, the InteractVLM
        checkout and weights)."""
        if self._localizer is None:
            c = self.config
            self._localizer = make_localizer(
                c.contacts_from, body_model=self.body_model, contacts_dir=c.contacts_dir,
                interactvlm_repo=c.interactvlm_repo, config=c.rll, contact_config=c.contact,
            )  # fmt: skip
        return self._localizer

    def run(self, image_path: str | Path, options: ReconstructOptions = ReconstructOptions(),
            on_stage: StageCallback | None = None) -> Reconstruction:
        """Run every stage on one image (nothing is written; see ``hoirecon.export.write_outputs``)."""
        from hoirecon import io, objects

        timings: dict[str, float] = {}

        @contextmanager
        def stage(name: str) -> Iterator[None]:
            if on_stage:
                on_stage(name)
            t0 = time.perf_counter()
            yield
            timings[name] = round(time.perf_counter() - t0, 4)

        image_path = Path(image_path)
        with stage("load"):
            sidecar = io.read_sidecar(image_path)
            focal = options.focal_px if options.focal_px is not None else (sidecar.focal_px if sidecar else None)
            kwargs: dict[str, Any] = {"focal_px": focal}
            if options.fov_deg is not None:
                kwargs["fov_deg"] = options.fov_deg
            image = io.load_image(image_path, **kwargs)
            label = options.object_label or (sidecar.object if sidecar else None)
            if label:
                objects.resolve_label(label)  # an unknown label fails before any model runs
            raw_box = options.object_box if options.object_box is not None else (sidecar.object_box if sidecar else None)
            what = "--object-box" if options.object_box is not None else f"{image_path}: sidecar object_box"
            mask = io.load_mask(options.object_mask, image.width, image.height) if options.object_mask else None
            box = None
            if raw_box is not None:
                box = io.parse_box(raw_box, image.width, image.height, what=what)
            elif mask is not None:
                box = Box.from_mask(mask)
            person_box = None
            if sidecar and sidecar.person_box is not None:
                person_box = io.parse_box(sidecar.person_box, image.width, image.height, what=f"{image_path}: sidecar person_box")

        with stage("perception"):
            detections, label = self.detection.run(image, label=label, box=box, mask=mask, person_box=person_box)
            person, obj_det = detections.person, detections.object
            category, how, score = objects.resolve_label_verbose(label)
        with stage("body"):
            body = fit_body(self.body_model, person, image.camera, self.config.body_fit)
        with stage("object_mesh"):
            mesh = objects.load_user_mesh(options.mesh, category) if options.mesh else objects.build_mesh(category)
            _, scale_sigma = objects.size_prior(category)
        with stage("contacts"):
            contacts, localization = infer_contacts_rll(self.localizer, image, detections, body, mesh, label, self.config.rll)
        with stage("fitting"):
            upright = category_prior(category).get("init", "upright") == "upright"
            fit = fit_object(
                body, mesh, contacts, obj_det, person, image.camera,
                scale_sigma=scale_sigma, upright=upright, config=self.config.fit, device=self.config.device,
                body_model=self.body_model,
            )  # fmt: skip
        resolved = {
            "image": str(image_path),
            "object_label": label,
            "object_category": category,
            "label_match": {"how": how, "score": score},
            "object_box": obj_det.box.as_list(),
            "object_mask": str(options.object_mask) if options.object_mask else None,
            "mesh": str(options.mesh) if options.mesh else None,
            "camera": {"focal_px": image.camera.fx, "source": image.camera.source,
                       "fov_deg": options.fov_deg if options.fov_deg is not None else io.DEFAULT_FOV_DEG},
            "sidecar": str(sidecar.path) if sidecar else None,
            "contacts_localization": localization.details,
            **asdict(self.config),
        }  # fmt: skip
        return Reconstruction(
            image=image,
            detections=detections,
            fit=fit,
            contacts=contacts,
            config=resolved,
            timings=timings,
            contact_views=(localization.human_views, localization.object_views),
        )
