"""Options that several commands share, defined once (help text and choices cannot drift apart).

:func:`per_run_options` adds every per-run option (the body model, detectors, contacts, camera,
``--config``, ...) to a command and hands them to it as one :class:`RunArgs`; ``reconstruct`` and
``batch`` both use it, so ``batch`` accepts every per-run option of ``reconstruct``. Per-image
options (``--object-box``, ``--object-mask``) are ``reconstruct``'s alone: in a batch each photo's
sidecar gives them.
"""

from __future__ import annotations

import functools
import inspect
import dataclasses
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Callable, Literal, Optional

import typer

from hoirecon.config import RunOptions
from hoirecon.photo import WORKING_MAX_SIDE
from hoirecon.inputs import DEVICE_HELP

BodyModelName = Literal["anny", "smplx"]
Gender = Literal["neutral", "male", "female"]
DetectorName = Literal["auto", "yolo", "mediapipe"]
SegmenterName = Literal["auto", "sam", "yolo", "grabcut"]
ContactSource = Literal["prior", "interactvlm-import", "interactvlm-run"]
ExportFrame = Literal["world", "camera"]

OBJECT = typer.Option(None, "--object", "-o", help="What the person uses: chair, bicycle, cup, ... (see `hoirecon objects`). In a batch: the label of photos whose sidecar names none.")
MESH = typer.Option(None, "--mesh", help="Use this OBJ/GLB/PLY/STL (+Y up) instead of the library mesh; scaled to the category's size.")
FOCAL_PX = typer.Option(None, "--focal-px", help="Focal length in pixels of the photo (default: the sidecar's, else EXIF, else a 55 degree field of view).")
DEVICE = typer.Option("cpu", "--device", metavar="cpu|cuda|cuda:N", help=f"Where the models and the optimisation run: {DEVICE_HELP}.")
BODY_MODEL = typer.Option("anny", "--body-model", help="anny (free, default) or smplx (needs the SMPL-X model files).")
SMPLX_DIR = typer.Option(None, "--smplx-dir", help="Folder with SMPLX_NEUTRAL.npz (default: $HOIRECON_SMPLX_DIR, else <cache>/body_models/smplx).")
GENDER = typer.Option("neutral", "--gender", help="Which SMPL-X model file.")
DETECTOR = typer.Option("auto", "--detector", help="Person/object detection: auto (YOLO when its weights are available, else MediaPipe), yolo or mediapipe.")
SEGMENTER = typer.Option("auto", "--segmenter", help="Object mask: auto (SAM on CUDA, else YOLO's mask, else GrabCut), sam, yolo or grabcut.")
YOLO_WEIGHTS = typer.Option(None, "--yolo-weights", help="YOLO segmentation checkpoint (.pt); default: the registry's yolo11n-seg.")
SAM_WEIGHTS = typer.Option(None, "--sam-weights", help="SAM checkpoint (.pth); default: the registry's sam_vit_b.")
PERSON_INDEX = typer.Option(None, "--person-index", min=0, help="Which detected person (0 = largest).")
OBJECT_INDEX = typer.Option(None, "--object-index", min=0, help="Which candidate object (0 = the one the person interacts with most).")
OFFLINE = typer.Option(False, "--offline", help="Never download weights (same as HOIRECON_OFFLINE=1).")
CONTACTS_FROM = typer.Option("prior", "--contacts-from", help="Where contacts come from: prior (category priors + image evidence, offline), interactvlm-import (InteractVLM demo outputs in --contacts DIR) or interactvlm-run (run InteractVLM from --interactvlm-repo; CUDA; its Python via $HOIRECON_INTERACTVLM_PYTHON).")
CONTACTS = typer.Option(None, "--contacts", help="interactvlm-import: folder with <name>_hcontact_vertices.npz and <name>_oafford_vertices.npz; interactvlm-run: where InteractVLM's inputs and outputs are kept.")
INTERACTVLM_REPO = typer.Option(None, "--interactvlm-repo", help="InteractVLM checkout with its weights (for --contacts-from interactvlm-run).")
MAX_SIDE = typer.Option(WORKING_MAX_SIDE, "--max-side", min=256, help="Perception and fitting run on a copy of the photo whose longer side is at most this many pixels (results are given for the photo itself).")
CONFIG = typer.Option(None, "--config", help="Repeat a run: the settings of this config.json (one that hoirecon wrote, or a JSON object with some of its settings); options given on the command line win.")
QUIET = typer.Option(False, "--quiet", "-q", help="Print nothing but errors.")
JSON_OUT = typer.Option(False, "--json", help="Print the report as one JSON document on stdout (for scripts) instead of the table.")
INTERACTION = typer.Option(None, "--interaction", metavar="MODE", help="How the person uses the object, e.g. sit, stand_on, carry (the category's modes: `hoirecon objects`); default: chosen from the photo. In a batch: for photos whose sidecar names none.")
MESH_DIR = typer.Option(None, "--mesh-dir", metavar="DIR", help="A folder of your own OBJ/GLB/PLY meshes (repeatable; also HOIRECON_MESH_DIRS): the one whose name (or sidecar NAME.json label) matches the object label is used, scaled to its sidecar's size_m or the category's.")
FRAME = typer.Option("world", "--frame", help="Frame of the mesh files: world (the floor at Z = 0 in Blender, Y = 0 in glTF, the person facing Blender's -Y) or camera (the photo's camera at the origin, glTF +Y up); params.json stays in the camera frame and records the transform.")
OBJECT_SIZE = typer.Option(None, "--object-size", metavar="METRES", help="Largest extent of an object whose label no category matches (the proxy built from its mask); default: the nearest category's size.")

