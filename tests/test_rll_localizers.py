"""Contact sources -> lift -> ContactSet: the table and its checks, the prior through RLL, InteractVLM
import (validation, and that an imported file steers the fit), InteractVLM run (input folder, commands,
a stand-in demo), outputs."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from hoirecon.contact import interactvlm as ivlm
from hoirecon.contact import (
    CONTACT_SOURCES,
    ContactStageConfig,
    Localization,
    RLLConfig,
    check_contact_config,
    infer_contacts,
    make_contact_source,
)
from hoirecon.contact.interactvlm_import import InteractVLMImport
from hoirecon.contact.interactvlm_run import InteractVLMRun
from hoirecon.contact.prior_source import PriorSource
from hoirecon.contact.selection import contacts_from_localization, contacts_from_probabilities
from hoirecon.errors import InputError, MissingModelError
from hoirecon.objects import build_mesh
from hoirecon.types import BodyFit, Box, Detections, ImageInput, ObjectDetection, PersonDetection


@pytest.fixture(scope="module")
def racket():
    return build_mesh("tennis_racket")


@pytest.fixture(scope="module")
def racket_scene(rest_body, camera, racket):
    """The rest body holding the racket's grip in its right hand (placed directly; masks ray cast)."""
    from benchmarks.support.synthetic import render_masks
    from hoirecon.geometry.rotations import rot_y

    parts, names = rest_body.part_of_vertex, rest_body.part_names
    hand = rest_body.vertices[parts == names.index("right_hand")].mean(0)
    X = racket.vertices @ rot_y(0.5).astype(np.float32).T
    obj_v = (X + hand - X[racket.part_vertices("grip")].mean(0) + np.array([-0.04, 0.0, -0.03])).astype(np.float32)
    pm, om = render_masks(rest_body.vertices, rest_body.faces, obj_v, racket.faces, camera)
    person = PersonDetection(box=Box.from_mask(pm), mask=pm, keypoints=np.zeros((33, 2), np.float32),
                             visibility=np.ones(33, np.float32), world_keypoints=np.zeros((33, 3), np.float32),
                             backend="synthetic")  # fmt: skip
    obj = ObjectDetection(label="tennis racket", box=Box.from_mask(om), mask=om, backend="synthetic")
    image = ImageInput(path=Path("racket_0042.jpg"), rgb=np.full((camera.height, camera.width, 3), 90, np.uint8),
                       camera=camera)  # fmt: skip
    return image, Detections(person=person, object=obj), obj_v


def _fake_body(model: str, n: int) -> BodyFit:
    return BodyFit(model_name=model, vertices=np.zeros((n, 3), np.float32), faces=np.zeros((1, 3), np.int64),
                   keypoints3d=np.zeros((1, 3), np.float32), keypoint_names=("x",),
                   part_of_vertex=np.zeros(n, np.int16), part_names=("head",), params={})  # fmt: skip


def _write_outputs(folder: Path, human: dict, obj: np.ndarray, name: str = "tennis_racket__racket-0042") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / f"{name}{ivlm.HCONTACT_SUFFIX}", **human)
    np.savez(folder / f"{name}{ivlm.OAFFORD_SUFFIX}", pred_contact_3d=obj)
    return folder


def _hand_file(body: BodyFit, hand: str, mesh, part: str, folder: Path) -> Path:
    h = np.where(body.part_of_vertex == body.part_names.index(hand), 0.9, 0.02)
    o = np.zeros(len(mesh.vertices))
    o[mesh.part_vertices(part)] = 0.8
    return _write_outputs(folder, {"pred_contact_3d": h[None]}, o[None])  # with the demo's batch axis


# ------------------------------------------------------------------------------------------ import


