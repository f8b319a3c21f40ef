"""Shared fixtures. The Anny body model is built once per test session in the hoirecon cache
(``$HOIRECON_HOME`` or ``~/.cache/hoirecon``); its first build takes about a minute."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# The tests never touch the network: `--detector auto` would fetch YOLO's weights on first use. Tests of
# downloads unset this and serve the files from 127.0.0.1 (tests/test_registry.py). Subprocesses inherit it.
os.environ["HOIRECON_OFFLINE"] = "1"

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def anny_body():
    from hoirecon.body.anny_model import AnnyBody

    return AnnyBody()


@pytest.fixture(scope="session")
def camera():
    from hoirecon.types import CameraIntrinsics

    return CameraIntrinsics(fx=600.0, fy=600.0, cx=320.0, cy=320.0, width=640, height=640)


@pytest.fixture(scope="session")
def rest_body(anny_body):
    """Anny in rest pose facing the camera, 3 m away."""
    import torch

    from benchmarks.support.synthetic import posed_body

    return posed_body(anny_body, torch.zeros(len(anny_body.pose_joints), 3), np.eye(3), np.array([0.0, 0.0, 3.0]))


@pytest.fixture(scope="session")
def smplx_dir(tmp_path_factory):
    """A folder laid out like a real SMPL-X download (smplx/SMPLX_<GENDER>.npz) with synthetic files."""
    from benchmarks.support.smplx_synthetic import write_synthetic_smplx

    root = tmp_path_factory.mktemp("smplx_models")
    write_synthetic_smplx(root, genders=("NEUTRAL", "MALE", "FEMALE"))
    return root


@pytest.fixture(scope="session")
def smplx_body(smplx_dir):
    from hoirecon.body import load_body_model

    return load_body_model("smplx", smplx_dir=smplx_dir)