#: the per-run options: parameter name -> (annotation, option, RunOptions field or None)
_PER_RUN: dict[str, tuple[Any, Any, str | None]] = {
    "object_label": (Optional[str], OBJECT, None),
    "mesh": (Optional[Path], MESH, None),
    "focal_px": (Optional[float], FOCAL_PX, None),
    "interaction": (Optional[str], INTERACTION, None),
    "object_size": (Optional[float], OBJECT_SIZE, None),
    "mesh_dir": (Optional[list[Path]], MESH_DIR, None),
    "frame": (ExportFrame, FRAME, None),
    "device": (str, DEVICE, "device"),
    "body_model": (BodyModelName, BODY_MODEL, "body_model"),
    "smplx_dir": (Optional[Path], SMPLX_DIR, "smplx_dir"),
    "gender": (Gender, GENDER, "gender"),
    "detector": (DetectorName, DETECTOR, "detector"),
    "segmenter": (SegmenterName, SEGMENTER, "segmenter"),
    "yolo_weights": (Optional[Path], YOLO_WEIGHTS, "yolo_weights"),
    "sam_weights": (Optional[Path], SAM_WEIGHTS, "sam_weights"),
    "person_index": (Optional[int], PERSON_INDEX, "person_index"),
    "object_index": (Optional[int], OBJECT_INDEX, "object_index"),
    "offline": (bool, OFFLINE, "offline"),
    "contacts_from": (ContactSource, CONTACTS_FROM, "contacts_from"),
    "contacts": (Optional[Path], CONTACTS, "contacts_dir"),
    "interactvlm_repo": (Optional[Path], INTERACTVLM_REPO, "interactvlm_repo"),
    "max_side": (int, MAX_SIDE, "max_side"),
    "config": (Optional[Path], CONFIG, None),
    "quiet": (bool, QUIET, None),
}