def test_import_validates_against_the_body_model_and_mesh(tmp_path, racket):
    anny, smplx = _fake_body("anny", 13718), _fake_body("smplx", ivlm.SMPLX_VERTICES)
    nobj = len(racket.vertices)
    full = {"pred_contact_3d_smplx": np.full(ivlm.SMPLX_VERTICES, 0.2), "pred_contact_3d_smplh": np.zeros(6890)}
    d = _write_outputs(tmp_path / "ok", full, np.full(nobj, 0.5))
    h, o, files = ivlm.import_contacts(d, smplx, racket)
    assert h.shape == (ivlm.SMPLX_VERTICES,) and np.allclose(h, 0.2) and o.shape == (nobj,)
    assert files["hcontact"].endswith(ivlm.HCONTACT_SUFFIX)
    with pytest.raises(InputError, match=r"SMPL-X contacts \(10475 vertices\) need --body-model smplx"):
        ivlm.import_contacts(d, anny, racket)
    d = _write_outputs(tmp_path / "smplh", {"pred_contact_3d_smplh": np.zeros(6890)}, np.zeros(nobj))
    with pytest.raises(InputError, match="only SMPL-H contacts"):
        ivlm.import_contacts(d, smplx, racket)
    d = _write_outputs(tmp_path / "objn", full, np.zeros(nobj + 5))
    with pytest.raises(InputError, match=rf"{nobj + 5} values but the 'tennis_racket' mesh has {nobj} vertices"):
        ivlm.import_contacts(d, smplx, racket)
    d = _write_outputs(tmp_path / "nan", {"pred_contact_3d_smplx": np.full(ivlm.SMPLX_VERTICES, np.nan)}, np.zeros(nobj))
    with pytest.raises(InputError, match="NaN"):
        ivlm.import_contacts(d, smplx, racket)
    d = _write_outputs(tmp_path / "range", {"pred_contact_3d_smplx": np.full(ivlm.SMPLX_VERTICES, 3.0)}, np.zeros(nobj))
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        ivlm.import_contacts(d, smplx, racket)
    d = tmp_path / "pickle"
    _write_outputs(d, full, np.zeros(nobj))
    np.savez(d / f"tennis_racket__racket-0042{ivlm.OAFFORD_SUFFIX}", pred_contact_3d=np.array([{"a": 1}], dtype=object))
    with pytest.raises(InputError, match="not a plain numeric"):
        ivlm.import_contacts(d, smplx, racket)
    with pytest.raises(InputError, match="no such folder"):
        ivlm.import_contacts(tmp_path / "missing", smplx, racket)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no \\*_hcontact_vertices.npz"):
        ivlm.import_contacts(tmp_path / "empty", smplx, racket)


def test_import_picks_the_image_among_several(tmp_path, racket):
    smplx, nobj = _fake_body("smplx", ivlm.SMPLX_VERTICES), len(racket.vertices)
    for stem, value in (("img_a", 0.1), ("img_b", 0.7)):
        _write_outputs(tmp_path / f"cup__{stem}", {"pred_contact_3d_smplx": np.full(ivlm.SMPLX_VERTICES, value)},
                       np.zeros(nobj), name=f"cup__{stem}")  # fmt: skip
    h, _, _ = ivlm.import_contacts(tmp_path, smplx, racket, stem="img_b")
    assert np.allclose(h, 0.7)
    with pytest.raises(InputError, match="several"):
        ivlm.import_contacts(tmp_path, smplx, racket)


def test_imported_contacts_point_at_the_right_hand_and_part(tmp_path, rest_body, racket, racket_scene):
    image, det, _ = racket_scene
    for hand, part in (("right_hand", "grip"), ("left_hand", "head")):
        d = _hand_file(rest_body, hand, racket, part, tmp_path / f"{hand}_{part}")
        loc = make_contact_source(ContactStageConfig(source="interactvlm-import", contacts_dir=str(d)))
        contacts, found = infer_contacts(loc, image, det, rest_body, racket)
        assert contacts.source == "interactvlm-import" and found.details["files"]["hcontact"].startswith(str(d))
        assert contacts.pairs == ((hand, part),)
        assert np.all(rest_body.part_of_vertex[contacts.human_vertices] == rest_body.part_names.index(hand))
        assert set(contacts.object_vertices) == set(racket.part_vertices(part))
        assert contacts.human_prob.shape == (len(rest_body.vertices),) and contacts.object_prob.shape == (len(racket.vertices),)
        assert contacts.precise and found.precise  # the source declares it: per-vertex predictions
        assert np.array_equal(found.human_contact, contacts.human_prob) and found.open_pose_vertices is None  # no body model


def test_imported_contacts_steer_the_fit(tmp_path, rest_body, camera, racket, racket_scene):
    """Same photo and masks; the contact file alone decides which hand holds the racket's grip."""
    from hoirecon.fitting.joint import FitConfig, fit_object

    image, det, _ = racket_scene
    parts, names = rest_body.part_of_vertex, rest_body.part_names
    centre = {h: rest_body.vertices[parts == names.index(h)].mean(0) for h in ("right_hand", "left_hand")}
    cfg = FitConfig(steps_search=30, steps_refine=60, yaw_starts=4, refine_top=2)
    for hand, other in (("right_hand", "left_hand"), ("left_hand", "right_hand")):
        d = _hand_file(rest_body, hand, racket, "grip", tmp_path / hand)
        contacts, _ = infer_contacts(InteractVLMImport(d), image, det, rest_body, racket)
        res = fit_object(rest_body, racket, contacts, det.object, det.person, camera, upright=False, config=cfg)
        grip = res.object.vertices[racket.part_vertices("grip")].mean(0)
        # against the photo (the mask shows the right hand's racket) the left hand's grip is held at
        # one end (the silhouette weighs 30): 17 cm from the hand's centre, the contact within 1 cm
        assert np.linalg.norm(grip - centre[hand]) < 0.2, hand
        assert np.linalg.norm(grip - centre[other]) > 0.5, hand
        assert res.losses["contact_distance_m"] < 0.03


