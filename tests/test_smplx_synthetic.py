"""The synthetic SMPL-X model file loads and runs in the real ``smplx`` package."""

from __future__ import annotations

import numpy as np
import pytest

smplx = pytest.importorskip("smplx")
torch = pytest.importorskip("torch")
from smplx.joint_names import JOINT_NAMES  # noqa: E402
from smplx.vertex_ids import vertex_ids  # noqa: E402

from benchmarks.support.smplx_synthetic import (  # noqa: E402
    NUM_FACES,
    NUM_VERTICES,
    SMPLX_JOINT_NAMES,
    SMPLX_PARENTS,
    SMPLX_VERTEX_IDS,
    write_synthetic_smplx,
)

GENDERS = ("neutral", "male", "female")
J = {name: i for i, name in enumerate(SMPLX_JOINT_NAMES)}
# smplx's output joints: 55 skeleton joints, then VertexJointSelector's 21 vertex picks, then
# the 51 face landmarks
EXTRA = {name: 55 + i for i, name in enumerate(JOINT_NAMES[55:76])}


@pytest.fixture(scope="module")
def model_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("body_models")
    paths = write_synthetic_smplx(root, genders=[g.upper() for g in GENDERS], seed=0)
    assert [p.relative_to(root).as_posix() for p in paths] == [
        f"smplx/SMPLX_{g.upper()}.npz" for g in GENDERS
    ]
    return root


def _create(root, gender="neutral", **kwargs):
    return smplx.create(
        str(root), model_type="smplx", gender=gender, ext="npz", use_pca=False,
        num_betas=10, num_expression_coeffs=10, **kwargs,
    )  # fmt: skip


@pytest.fixture(scope="module")
def neutral(model_root):
    return _create(model_root)


def _forward(model, **params):
    with torch.no_grad():
        out = model(**{k: torch.as_tensor(v, dtype=torch.float32)[None] for k, v in params.items()})
    return out.vertices[0].numpy(), out.joints[0].numpy()


def test_copied_constants_match_smplx():
    assert list(SMPLX_JOINT_NAMES) == JOINT_NAMES[:55]
    assert SMPLX_VERTEX_IDS == vertex_ids["smplx"]


def test_file_contents(model_root):
    data = np.load(model_root / "smplx" / "SMPLX_NEUTRAL.npz")
    shapes = {
        "v_template": (NUM_VERTICES, 3),
        "f": (NUM_FACES, 3),
        "J_regressor": (55, NUM_VERTICES),
        "weights": (NUM_VERTICES, 55),
        "kintree_table": (2, 55),
        "shapedirs": (NUM_VERTICES, 3, 400),
        "posedirs": (NUM_VERTICES, 3, 486),
        "hands_componentsl": (45, 45),
        "hands_componentsr": (45, 45),
        "hands_meanl": (45,),
        "hands_meanr": (45,),
        "lmk_faces_idx": (51,),
        "lmk_bary_coords": (51, 3),
        "dynamic_lmk_faces_idx": (79, 17),
        "dynamic_lmk_bary_coords": (79, 17, 3),
    }
    for key, shape in shapes.items():
        assert data[key].shape == shape, key
    assert np.array_equal(data["kintree_table"][0, 1:], SMPLX_PARENTS[1:])
    assert np.array_equal(data["kintree_table"][1], np.arange(55))
    f = data["f"]
    assert f.min() == 0 and f.max() == NUM_VERTICES - 1
    assert np.unique(f).size == NUM_VERTICES  # every vertex is used
    w = data["weights"]
    assert w.min() >= 0 and np.allclose(w.sum(1), 1.0)
    reg = data["J_regressor"]
    assert reg.min() >= 0 and np.allclose(reg.sum(1), 1.0)
    for key in ("hands_componentsl", "hands_componentsr"):
        assert np.allclose(data[key] @ data[key].T, np.eye(45), atol=1e-10)
    assert np.all(data["lmk_bary_coords"] >= 0) and np.allclose(data["lmk_bary_coords"].sum(1), 1)


def test_mesh_is_closed_and_outward(model_root):
    trimesh = pytest.importorskip("trimesh")
    data = np.load(model_root / "smplx" / "SMPLX_NEUTRAL.npz")
    mesh = trimesh.Trimesh(data["v_template"], data["f"], process=False)
    assert mesh.is_watertight and mesh.is_winding_consistent
    assert 0.05 < mesh.volume < 0.1  # m^3, about a 70 kg person (pieces overlap a little)
    assert len(trimesh.Trimesh(data["v_template"], data["f"]).vertices) == NUM_VERTICES


@pytest.mark.parametrize("gender", GENDERS)
def test_create_and_forward(model_root, gender):
    model = _create(model_root, gender)
    assert model.gender == gender and model.NUM_BODY_JOINTS == 21
    v, j = _forward(model)
    assert v.shape == (NUM_VERTICES, 3) and j.shape == (127, 3)
    height = v[:, 1].max() - v[:, 1].min()
    assert 1.5 < height < 1.9
    # rest joints are the regressed template joints; like real SMPL-X the pelvis is not at 0
    assert np.allclose(j[:55], model.J_regressor.numpy() @ model.v_template.numpy(), atol=1e-5)
    assert -0.4 < j[J["pelvis"], 1] < -0.3

    rng = np.random.default_rng(1)
    params = dict(
        betas=rng.normal(0, 1, 10),
        expression=rng.normal(0, 1, 10),
        body_pose=rng.normal(0, 0.3, 63),
        global_orient=rng.normal(0, 0.3, 3),
        jaw_pose=np.array([0.2, 0.0, 0.0]),
        left_hand_pose=rng.normal(0, 0.3, 45),
        right_hand_pose=rng.normal(0, 0.3, 45),
        transl=np.array([0.1, 0.2, 3.0]),
    )
    v2, j2 = _forward(model, **params)
    assert np.isfinite(v2).all() and np.isfinite(j2).all()
    assert np.abs(v2 - v).max() > 0.05