@dataclass(frozen=True)
class RunArgs:
    """The per-run options of one command line. ``options``: the run's choices (with ``--config``:
    the file's, overridden by the options given on the command line); ``config_file``: that file."""

    options: RunOptions
    object_label: str | None = None
    mesh: Path | None = None
    focal_px: float | None = None
    interaction: str | None = None
    object_size: float | None = None
    mesh_dirs: tuple[str, ...] = ()
    frame: str = "world"
    config_file: Path | None = None
    quiet: bool = False

    def pipeline_config(self):
        """The run's ``PipelineConfig`` (``--config``'s settings, then the command line's)."""
        from hoirecon.config import build_config, load_config

        base = load_config(self.config_file) if self.config_file is not None else None
        return build_config(self.options, base=base)


def check_object_size(value: float | None) -> float | None:
    """``--object-size``: None or a positive, finite number of metres (InputError otherwise)."""
    import math

    from hoirecon.errors import InputError

    if value is not None and not (math.isfinite(value) and value > 0):
        raise InputError(f"--object-size must be a positive number of metres, got {value}")
    return value


def check_mesh_dirs(value: list[Path] | None) -> tuple[str, ...]:
    """``--mesh-dir``: existing folders (InputError naming the first that is not)."""
    from hoirecon.objects.meshdir import mesh_dirs

    if not value:
        return ()
    mesh_dirs(list(value))  # raises for a missing folder
    return tuple(str(v) for v in value)


def _given(ctx: typer.Context, name: str) -> bool:
    src = ctx.get_parameter_source(name)  # an enum of the click that Typer uses
    return src is not None and src.name not in ("DEFAULT", "DEFAULT_MAP")


def _run_args(ctx: typer.Context, values: dict[str, Any]) -> RunArgs:
    run_fields = {f.name for f in fields(RunOptions)}
    chosen = {}
    for name, (_, _, field) in _PER_RUN.items():
        if field is not None:
            v = values[name]
            chosen[field] = str(v) if isinstance(v, Path) else v
    assert set(chosen) == run_fields, sorted(run_fields ^ set(chosen))
    options = RunOptions(**chosen)
    config_file = values["config"]
    if config_file is not None:
        from hoirecon.config import load_config, run_options_of

        from_file = run_options_of(load_config(config_file))
        keep = {field: getattr(from_file, field) for name, (_, _, field) in _PER_RUN.items()
                if field is not None and not _given(ctx, name)}  # fmt: skip
        options = dataclasses.replace(options, **keep)
    return RunArgs(options=options, object_label=values["object_label"], mesh=values["mesh"],
                   focal_px=values["focal_px"], interaction=values["interaction"],
                   object_size=check_object_size(values["object_size"]),
                   mesh_dirs=check_mesh_dirs(values["mesh_dir"]), config_file=config_file,
                   frame=str(values["frame"]),
                   quiet=bool(values["quiet"]))  # fmt: skip


def per_run_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command every per-run option: ``fn(..., run: RunArgs)`` is shown to Typer with the
    options of :data:`_PER_RUN` in place of ``run`` (each defined once, above)."""
    sig = inspect.signature(fn, eval_str=True)
    own = [p for p in sig.parameters.values() if p.name != "run"]
    clash = {p.name for p in own} & set(_PER_RUN)
    if clash:
        raise TypeError(f"{fn.__name__}: parameters {sorted(clash)} are per-run options already")
    ctx_param = inspect.Parameter("_ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=opt, annotation=ann)
             for name, (ann, opt, _f) in _PER_RUN.items()]  # fmt: skip
    own = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]

    @functools.wraps(fn)
    def command(**kwargs: Any) -> Any:
        ctx = kwargs.pop("_ctx")
        values = {name: kwargs.pop(name) for name in _PER_RUN}
        from hoirecon.cli.common import set_quiet, user_errors

        set_quiet(bool(values["quiet"]))
        with user_errors():
            run = _run_args(ctx, values)
        return fn(**kwargs, run=run)

    command.__signature__ = sig.replace(parameters=[*own, ctx_param, *extra])  # type: ignore[attr-defined]
    command.__annotations__ = {}
    return command