def test_probabilities_to_contact_set_rules(rest_body, racket):
    parts, names = rest_body.part_of_vertex, rest_body.part_names
    h = np.zeros(len(rest_body.vertices))
    h[parts == names.index("right_hand")] = 0.8
    h[np.flatnonzero(parts == names.index("head"))[:5]] = 0.9  # a few stray vertices: noise
    o = np.full(len(racket.vertices), 0.1)  # nothing reaches 0.3: the top fraction is taken
    o[racket.part_vertices("grip")] = 0.25
    c = contacts_from_probabilities(h, o, rest_body, racket, "test")
    assert c.pairs == (("right_hand", "grip"),)  # the prior pairs right_hand with the grip
    assert set(c.object_vertices) <= set(racket.part_vertices("grip"))
    assert len(set(c.object_vertices)) >= RLLConfig().min_top
    with pytest.raises(InputError, match="no body vertex"):
        contacts_from_probabilities(np.zeros(len(h)), o, rest_body, racket, "test")
    with pytest.raises(InputError, match="values for a body"):
        contacts_from_probabilities(h[:10], o, rest_body, racket, "test")


def test_pairs_follow_the_interaction_mode_asked_for(rest_body):
    """A straddled bicycle: the thighs' frame and the hands' handlebar selected. Without a mode the
    hands pair with every part any bicycle mode gives them (the handlebar, and the frame a carried
    bicycle is held by); with the mode, only with the mode's own (the handlebar). A body part the
    mode does not name falls back to the category's pairs."""
    from hoirecon.objects import build_mesh

    bike = build_mesh("bicycle")
    parts, names = rest_body.part_of_vertex, rest_body.part_names
    h = np.zeros(len(rest_body.vertices))
    for part in ("left_hand", "left_thigh", "right_thigh"):
        h[parts == names.index(part)] = 0.9
    o = np.zeros(len(bike.vertices))
    o[bike.part_vertices("handlebar")] = 0.8
    o[bike.part_vertices("frame")] = 0.8
    any_mode = contacts_from_probabilities(h, o, rest_body, bike, "test")
    assert {("left_hand", "handlebar"), ("left_hand", "frame")} <= set(any_mode.pairs)
    straddle = contacts_from_probabilities(h, o, rest_body, bike, "test", mode="straddle")
    assert set(straddle.pairs) == {("left_hand", "handlebar"), ("left_thigh", "frame"), ("right_thigh", "frame")}
    carry = contacts_from_probabilities(h, o, rest_body, bike, "test", mode="carry")  # carry names no thigh
    assert ("left_hand", "frame") in carry.pairs and ("left_hand", "handlebar") not in carry.pairs
    assert ("left_thigh", "frame") in carry.pairs  # the category's pair (straddling's)


# ------------------------------------------------------------------------------------------- prior


def test_prior_through_rll_reproduces_the_prior(anny_body, rest_body, camera, racket, racket_scene):
    from hoirecon.contact.priors import infer_contacts as prior_estimate  # the direct estimate, no RLL

    image, det, _ = racket_scene
    diag = float(np.hypot(det.person.box.width, det.person.box.height))
    direct = prior_estimate(rest_body, racket, det.object, camera, diag)
    contacts, loc = infer_contacts(make_contact_source(ContactStageConfig(), anny_body), image, det, rest_body, racket)
    assert contacts.pairs == direct.pairs == (("right_hand", "grip"),)
    assert len(loc.human_maps) == 4 and len(loc.object_maps) == 4 and loc.human_views.size == 1024
    a, b = set(contacts.human_vertices), set(direct.human_vertices)
    assert len(a & b) / len(a | b) > 0.9
    a, b = set(contacts.object_vertices), set(direct.object_vertices)
    assert len(a & b) / len(a | b) > 0.9
    # Maps in hand: the same localization lifts again to the same contacts.
    again = contacts_from_localization(Localization("prior", loc.human_views, loc.object_views, loc.human_maps,
                                                    loc.object_maps), rest_body, racket)  # fmt: skip
    assert np.array_equal(again.human_vertices, contacts.human_vertices)
    # The prior paints whole parts: its source says so, not its name.
    assert not contacts.precise and not loc.precise and not PriorSource.precise
    # What the contact pictures need, without the body model.
    from hoirecon.body import open_pose_vertices

    assert np.array_equal(loc.open_pose_vertices, open_pose_vertices(anny_body))
    assert np.array_equal(loc.open_pose_faces, anny_body.faces)
    assert np.array_equal(loc.human_contact, contacts.human_prob) and np.array_equal(loc.object_contact, contacts.object_prob)
    assert loc.human_view_set() is loc.human_views
    no_views = Localization("x", open_pose_vertices=loc.open_pose_vertices, open_pose_faces=loc.open_pose_faces)
    small = no_views.human_view_set(size=64)
    assert small.size == 64 and np.array_equal(small.vertices, loc.human_views.vertices)


