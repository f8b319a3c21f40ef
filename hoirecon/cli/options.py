"""Options that several commands share, defined once (help text and choices cannot drift apart)."""

from __future__ import annotations

from typing import Literal

import typer

from hoirecon.inputs import DEVICE_HELP
from hoirecon.photo import WORKING_MAX_SIDE

BodyModelName = Literal["anny", "smplx"]
Gender = Literal["neutral", "male", "female"]
DetectorName = Literal["auto", "yolo", "mediapipe"]
SegmenterName = Literal["auto", "sam", "yolo", "grabcut"]
ContactSource = Literal["prior", "interactvlm-import", "interactvlm-run"]

OBJECT = typer.Option(None, "--object", "-o", help="What the person uses: chair, bicycle, cup, ... (see `hoirecon objects`).")
DEVICE = typer.Option("cpu", "--device", metavar="cpu|cuda|cuda:N", help=f"Where the models and the optimisation run: {DEVICE_HELP}.")
BODY_MODEL = typer.Option("anny", "--body-model", help="anny (free, default) or smplx (needs the SMPL-X model files).")
SMPLX_DIR = typer.Option(None, "--smplx-dir", help="Folder with SMPLX_NEUTRAL.npz (default: $HOIRECON_SMPLX_DIR, else <cache>/body_models/smplx).")
GENDER = typer.Option("neutral", "--gender", help="Which SMPL-X model file.")
DETECTOR = typer.Option("auto", "--detector", help="Person/object detection: auto (YOLO when its weights are available, else MediaPipe), yolo or mediapipe.")
SEGMENTER = typer.Option("auto", "--segmenter", help="Object mask: auto (SAM on CUDA, else YOLO's mask, else GrabCut), sam, yolo or grabcut.")
YOLO_WEIGHTS = typer.Option(None, "--yolo-weights", help="YOLO segmentation checkpoint (.pt); default: the registry's yolo11n-seg.")
SAM_WEIGHTS = typer.Option(None, "--sam-weights", help="SAM checkpoint (.pth); default: the registry's sam_vit_b.")
OFFLINE = typer.Option(False, "--offline", help="Never download weights (same as HOIRECON_OFFLINE=1).")
QUIET = typer.Option(False, "--quiet", "-q", help="Print nothing but errors.")
MAX_SIDE = typer.Option(WORKING_MAX_SIDE, "--max-side", min=256, help="Perception and fitting run on a copy of the photo whose longer side is at most this many pixels (results are given for the photo itself).")
