"""Interaction modes: the data, the evidence rules on synthetic masks and landmarks with a known answer,
the choice by analysis by synthesis, and --interaction end to end."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from hoirecon.contact.config import ModeConfig
from hoirecon.contact.modes import GROUPS, SIDES, ModeChoice, ModeScore, fit_agreement, image_up, mode_evidence
from hoirecon.contact.priors import category_modes, category_prior, contact_priors
from hoirecon.errors import InputError

H, W = 480, 640
PERSON_PX = 400.0


def _landmarks(**where) -> np.ndarray:
    """(33, 2) landmarks: every group at (0, 0) (far from everything) unless placed at (x, y)."""
    kp = np.full((33, 2), 5.0)
    for group, xy in where.items():
        kp[list(GROUPS[group])] = xy
    return kp


def _rect(x0, y0, x1, y1) -> np.ndarray:
    m = np.zeros((H, W), bool)
    m[y0:y1, x0:x1] = True
    return m


def _best(category, kp, mask, vis=None) -> str:
    return mode_evidence(category_modes(category), kp, np.ones(33) if vis is None else vis, mask, PERSON_PX)[0].name


BENCH = _rect(100, 300, 400, 400)  # seat top at y = 300, the floor at y = 400
CHAIR_BACK = _rect(300, 150, 400, 400)


def test_modes_data_is_complete():
    from hoirecon.fitting.problem import FACING

    names = {"sit", "hand_on", "stand_on", "carry"}
    assert names <= {m["name"] for m in category_modes("chair")}
    assert {"hold", "kick", "head"} <= {m["name"] for m in category_modes("sports_ball")}
    groups = set(GROUPS)
    for cat, entry in contact_priors().items():
        for m in entry["modes"]:
            ev = m["evidence"]
            assert set(ev) <= {"near", "far", "both", "one", "level", "prior", "posture"}, (cat, m["name"])
            assert set(ev.get("both", {})) | set(ev.get("one", {})) <= set(SIDES), (cat, m["name"])
            assert set(ev.get("posture", [])) <= {"seated", "standing", "lying"}, (cat, m["name"])
            for key in ("near", "far", "level"):
                assert set(ev.get(key, {})) <= groups, (cat, m["name"], key)
            assert m.get("pose", "upright") in ("upright", "any") and m.get("support", "floor") in ("floor", "either", "none")
            assert m.get("feet", "posture") in ("posture", "none")
            assert m.get("facing") in (None, *FACING), (cat, m["name"])
    assert category_prior("chair")["name"] == "sit"  # the first mode is the default
    with pytest.raises(InputError, match="no interaction mode 'fly' for 'chair'.*sit, hand_on"):
        category_prior("chair", "fly")


def test_feet_on_the_top_of_a_bench_mean_standing_on_it():
    kp = _landmarks(feet=(250, 305), knees=(250, 230), hips=(250, 150), shoulders=(250, 20), hands=(200, 120), head=(250, 10))
    assert _best("bench", kp, BENCH) == "stand_on"


def test_hips_on_the_seat_mean_sitting_and_the_choice_flips_with_the_evidence():
    sit = _landmarks(hips=(250, 310), knees=(320, 310), feet=(330, 420), shoulders=(250, 180), hands=(300, 300), head=(250, 130))
    assert _best("bench", sit, BENCH) == "sit"
    stand = _landmarks(feet=(250, 305), knees=(250, 230), hips=(250, 150), shoulders=(250, 20), hands=(200, 120), head=(250, 10))
    assert _best("bench", stand, BENCH) == "stand_on"


def test_a_wrist_on_the_backrest_with_the_hips_far_means_hand_on():
    kp = _landmarks(hands=(310, 160), hips=(150, 250), shoulders=(150, 100), knees=(150, 330), feet=(150, 420), head=(150, 60))
    scores = mode_evidence(category_modes("chair"), kp, np.ones(33), CHAIR_BACK, PERSON_PX)
    assert scores[0].name == "hand_on"
    assert scores[0].terms["far:hips"] > 0.9 and scores[0].terms["near:hands"] > 0.9
    assert abs(sum(s.evidence for s in scores) - 1.0) < 1e-9
    # the same person with the hips on the seat sits
    kp2 = _landmarks(hands=(310, 160), hips=(330, 320), shoulders=(330, 190), knees=(250, 320), feet=(250, 420), head=(330, 150))
    assert _best("chair", kp2, CHAIR_BACK) == "sit"


def test_a_ball_at_the_foot_is_kicked_at_the_head_headed_in_the_hands_held():
    ball = _rect(300, 380, 340, 420)
    base = dict(shoulders=(200, 150), hips=(200, 260), knees=(200, 330), head=(200, 100))
    assert _best("sports_ball", _landmarks(feet=(305, 400), hands=(150, 250), **base), ball) == "kick"
    head = dict(base, head=(320, 390))
    assert _best("sports_ball", _landmarks(feet=(200, 450), hands=(150, 250), **head), ball) == "head"
    assert _best("sports_ball", _landmarks(feet=(200, 450), hands=(310, 400), **base), ball) == "hold"


def test_one_foot_or_both_feet_on_the_deck_one_hand_or_both_on_the_broom():
    """The paired statements: both sides near the object, or one near and the other away."""
    deck = _rect(200, 400, 400, 415)
    base = dict(shoulders=(300, 100), hips=(300, 250), knees=(300, 330), hands=(250, 200), head=(300, 50))
    both = _landmarks(**base)
    both[list(SIDES["feet"][0])], both[list(SIDES["feet"][1])] = (240, 398), (360, 398)
    one = both.copy()
    one[list(SIDES["feet"][1])] = (470, 470)  # the right foot on the ground, away from the board
    assert _best("skateboard", both, deck) == "ride" and _best("skateboard", one, deck) == "one_foot"
    scores = {s.name: s for s in mode_evidence(category_modes("skateboard"), one, np.ones(33), deck, PERSON_PX)}
    assert scores["one_foot"].terms["one:feet"] > 0.9 and scores["ride"].terms["both:feet"] < 0.05
    handle = _rect(290, 150, 300, 400)
    hands = _landmarks(shoulders=(300, 100), hips=(300, 250), knees=(300, 330), feet=(300, 460), head=(300, 50))
    hands[list(SIDES["hands"][0])], hands[list(SIDES["hands"][1])] = (295, 200), (295, 300)
    assert _best("broom", hands, handle) == "sweep"
    hands[list(SIDES["hands"][1])] = (420, 300)
    assert _best("broom", hands, handle) == "hold"
    # a side the photo does not show is neutral, not near
    vis = np.ones(33)
    vis[list(SIDES["feet"][1])] = 0.0
    hidden = mode_evidence(category_modes("skateboard"), both, vis, deck, PERSON_PX)
    assert {s.name: s.terms for s in hidden}["ride"]["both:feet"] == ModeConfig().unseen


def test_modes_are_compared_on_the_same_statements():
    """A cup at the mouth is drunk from, at the chest held: every mode of the category is scored on
    every statement (hold on the head too, whose weight drink gives), as a product, so that hold's
    larger prior does not outvote the head at the cup; the weighted geometric mean of each mode's
    own statements (the rule before) gave hold."""
    import dataclasses

    cup = _rect(290, 110, 320, 150)
    base = dict(shoulders=(250, 180), hips=(250, 300), knees=(250, 380), feet=(250, 460))
    mouth = _landmarks(hands=(305, 135), head=(290, 112), **base)  # the rim a few pixels from the mouth
    chest = _landmarks(hands=(305, 135), head=(250, 20), **base)
    assert _best("cup", mouth, cup) == "drink" and _best("cup", chest, cup) == "hold"
    before = dataclasses.replace(ModeConfig(), shared=False, temperature=None)
    assert mode_evidence(category_modes("cup"), mouth, np.ones(33), cup, PERSON_PX, config=before)[0].name == "hold"
    # the formula: hold and drink share the hands and the head statements, each at the larger weight
    # (hands 2: hold's, head 2: drink's); hold says nothing of the head's nearness but far, drink nothing
    # of the hands' weight 2 but near: both on the same two statements, as a product
    cfg = ModeConfig()
    ev = {s.name: s for s in mode_evidence(category_modes("cup"), mouth, np.ones(33), cup, PERSON_PX)}
    g = lambda x: cfg.floor + (1 - cfg.floor) * x  # noqa: E731
    prior = {m["name"]: m["evidence"].get("prior", 1.0) for m in category_modes("cup")}
    want = {n: prior[n] * math.prod(g(v) ** 2 for v in ev[n].terms.values()) for n in ("hold", "drink")}
    assert ev["hold"].evidence / ev["drink"].evidence == pytest.approx(want["hold"] / want["drink"], rel=1e-9)
    # a mode silent about a statement scores it neutral, and the record keeps only what it says
    scores = {s.name: s for s in mode_evidence(category_modes("chair"), chest, np.ones(33), CHAIR_BACK, PERSON_PX)}
    assert not any(k.startswith("silent:") for s in scores.values() for k in s.terms)
    assert set(scores["sit"].terms) == {"near:hips", "level:hips", "posture"}


def test_unseen_groups_are_neutral_and_up_follows_gravity():
    kp = _landmarks(feet=(250, 305))
    vis = np.zeros(33)
    s = mode_evidence(category_modes("bench"), kp, vis, BENCH, PERSON_PX)
    assert all(v == ModeConfig().unseen for m in s for v in m.terms.values())
    # up along the image's -y for a level camera; a rolled camera turns it
    K = np.array([[500.0, 0, 320], [0, 500, 240], [0, 0, 1]])
    np.testing.assert_allclose(image_up(K, np.array([0, 0, 3.0]), np.array([0, -1.0, 0])), [0, -1], atol=1e-9)
    r = np.deg2rad(20)
    u = image_up(K, np.array([0, 0, 3.0]), np.array([np.sin(r), -np.cos(r), 0]))
    assert abs(np.degrees(np.arctan2(u[0], -u[1])) - 20) < 0.5
    np.testing.assert_allclose(image_up(K, np.zeros(3), None), [0, -1])


def test_agreement_prefers_the_fit_that_explains_the_photo():
    good = {"silhouette_iou": 0.8, "contact_distance_m": 0.005, "penetration_max_m": 0.004}
    hidden = {"silhouette_iou": 0.1, "contact_distance_m": 0.005, "penetration_max_m": 0.004}  # behind the person
    apart = {"silhouette_iou": 0.8, "contact_distance_m": 0.3, "penetration_max_m": 0.0}
    deep = {"silhouette_iou": 0.8, "contact_distance_m": 0.005, "penetration_max_m": 0.08}
    a = fit_agreement(good)
    assert a > 0.6 and all(fit_agreement(x) < 0.5 * a for x in (hidden, apart, deep))
    from hoirecon.contact.modes import pick_mode

    choice = ModeChoice("sit", "evidence", (ModeScore("sit", 0.6), ModeScore("hand_on", 0.4)))
    picked = pick_mode(choice, {"sit": hidden, "hand_on": good}, ModeConfig())
    assert picked.name == "hand_on" and picked.how == "analysis-by-synthesis"
    assert pick_mode(choice, {"sit": good, "hand_on": hidden}, ModeConfig()).name == "sit"


def test_consistency_prefers_the_mode_that_names_what_its_fit_touches():
    """A cup fitted at the mouth touches the head: "drink" (whose pairs name the head) explains it,
    "hold" does not; held at the waist both explain the hand and the evidence decides; a required
    contact apart (a "sit" whose buttocks float) costs as much as an unexplained one."""
    from hoirecon.contact.modes import contact_consistency, pick_mode

    cup = {m["name"]: m for m in category_modes("cup")}
    cfg = ModeConfig()
    at_mouth, at_waist = frozenset({"right_hand", "head"}), frozenset({"right_hand"})
    assert contact_consistency(cup["drink"], at_mouth, cfg) == 1.0
    assert contact_consistency(cup["hold"], at_mouth, cfg) == pytest.approx(cfg.consistency_keep)
    assert contact_consistency(cup["hold"], at_waist, cfg) == contact_consistency(cup["drink"], at_waist, cfg) == 1.0
    assert contact_consistency(cup["hold"], frozenset(), cfg) == pytest.approx(cfg.consistency_keep)  # no hand on it
    chair = {m["name"]: m for m in category_modes("chair")}
    assert contact_consistency(chair["sit"], frozenset({"left_thigh"}), cfg) == pytest.approx(cfg.consistency_keep)
    same = {"silhouette_iou": 0.8, "contact_distance_m": 0.005, "penetration_max_m": 0.0}
    choice = ModeChoice("hold", "evidence", (ModeScore("hold", 0.55), ModeScore("drink", 0.45)))
    modes = category_modes("cup")
    flip = pick_mode(choice, {"hold": same, "drink": same}, cfg, {"hold": at_mouth, "drink": at_mouth}, modes)
    assert flip.name == "drink" and flip.how == "analysis-by-synthesis"
    stay = pick_mode(choice, {"hold": same, "drink": same}, cfg, {"hold": at_waist, "drink": at_waist}, modes)
    assert stay.name == "hold"
    rec = {s["name"]: s for s in flip.as_dict()["modes"]}
    assert rec["hold"]["consistency"] == pytest.approx(cfg.consistency_keep) and rec["drink"]["touching"] == ["head", "right_hand"]
    assert pick_mode(choice, {"hold": same, "drink": same}, cfg).name == "hold"  # without the geometry: as before


def test_parts_within_against_a_brute_force_reference():
    import trimesh

    from hoirecon.geometry.raycast import parts_within

    rng = np.random.default_rng(0)
    box = trimesh.creation.box((0.2, 0.2, 0.2))
    pts = rng.uniform(-0.2, 0.2, (3000, 3))
    part = rng.integers(0, 5, len(pts))
    names = ("a", "b", "c", "d", "e")
    q = np.abs(pts) - 0.1  # the reference: a box's exact surface distance in closed form
    outside = np.linalg.norm(np.maximum(q, 0.0), axis=1)
    d_ref = np.where(outside > 0, outside, -q.max(1))
    for tol in (0.005, 0.02):
        counts = np.bincount(part[d_ref <= tol], minlength=5)
        want = {names[i] for i in range(5) if counts[i] >= 3}
        assert parts_within(pts, part, names, box.vertices, box.faces, tol) == want
    far = parts_within(pts + 5.0, part, names, box.vertices, box.faces, 0.02)
    assert far == frozenset()


def test_occlusion_rule_an_object_wholly_behind_the_person_is_penalised():
    """The fitter's silhouette agreement (what the choice reads): an object drawn only where the person
    hides it leaves the visible object pixels uncovered."""
    import torch

    from hoirecon.fitting.problem import diagnostics
    from hoirecon.types import ContactSet, ObjectMesh

    class _Pb:  # the two things diagnostics reads of a FitProblem besides the projection
        size = (W, H)
        device = "cpu"
        object_mask = _rect(300, 100, 400, 300)  # the visible object, beside the person
        person_only = torch.as_tensor(_rect(100, 100, 300, 400).astype(np.float32))

        def project(self, v):
            return v[:, :2] * 100.0 + torch.tensor([320.0, 240.0], dtype=v.dtype)

    pb = _Pb()
    v = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0]], np.float64)
    f = np.array([[0, 1, 2], [0, 2, 3]])
    mesh = ObjectMesh(category="box", vertices=v.astype(np.float32), faces=f, part_of_vertex=np.zeros(4, np.int64),
                      part_names=("surface",), symmetry="none", source="test")  # fmt: skip

    def placed(x0, y0):  # the unit square drawn over [x0, x0 + 100) x [y0, y0 + 200)
        return np.stack([(v[:, 0] * 100 + x0 - 320) / 100, (v[:, 1] * 200 + y0 - 240) / 100, np.full(4, 3.0)], 1)

    empty = ContactSet(human_vertices=np.zeros(0, np.int64), object_vertices=np.zeros(0, np.int64), pairs=(),
                       pair_of_human_vertex=np.zeros(0, np.int16), pair_of_object_vertex=np.zeros(0, np.int16), source="t")
    body = _tiny_body()
    seen = diagnostics(body, empty, placed(300, 100), np.zeros(3), mesh, pb)["silhouette_iou"]
    behind = diagnostics(body, empty, placed(150, 150), np.zeros(3), mesh, pb)["silhouette_iou"]
    assert seen > 0.9 and behind < 0.05


def _tiny_body():
    from hoirecon.types import BodyFit

    v = np.array([[10, 10, 10], [11, 10, 10], [10, 11, 10], [10, 10, 11]], np.float32)
    f = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
    return BodyFit(model_name="t", vertices=v, faces=f, keypoints3d=np.zeros((1, 3), np.float32), keypoint_names=("a",),
                   part_of_vertex=np.zeros(4, np.int64), part_names=("p",), params={})  # fmt: skip


def test_interaction_option_overrides_and_unknown_mode_is_an_input_error(tmp_path):
    from typer.testing import CliRunner

    from hoirecon.cli.main import app

    runner = CliRunner()
    bad = runner.invoke(app, ["reconstruct", "examples/astronaut.png", "--interaction", "fly", "--out", str(tmp_path / "bad"), "-q"])
    assert bad.exit_code == 2 and "no interaction mode 'fly' for 'helmet'" in bad.output
    assert not (tmp_path / "bad" / "params.json").exists()
    ok = runner.invoke(app, ["reconstruct", "examples/astronaut.png", "--interaction", "wear", "--out", str(tmp_path / "w"), "-q"])
    assert ok.exit_code == 0, ok.output
    inter = json.loads((tmp_path / "w" / "params.json").read_text())["contacts"]
    assert inter["interaction"]["mode"] == "wear" and inter["interaction"]["how"] == "forced"
    assert inter["pairs"] == [["head", "shell"]]
    assert {m["name"] for m in inter["interaction"]["modes"]} == {"wear", "hold"}


def test_sidecar_interaction_is_read_and_checked(tmp_path):
    import shutil

    from typer.testing import CliRunner

    from hoirecon import photo
    from hoirecon.cli.main import app

    img = tmp_path / "a.png"
    shutil.copy("examples/astronaut.png", img)
    side = json.loads(open("examples/astronaut.png.json").read())
    (tmp_path / "a.png.json").write_text(json.dumps(dict(side, interaction="wear")))
    assert photo.read_sidecar(img).interaction == "wear"
    (tmp_path / "a.png.json").write_text(json.dumps(dict(side, interaction=5)))
    with pytest.raises(InputError, match='"interaction" must be a mode name'):
        photo.read_sidecar(img)
    (tmp_path / "a.png.json").write_text(json.dumps(dict(side, interaction="fly")))
    res = CliRunner().invoke(app, ["reconstruct", str(img), "--out", str(tmp_path / "o"), "-q"])
    assert res.exit_code == 2 and "no interaction mode 'fly' for 'helmet'" in res.output


def test_the_body_posture_tells_sitting_from_standing_at_the_chair():
    """Hips overlapping the chair in the image (the chair in front of the body): the fitted body's
    posture decides between sitting on it and standing with a hand on its backrest."""
    kp = _landmarks(hands=(310, 160), hips=(320, 260), shoulders=(320, 120), knees=(320, 340), feet=(320, 430), head=(320, 80))
    modes = category_modes("chair")
    standing = mode_evidence(modes, kp, np.ones(33), CHAIR_BACK, PERSON_PX, posture="standing")
    seated = mode_evidence(modes, kp, np.ones(33), CHAIR_BACK, PERSON_PX, posture="seated")
    assert standing[0].name == "hand_on" and seated[0].name == "sit"
    assert standing[0].terms["posture"] == 1.0
    neutral = mode_evidence(modes, kp, np.ones(33), CHAIR_BACK, PERSON_PX, posture="other")
    assert {s.terms.get("posture") for s in neutral if "posture" in s.terms} == {ModeConfig().unseen}


def test_mode_pose_supports():
    """A mode's pose and supports reach the joint fit: a rider's feet on the pedals and a skateboarder's
    on the deck are no floor support, a carried suitcase is none, a seated person's feet still are."""
    from hoirecon.contact.modes import mode_pose
    from hoirecon.ground import GroundPrior, gravity_from_up

    g = GroundPrior(gravity_from_up(np.array([0.0, -1.0, 0.0])), body_support="seen", object_support="floor")
    assert mode_pose("bicycle", "ride", True, g)[1].body_support == "none"
    assert mode_pose("skateboard", "ride", True, g)[1].body_support == "none"
    assert mode_pose("chair", "sit", True, g)[1].body_support == "seen"
    upright, carried = mode_pose("suitcase", "carry", True, g)
    assert carried.object_support == "none" and carried.body_support == "seen" and upright
    upright, carried = mode_pose("chair", "carry", True, g)
    assert carried.object_support == "none" and not upright
    assert mode_pose("bicycle", "push", True, None) == (True, None)


def test_a_laptop_in_a_seated_persons_hands_is_not_held_up():
    """A laptop at the hands, away from the knees: held up by a standing person; a seated person's
    laptop there rests on a table (the lap would put it at the knees)."""
    laptop = _rect(250, 200, 350, 260)
    kp = _landmarks(hands=(300, 230), hips=(250, 330), knees=(330, 330), feet=(330, 440), shoulders=(250, 150), head=(250, 100))
    modes = category_modes("laptop")
    standing = mode_evidence(modes, kp, np.ones(33), laptop, PERSON_PX, posture="standing")
    seated = mode_evidence(modes, kp, np.ones(33), laptop, PERSON_PX, posture="seated")
    assert standing[0].name == "held"
    assert seated[0].name == "on_table"
    assert {s.name: s.terms.get("posture") for s in seated}["held"] == 0.0