def test_make_contact_source_checks_arguments(tmp_path):
    with pytest.raises(InputError, match="--contacts DIR"):
        make_contact_source(ContactStageConfig(source="interactvlm-import"))
    with pytest.raises(InputError, match="--interactvlm-repo"):
        make_contact_source(ContactStageConfig(source="interactvlm-run"))
    with pytest.raises(InputError, match="unknown contact source"):
        make_contact_source(ContactStageConfig(source="magic"))
    with pytest.raises(ValueError, match="needs the body model"):
        make_contact_source(ContactStageConfig())
    assert check_contact_config(ContactStageConfig()) is PriorSource


def test_the_table_of_sources():
    import dataclasses
    import json

    assert list(CONTACT_SOURCES) == ["prior", "interactvlm-import", "interactvlm-run"]
    for name, cls in CONTACT_SOURCES.items():
        assert cls.name == name and isinstance(cls.precise, bool)
        assert set(cls.requires) <= set(cls.uses) <= {f.name for f in dataclasses.fields(ContactStageConfig)}
    assert CONTACT_SOURCES["interactvlm-import"].requires.keys() == {"contacts_dir"}
    assert CONTACT_SOURCES["interactvlm-run"].needs_cuda and not CONTACT_SOURCES["prior"].needs_cuda
    assert json.loads(json.dumps(dataclasses.asdict(ContactStageConfig())))["rll"]["human_threshold"] == 0.5


# --------------------------------------------------------------------------------------------- run


def test_prepare_inputs_writes_the_demo_layout(tmp_path, racket, racket_scene):
    image, det, _ = racket_scene
    s = ivlm.prepare_inputs(tmp_path, image, det, racket, "tennis racket")
    assert s.name == "tennis_racket__racket-0042"
    assert s.folder == tmp_path / s.name and s.image == s.folder / f"{s.name}.jpg" and s.image.is_file()
    from PIL import Image

    x0, y0, x1, y1 = s.crop
    for b in (det.person.box, det.object.box):
        assert x0 <= b.x0 and y0 <= b.y0 and x1 >= b.x1 and y1 >= b.y1
    assert Image.open(s.image).size == (x1 - x0, y1 - y0)
    lines = s.mesh.read_text().splitlines()
    v = np.array([[float(t) for t in ln.split()[1:]] for ln in lines if ln.startswith("v ")])
    f = np.array([[int(t) for t in ln.split()[1:]] for ln in lines if ln.startswith("f ")])
    assert np.allclose(v, racket.vertices * np.array([1, -1, -1]), atol=1e-5)  # y up, order kept
    assert np.array_equal(f - 1, racket.faces)
    cmds = ivlm.demo_commands(tmp_path, "python")
    assert cmds["hcontact"][:2] == ["python", "run_demo.py"]
    assert f"--img_folder={tmp_path.absolute()}" in cmds["hcontact"] and "--contact_type=oafford" in cmds["oafford"]
    assert "--version=./trained_models/interactvlm-3d-hcontact-damon" in cmds["hcontact"]


def test_run_fails_clearly_without_a_checkout(tmp_path):
    missing = tmp_path / "InteractVLM"
    with pytest.raises(InputError, match=str(missing)):
        make_contact_source(ContactStageConfig(source="interactvlm-run", interactvlm_repo=str(missing)))
    missing.mkdir()
    with pytest.raises(InputError, match="run_demo.py"):
        ivlm.check_repo(missing)
    (missing / "run_demo.py").write_text("")
    with pytest.raises(MissingModelError, match="interactvlm-3d-hcontact-damon"):
        ivlm.check_repo(missing)


