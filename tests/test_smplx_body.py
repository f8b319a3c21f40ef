"""SMPL-X behind the body-model interface, on a synthetic SMPL-X-format file built by the test session."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation
from typer.testing import CliRunner

from benchmarks.support.synthetic import synthetic_person
from hoirecon.body import body_model_status, load_body_model
from hoirecon.body.fit import fit_body
from hoirecon.body.model import KEYPOINT_NAMES
from hoirecon.body.smplx_model import find_smplx_file
from hoirecon.errors import MissingModelError
from hoirecon.types import CameraIntrinsics

from .conftest import EXAMPLES

CAM = CameraIntrinsics(fx=800, fy=800, cx=320, cy=240, width=640, height=480)


def _smplx_forward(params, smplx_dir):
    """The documented rebuild: exported parameters -> smplx.create -> camera-frame vertices."""
    import smplx

    model = smplx.create(
        str(smplx_dir), model_type="smplx", gender=params["gender"], ext="npz", use_pca=False,
        num_betas=params["num_betas"], num_expression_coeffs=params["num_expression_coeffs"],
        flat_hand_mean=params["flat_hand_mean"],
    )  # fmt: skip
    keys = ["betas", "global_orient", "body_pose", "jaw_pose", "leye_pose", "reye_pose",
            "left_hand_pose", "right_hand_pose", "expression", "transl"]  # fmt: skip
    args = {k: torch.tensor(np.ravel(params[k]), dtype=torch.float32)[None] for k in keys}
    return model(**args).vertices[0].detach().numpy()


@pytest.mark.parametrize("gender", ["neutral", "male", "female"])
def test_loads_and_runs_every_gender(smplx_dir, gender):
    body = load_body_model("smplx", smplx_dir=smplx_dir, gender=gender)
    out = body.forward(torch.zeros(1, 21, 3), body.default_shape()[None])
    assert out.vertices.shape == (1, 10475, 3) and out.keypoints.shape == (1, len(KEYPOINT_NAMES), 3)
    kp = dict(zip(KEYPOINT_NAMES, out.keypoints[0].numpy()))
    assert kp["nose"][1] < kp["left_hip"][1] < kp["left_ankle"][1]  # canonical: y down
    assert kp["left_shoulder"][0] > 0 and kp["nose"][2] < kp["left_ear"][2]  # left = +x, faces -z
    assert body.faces.shape == (20908, 3)


def test_part_segmentation_from_skinning_weights(smplx_body):
    parts, names = smplx_body.part_segmentation()
    v = smplx_body.forward(torch.zeros(1, 21, 3), smplx_body.default_shape()[None]).vertices[0].numpy()
    centre = {n: v[parts == i].mean(0) for i, n in enumerate(names) if (parts == i).any()}
    assert set(centre) == set(names)
    assert centre["left_hand"][0] > 0.6 and centre["right_hand"][0] < -0.6
    assert centre["head"][1] < centre["hips"][1] < centre["left_foot"][1]
    assert centre["buttocks"][2] > centre["hips"][2]


def test_missing_files_name_the_page_the_files_and_the_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("HOIRECON_SMPLX_DIR", raising=False)
    monkeypatch.setenv("HOIRECON_HOME", str(tmp_path / "cache"))
    with pytest.raises(MissingModelError) as exc:
        find_smplx_file("neutral", tmp_path)
    msg = str(exc.value)
    assert "smpl-x.is.tue.mpg.de" in msg and "SMPLX_NEUTRAL.npz" in msg and str(tmp_path) in msg
    assert "\n" not in msg
    usable, detail = body_model_status()["smplx"]
    assert not usable and "SMPLX_NEUTRAL.npz" in detail


def test_search_order_env_then_cache_and_npz_before_pkl(smplx_dir, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    (cache / "body_models" / "smplx").mkdir(parents=True)
    npz = smplx_dir / "smplx" / "SMPLX_NEUTRAL.npz"
    shutil.copy(npz, cache / "body_models" / "smplx" / "SMPLX_NEUTRAL.npz")
    (cache / "body_models" / "smplx" / "SMPLX_NEUTRAL.pkl").write_bytes(b"unused")
    monkeypatch.setenv("HOIRECON_HOME", str(cache))
    monkeypatch.delenv("HOIRECON_SMPLX_DIR", raising=False)
    assert find_smplx_file("neutral") == cache / "body_models" / "smplx" / "SMPLX_NEUTRAL.npz"
    monkeypatch.setenv("HOIRECON_SMPLX_DIR", str(smplx_dir))
    assert find_smplx_file("neutral") == npz


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fit_recovers_keypoints_from_known_parameters(smplx_body, seed):
    g = torch.Generator().manual_seed(seed)
    pose = 0.2 * torch.randn(21, 3, generator=g)
    R = Rotation.from_rotvec([0.1, 0.5 * (seed - 1), 0.05]).as_matrix().astype(np.float32)
    person, kp_true = synthetic_person(smplx_body, pose, R, np.array([0.1, 0.2, 3.0], np.float32), CAM)
    fit = fit_body(smplx_body, person, CAM)
    err3d = float(np.linalg.norm(fit.keypoints3d - kp_true, axis=1).mean())
    print(f"smplx seed {seed}: 2D {fit.reprojection_error_px:.2f} px, 3D {100 * err3d:.1f} cm")
    assert fit.reprojection_error_px < 2.0
    assert err3d < 0.25


def test_exported_parameters_rebuild_the_mesh_with_smplx_create(smplx_body, smplx_dir):
    pose = 0.2 * torch.randn(21, 3, generator=torch.Generator().manual_seed(3))
    R = Rotation.from_rotvec([0.2, -0.4, 0.1]).as_matrix().astype(np.float32)
    person, _ = synthetic_person(smplx_body, pose, R, np.array([-0.2, 0.1, 3.5], np.float32), CAM)
    fit = fit_body(smplx_body, person, CAM)
    p = fit.params
    assert np.shape(p["betas"]) == (10,) and np.shape(p["body_pose"]) == (21, 3)
    assert np.shape(p["left_hand_pose"]) == (15, 3) and np.shape(p["expression"]) == (10,)
    rebuilt = _smplx_forward(p, smplx_dir)
    assert np.abs(rebuilt - fit.vertices).max() < 1e-5


def test_anny_parameters_rebuild_the_mesh(anny_body):
    pose = 0.2 * torch.randn(len(anny_body.pose_joints), 3, generator=torch.Generator().manual_seed(4))
    R = Rotation.from_rotvec([0.1, 0.3, 0.0]).as_matrix().astype(np.float32)
    person, _ = synthetic_person(anny_body, pose, R, np.array([0.0, 0.1, 3.2], np.float32), CAM)
    fit = fit_body(anny_body, person, CAM)
    assert np.abs(anny_body.rebuild_vertices(fit.params) - fit.vertices).max() < 1e-5


def test_cli_end_to_end_with_smplx_and_rebuild_from_params_json(smplx_dir, tmp_path):
    from hoirecon.cli.main import app

    for name in ("astronaut.png", "astronaut.png.json"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    out = tmp_path / "out"
    res = CliRunner().invoke(app, ["reconstruct", str(tmp_path / "astronaut.png"), "--out", str(out), "--quiet",
                                   "--body-model", "smplx", "--smplx-dir", str(smplx_dir)])  # fmt: skip
    assert res.exit_code == 0, res.output
    params = json.loads((out / "params.json").read_text())
    body = params["body"]["params"]
    assert params["body"]["model"] == "smplx" and body["gender"] == "neutral"
    rebuilt = _smplx_forward(body, smplx_dir)
    # human.obj is in the export frame (world by default): params.json's camera_to_export takes it back
    obj = np.array([list(map(float, line.split()[1:4])) for line in (out / "human.obj").read_text().splitlines()
                    if line.startswith("v ")])  # fmt: skip
    assert obj.shape == (10475, 3) and params["frames"]["export"] == "world"
    T = np.asarray(params["frames"]["camera_to_export"])
    assert np.abs((obj - T[:3, 3]) @ T[:3, :3] - rebuilt).max() < 1e-4  # OBJ keeps 6 decimals


def test_cli_missing_smplx_is_one_line_exit_3(tmp_path, monkeypatch):
    from hoirecon.cli.main import app

    monkeypatch.setenv("HOIRECON_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("HOIRECON_SMPLX_DIR", raising=False)
    res = CliRunner().invoke(app, ["reconstruct", str(EXAMPLES / "camera.png"), "--out", str(tmp_path / "o"),
                                   "--quiet", "--body-model", "smplx"])  # fmt: skip
    assert res.exit_code == 3
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and "smpl-x.is.tue.mpg.de" in lines[0]
    assert not (tmp_path / "o").exists()