def test_heights_by_gender_and_beta(model_root, neutral):
    heights = {}
    for gender in GENDERS:
        v, _ = _forward(_create(model_root, gender))
        heights[gender] = np.ptp(v[:, 1])
    assert heights["female"] < heights["neutral"] < heights["male"]
    betas = np.zeros(10)
    betas[0] = 1.0
    v, _ = _forward(neutral, betas=betas)
    assert np.ptp(v[:, 1]) == pytest.approx(1.05 * heights["neutral"], rel=1e-3)


def test_other_ways_to_load(model_root):
    folder = model_root / "smplx"
    male = smplx.SMPLX(str(folder), gender="male", use_pca=False)  # the class takes the folder
    assert male.v_template.shape == (NUM_VERTICES, 3)
    by_file = smplx.create(str(folder / "SMPLX_FEMALE.npz"), model_type="smplx", use_pca=False)
    female = np.load(folder / "SMPLX_FEMALE.npz")["v_template"]
    assert np.allclose(by_file.v_template.numpy(), female, atol=1e-6)
    with pytest.raises(AssertionError):  # create() appends "smplx/" to a folder
        smplx.create(str(folder), model_type="smplx")
    contour = _create(model_root, use_face_contour=True)
    _, j = _forward(contour, body_pose=np.r_[np.zeros(42), [0.0, 0.5, 0.0], np.zeros(18)])
    assert j.shape == (144, 3) and np.isfinite(j).all()


def test_keypoints_are_anatomical(neutral):
    v, j = _forward(neutral)
    nose, neck, head = j[EXTRA["nose"]], j[J["neck"]], j[J["head"]]
    assert nose[1] > neck[1] and nose[2] > head[2] + 0.1  # above the neck, on the face
    assert j[EXTRA["left_eye"], 0] > 0 > j[EXTRA["right_eye"], 0]
    assert j[EXTRA["left_eye"], 1] > nose[1]
    assert j[EXTRA["left_ear"], 0] > 0.07 and j[EXTRA["right_ear"], 0] < -0.07
    floor = v[:, 1].min()
    for side, sx in (("left", 1), ("right", -1)):
        toe, small, heel = (j[EXTRA[f"{side}_{k}"]] for k in ("big_toe", "small_toe", "heel"))
        for p in (toe, small, heel):
            assert sx * p[0] > 0 and p[1] < floor + 0.04
        assert heel[2] < j[J[f"{side}_ankle"], 2] < toe[2]
        assert sx * small[0] > sx * toe[0]  # big toe on the inside
        wrist = j[J[f"{side}_wrist"]]
        for finger in ("thumb", "index", "middle", "ring", "pinky"):
            tip = j[EXTRA[f"{side}_{finger}"]]
            assert sx * (tip[0] - wrist[0]) > 0.08
            assert sx * (tip[0] - j[J[f"{side}_{finger}1"], 0]) > 0.02
        assert j[EXTRA[f"{side}_thumb"], 2] > j[EXTRA[f"{side}_index"], 2] > j[EXTRA[f"{side}_pinky"], 2]
    # left is +x everywhere, y is up, the face looks along +z
    assert j[J["left_hip"], 0] > 0 > j[J["right_hip"], 0]
    assert j[J["head"], 1] > j[J["neck"], 1] > j[J["pelvis"], 1] > j[J["left_knee"], 1]
    lmk = j[76:]
    assert np.all(lmk[:, 2] > head[2]) and np.all(np.abs(lmk[:, 1] - nose[1]) < 0.08)


def test_left_elbow_moves_only_the_left_forearm_and_hand(neutral):
    v0, j0 = _forward(neutral)
    body_pose = np.zeros(63)
    body_pose[3 * (J["left_elbow"] - 1) + 1] = -1.2  # body_pose holds joints 1..21
    v1, j1 = _forward(neutral, body_pose=body_pose)
    moved = np.linalg.norm(v1 - v0, axis=1) > 1e-5
    parents = SMPLX_PARENTS
    below = {J["left_elbow"]}
    for k in range(55):
        if parents[k] in below:
            below.add(k)
    weights = neutral.lbs_weights.numpy()
    assert np.all(weights[moved][:, sorted(below)].sum(1) > 0)
    assert np.all(v0[moved, 0] > 0.5 * (j0[J["left_shoulder"], 0] + j0[J["left_elbow"], 0]))
    tip = SMPLX_VERTEX_IDS["lindex"]
    assert moved[tip] and np.linalg.norm(v1[tip] - v0[tip]) > 0.2
    assert np.allclose(j1[:55][[k for k in range(55) if k not in below or k == J["left_elbow"]]],
                       j0[:55][[k for k in range(55) if k not in below or k == J["left_elbow"]]],
                       atol=1e-5)  # fmt: skip