_FAKE_DEMO = """
import argparse, os
import numpy as np
ap = argparse.ArgumentParser()
for a in ("--version", "--img_folder", "--contact_type", "--input_mode"):
    ap.add_argument(a)
args = ap.parse_args()
for name in sorted(os.listdir(args.img_folder)):
    d = os.path.join(args.img_folder, name)
    assert os.path.isfile(os.path.join(d, name + ".jpg"))
    if args.contact_type == "hcontact":
        n = int(os.environ["FAKE_BODY_VERTICES"])
        np.savez(os.path.join(d, name + "_hcontact_vertices.npz"), pred_contact_3d=np.full((1, n), 0.6))
    else:
        nv = sum(1 for line in open(os.path.join(d, "object_mesh.obj")) if line.startswith("v "))
        np.savez(os.path.join(d, name + "_oafford_vertices.npz"), pred_contact_3d=np.full((1, nv), 0.4))
"""


def test_run_with_a_stand_in_demo(tmp_path, monkeypatch, rest_body, racket, racket_scene):
    repo = tmp_path / "InteractVLM"
    for p in (*(ivlm.DEMO[k]["model"] for k in ("hcontact", "oafford")), *ivlm.DEMO["data"]):
        (repo / p).mkdir(parents=True)
    (repo / "run_demo.py").write_text(textwrap.dedent(_FAKE_DEMO))
    monkeypatch.setenv("FAKE_BODY_VERTICES", str(len(rest_body.vertices)))
    image, det, _ = racket_scene
    loc = InteractVLMRun(str(repo), work_dir=str(tmp_path / "work"), python=sys.executable)
    found = loc(image, det, rest_body, racket, "tennis racket")
    assert found.source == "interactvlm-run" and np.allclose(found.human_prob, 0.6) and np.allclose(found.object_prob, 0.4)
    assert Path(found.details["files"]["oafford"]).is_file()
    (repo / "run_demo.py").write_text("import sys; sys.exit('CUDA not available')")
    with pytest.raises(Exception, match="hcontact demo failed.*CUDA not available"):
        loc(image, det, rest_body, racket, "tennis racket")


# ----------------------------------------------------------------------------------------- outputs


def test_contact_outputs(tmp_path, anny_body, rest_body, racket):
    from PIL import Image

    from hoirecon.export.contact_views import contact_colors, contact_probabilities_json, write_contact_outputs

    parts, names = rest_body.part_of_vertex, rest_body.part_names
    h = np.where(parts == names.index("right_hand"), 0.9, 0.0)
    o = np.zeros(len(racket.vertices))
    o[racket.part_vertices("grip")] = 0.7
    c = contacts_from_probabilities(h, o, rest_body, racket, "test")
    paths = write_contact_outputs(c, anny_body, racket, tmp_path, tile=256)
    assert set(paths) == {"human_contacts.png", "object_contacts.png"}
    for p in paths.values():
        img = np.asarray(Image.open(p))
        assert img.shape == (512, 512, 3)
        red = (img[..., 0] > 180) & (img[..., 1] < 120) & (img[..., 2] < 120)
        assert red.sum() > 20
    assert not list(tmp_path.glob(".*part*"))  # atomic writes leave no temporaries
    fitted = write_contact_outputs(c, rest_body, racket, tmp_path / "as_fitted", tile=128)  # a BodyFit: drawn as fitted
    assert np.asarray(Image.open(fitted["human_contacts.png"])).shape == (256, 256, 3)
    js = contact_probabilities_json(c)
    assert js["human"]["num_vertices"] == len(rest_body.vertices)
    assert js["human"]["indices"] == np.flatnonzero(h > 0.05).tolist() and set(js["human"]["probs"]) == {0.9}
    assert js["object"]["indices"] == sorted(racket.part_vertices("grip").tolist())
    col = contact_colors(np.array([0.0, 1.0]))
    assert col.dtype == np.uint8 and tuple(col[0]) == (200, 200, 200) and col[1][0] > 200 and col[1][1] < 60


def test_import_names_the_length_mismatch(tmp_path, racket):
    anny, nobj = _fake_body("anny", 13718), len(racket.vertices)
    d = _write_outputs(tmp_path / "a", {"pred_contact_3d": np.zeros(500)}, np.zeros(nobj))
    with pytest.raises(InputError, match="'pred_contact_3d' has 500 values but the anny body has 13718 vertices"):
        ivlm.import_contacts(d, anny, racket)
    d = _write_outputs(tmp_path / "b", {"pred_contact_3d_anny": np.zeros(13718)[None]}, np.zeros(nobj)[None])
    h, o, _ = ivlm.import_contacts(d, anny, racket)  # a model-named array; the demo's batch axis dropped
    assert h.shape == (13718,) and o.shape == (nobj,)
