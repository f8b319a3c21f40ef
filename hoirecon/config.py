"""The configuration tree of a run, and its one builder from command-line options.

``PipelineConfig`` (the root) holds one config per stage::

    PipelineConfig
    ├── device, body_model, gender, smplx_dir, working_max_side, seed, fit_threads, fit_workers
    ├── detection: DetectorConfig      perception: detector, segmenter, weights, person/object index
    ├── body_fit:  BodyFitConfig       body estimation: schedule and weights
    ├── contact:   ContactStageConfig  contacts: source (a name in hoirecon.contact.CONTACT_SOURCES),
    │                                  its settings, the Render-Localize-Lift and prior settings
    └── fit:       FitConfig           the joint object fit, its limb phase and their loss weights

``RunOptions`` is what a command line says for a whole run (the options ``reconstruct`` and ``batch``
share); :func:`build_config` turns it into a ``PipelineConfig``. ``config.json`` (written next to
every result) holds ``config_to_dict`` of the tree; :func:`load_config` reads one back (``--config
FILE``) so a run can be repeated exactly.

This module imports no model package: the CLI builds and checks a config before any model loads.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from hoirecon.cache import offline as offline_env
from hoirecon.contact.config import ContactStageConfig
from hoirecon.errors import InputError, shown
from hoirecon.fitting.config import FitConfig
from hoirecon.ground.config import GroundConfig
from hoirecon.photo import WORKING_MAX_SIDE

#: version of config.json's layout (raise when a field is renamed or its meaning changes)
CONFIG_VERSION = 1



# ------------------------------------------------------------------------------- stage configs


@dataclass(frozen=True)
class DetectorConfig:
    """Perception: which backends to use. Weights: an explicit path, else the registry entry (cache / download)."""

    detector: str = "auto"
    segmenter: str = "auto"
    yolo_weights: str | None = None
    yolo_model: str = "yolo11n-seg"
    yolo_conf: float = 0.25
    sam_weights: str | None = None
    sam_model: str = "sam_vit_b"
    person_index: int | None = None
    object_index: int | None = None
    offline: bool | None = None


@dataclass(frozen=True)
class BodyFitConfig:
    """Body estimation: schedule and loss weights of the body fit.

    The full phase anneals the robust 2D scale (SMPLify's habit): it starts at ``robust_sigma_start``
    and shrinks to ``robust_sigma`` over its first ``anneal_fraction`` of steps. At the final scale alone
    a landmark far from the starting pose (a seated person's knee, 50-70 px off the standing start)
    is an outlier whose pull the pose prior outweighs: on the eight photos of ``make eval-photos`` the
    mean landmark error after the fit was 0.86 % of the person box's diagonal without annealing and
    0.50 % with it (leg landmarks of the two seated people 5.0 % and 3.7 % against 0.5 % and 0.6 %),
    at the same 120 steps.

    ``w_silhouette``: the body's 2D silhouette against the person's mask (the object's mask may hide
    the person; :func:`hoirecon.body.fit.silhouette_loss`): ``silhouette_vertices`` projected body
    vertices must lie on it; with ``silhouette_cover`` > 0, ``silhouette_pixels`` of the mask's pixels
    must also lie near the body. The cover direction is off by default: loose clothing (a spacesuit)
    pulled the fitted arms out to fill it, and one hand through the helmet held beside it. 0 turns the
    term off."""

    steps_global: int = 40
    steps_full: int = 120
    lr: float = 0.03
    w_reproj: float = 1.0
    w_dir3d: float = 0.05
    w_pose: float = 2e-3
    w_shape: float = 1e-2
    w_angle: float = 1e-2
    w_limb: float = 10.0
    robust_sigma: float = 0.05  # in units of the person box's diagonal
    robust_sigma_start: float | None = 0.2  # annealed from this down to robust_sigma (None: no annealing)
    anneal_fraction: float = 0.5  # of the full phase's steps
    w_silhouette: float = 3.0  # the body's 2D silhouette against the person's mask (0: off)
    silhouette_pixels: int = 1500  # mask pixels sampled
    silhouette_vertices: int = 1500  # body vertices projected
    silhouette_cover: float = 0.0  # the weight of the cover direction (mask pixels to the body) against the inside one


@dataclass(frozen=True)
class PipelineConfig:
    """The root of the tree: settings that hold for a whole run (``config.json``: :func:`config_to_dict`)."""

    device: str = "cpu"
    body_model: str = "anny"  # "anny" or "smplx"
    gender: str = "neutral"  # SMPL-X only
    smplx_dir: str | None = None  # SMPL-X only; else $HOIRECON_SMPLX_DIR, else <cache>/body_models/smplx
    detection: DetectorConfig = field(default_factory=DetectorConfig)
    body_fit: BodyFitConfig = field(default_factory=BodyFitConfig)
    ground: GroundConfig = field(default_factory=GroundConfig)
    contact: ContactStageConfig = field(default_factory=ContactStageConfig)
    fit: FitConfig = field(default_factory=FitConfig)
    working_max_side: int | None = WORKING_MAX_SIDE  # longer side of the working copy, pixels (None: the photo as is)
    seed: int = 0  # every random source is seeded with this at the start of each image
    fit_threads: int | None = 1  # torch threads inside the CPU stages (fixed: the answer must not depend on --jobs)
    # Joint fits run side by side (a category's makes, the interaction modes worth fitting), each in a
    # thread of its own with ``fit_threads`` torch threads: None, torch's thread count when the image
    # starts (the machine's cores; a batch worker's share). The answer does not depend on it (1: one
    # after another, in the calling thread).
    fit_workers: int | None = None


# ------------------------------------------------------------------------------ command line


@dataclass(frozen=True)
class RunOptions:
    """The per-run options of ``hoirecon reconstruct`` and ``hoirecon batch`` (CLI names: ``--`` and
    dashes). Paths are strings; ``None``: the default described in ``--help``."""

    device: str = "cpu"
    body_model: str = "anny"
    gender: str = "neutral"
    smplx_dir: str | None = None
    detector: str = "auto"
    segmenter: str = "auto"
    yolo_weights: str | None = None
    sam_weights: str | None = None
    person_index: int | None = None
    object_index: int | None = None
    contacts_from: str = "prior"
    contacts_dir: str | None = None
    interactvlm_repo: str | None = None
    offline: bool = False
    max_side: int | None = WORKING_MAX_SIDE


def run_options_of(config: PipelineConfig) -> RunOptions:
    """The ``RunOptions`` that :func:`build_config` would need to give ``config`` back (the inverse
    for the fields a command line sets)."""
    det = config.detection
    con = config.contact
    return RunOptions(
        device=config.device, body_model=config.body_model, gender=config.gender, smplx_dir=config.smplx_dir,
        detector=det.detector, segmenter=det.segmenter, yolo_weights=det.yolo_weights, sam_weights=det.sam_weights,
        person_index=det.person_index, object_index=det.object_index, contacts_from=con.source,
        contacts_dir=con.contacts_dir, interactvlm_repo=con.interactvlm_repo, offline=bool(det.offline),
        max_side=config.working_max_side,
    )  # fmt: skip


def build_config(run: RunOptions, base: PipelineConfig | None = None) -> PipelineConfig:
    """The ``PipelineConfig`` of a run: ``base`` (default: every stage's defaults, or a config read by
    :func:`load_config`) with the command line's choices put in."""
    if base is None:
        base = PipelineConfig()
    det = dataclasses.replace(
        base.detection, detector=run.detector, segmenter=run.segmenter, yolo_weights=run.yolo_weights,
        sam_weights=run.sam_weights, person_index=run.person_index, object_index=run.object_index,
        offline=bool(run.offline) or offline_env(),
    )  # fmt: skip
    contact = dataclasses.replace(base.contact, source=run.contacts_from, contacts_dir=run.contacts_dir,
                                  interactvlm_repo=run.interactvlm_repo)  # fmt: skip
    return dataclasses.replace(
        base, device=run.device, body_model=run.body_model, gender=run.gender, smplx_dir=run.smplx_dir,
        detection=det, contact=contact, working_max_side=run.max_side,
    )  # fmt: skip


def config_to_dict(config: PipelineConfig) -> dict[str, Any]:
    """The tree as plain JSON values (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def config_from_dict(data: Mapping[str, Any], *, where: str = "config", strict: bool = True) -> PipelineConfig:
    """A ``PipelineConfig`` from (part of) its dict form: missing fields keep their defaults; with
    ``strict`` an unknown key is an :class:`~hoirecon.errors.InputError` (it catches typos)."""
    return _from_dict(PipelineConfig(), data, where, strict)


def _from_dict(default: Any, data: Any, where: str, strict: bool) -> Any:
    if not isinstance(data, Mapping):
        raise InputError(f"{where}: expected an object, got {shown(data, 60)}")
    names = {f.name: f for f in dataclasses.fields(default)}
    unknown = [k for k in data if k not in names]
    if strict and unknown:
        raise InputError(f"{where}: unknown setting '{shown(unknown[0], 60)}' (known: {', '.join(names)})")
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key not in names:
            continue
        current = getattr(default, key)
        if dataclasses.is_dataclass(current):
            changes[key] = _from_dict(current, value, f"{where}: {key}", strict)
        elif isinstance(current, tuple) and isinstance(value, list):
            changes[key] = tuple(value)
        else:
            if current is not None and value is not None and not _same_kind(current, value):
                raise InputError(f"{where}: {key} must be {type(current).__name__}, got {shown(value, 60)}")
            changes[key] = value
    return dataclasses.replace(default, **changes)


def _same_kind(current: Any, value: Any) -> bool:
    if isinstance(current, bool) or isinstance(value, bool):
        return isinstance(current, bool) and isinstance(value, bool)
    if isinstance(current, (int, float)):
        return isinstance(value, (int, float))
    return isinstance(value, type(current))


def load_config(path: str | os.PathLike[str]) -> PipelineConfig:
    """The ``PipelineConfig`` of a ``config.json`` that hoirecon wrote (its image keys are ignored), or
    of a JSON file holding some of its settings (``{"fit": {"steps_refine": 300}}``)."""
    p = Path(path)
    where = f"--config {shown(p)}"
    if not p.is_file():
        raise InputError(f"{where}: file not found")
    if p.stat().st_size > 1_000_000:
        raise InputError(f"{where}: larger than 1 MB")
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{where}: not valid JSON ({shown(str(e), 80)})") from None
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a JSON object")
    version = data.get("config_version", CONFIG_VERSION)
    if version != CONFIG_VERSION:
        raise InputError(f"{where}: config_version {shown(version, 20)} is not {CONFIG_VERSION} (written by another hoirecon)")
    # a config.json hoirecon wrote (it has config_version) also describes the image: those keys are
    # not settings; a hand-written file must name settings only (a typo is an error)
    written = "config_version" in data
    return config_from_dict({k: v for k, v in data.items() if k != "config_version"}, where=where, strict=not written)
