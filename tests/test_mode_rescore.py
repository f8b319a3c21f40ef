"""benchmarks/mode_rescore.py: the stored evidence and fits re-scored offline make the pipeline's choice."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import mode_rescore as MR
from hoirecon.contact.config import ModeConfig
from hoirecon.contact.modes import GROUPS
from hoirecon.contact.priors import category_modes

H, W = 480, 640


def test_mask_runs_round_trip():
    rng = np.random.default_rng(0)
    for first in (False, True):
        m = rng.uniform(size=(37, 53)) < 0.3
        m[0, 0] = first
        runs = MR.mask_to_runs(m)
        assert sum(runs) == m.size
        assert np.array_equal(MR.runs_to_mask(runs, m.shape), m)
    assert MR.runs_to_mask(MR.mask_to_runs(np.zeros((4, 5), bool)), (4, 5)).sum() == 0
    assert MR.runs_to_mask(MR.mask_to_runs(np.ones((4, 5), bool)), (4, 5)).all()


def _record(where: dict, fits: dict, mode: str, posture: str = "unknown") -> dict:
    """A stored bench scene: a bench whose seat top is at y = 300 (its mask down to the floor at 400)."""
    kp = np.full((33, 2), 5.0)
    for group, xy in where.items():
        kp[list(GROUPS[group])] = xy
    mask = np.zeros((H, W), bool)
    mask[300:400, 100:400] = True
    full = {m["name"]: {"losses": {"silhouette_iou": 0.5, "contact_distance_m": 0.01, "penetration_max_m": 0.0},
                        "touching": [], "metrics": {"object_chamfer_cm": 5.0, "contact_f1_tol": 0.1, "contact_f1": 0.1}}
            for m in category_modes("bench")}  # fmt: skip
    for name, losses in fits.items():
        full[name] = {**full[name], **losses}
    return {"recipe": f"bench/{mode}", "index": 0, "seed": 0, "category": "bench", "mode": mode, "posture": posture,
            "keypoints": kp.tolist(), "visibility": [1.0] * 33, "mask_shape": [H, W],
            "mask_runs": MR.mask_to_runs(mask), "height_px": 400.0, "fits": full}  # fmt: skip


SIT = dict(hips=(250, 310), knees=(320, 310), feet=(330, 420), shoulders=(250, 180), hands=(300, 300), head=(250, 130))
STAND = dict(feet=(250, 305), knees=(250, 230), hips=(250, 150), shoulders=(250, 20), hands=(200, 120), head=(250, 10))


def test_score_follows_the_evidence_and_the_fits():
    good = {"losses": {"silhouette_iou": 0.9, "contact_distance_m": 0.005, "penetration_max_m": 0.0},
            "touching": ["buttocks"], "metrics": {"object_chamfer_cm": 1.0, "contact_f1_tol": 0.8, "contact_f1": 0.5}}
    sit = _record(SIT, {"sit": good}, "sit", posture="seated")
    stand = _record(STAND, {}, "stand_on", posture="standing")
    cfg = ModeConfig()
    assert MR.choose(sit, category_modes("bench"), cfg) == "sit"
    assert MR.choose(stand, category_modes("bench"), cfg) == "stand_on"  # the choice flips with the evidence
    res = MR.score([sit, stand], cfg)
    assert res["right"] == 2 and res["accuracy"] == 1.0 and res["wrong"] == []
    assert res["chamfer_cm"] == pytest.approx(3.0)  # median of the chosen fits' 1.0 and 5.0
    # by the fits alone the well-fitted "sit" wins on the standing scene too; by the evidence alone not
    stand_fit = _record(STAND, {"sit": good}, "stand_on", posture="standing")
    assert MR.choose(stand_fit, category_modes("bench"), cfg, by="fits") == "sit"
    assert MR.choose(stand_fit, category_modes("bench"), cfg, by="evidence") == "stand_on"
    # another contacts.json: with "stand_on" given no evidence rules and a tiny prior, the standing person
    # is read as standing beside the bench with a hand on it
    modes = json.loads(json.dumps(category_modes("bench")))
    for m in modes:
        if m["name"] == "stand_on":
            m["evidence"] = {"prior": 1e-6}
    res = MR.score([stand_fit], cfg, {"bench": {"modes": modes}})
    assert res["right"] == 0 and res["wrong"] == ["bench/stand_on #0: hand_on"]


def test_cli_score_with_overrides(tmp_path, capsys):
    path = tmp_path / "fits.json"
    path.write_text(json.dumps({"recipes": ["bench"], "scenes": [_record(SIT, {}, "sit", posture="seated")]}))
    MR.main(["score", str(path), "--set", "temperature=2", "--set", "max_candidates=3", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert out["scenes"] == 1 and out["right"] == 1
    with pytest.raises(SystemExit, match="no field 'bogus'"):
        MR.main(["score", str(path), "--set", "bogus=1"])
    assert MR._override(ModeConfig(), ["temperature=None", "shared=false", "max_candidates=4"]) == ModeConfig(
        temperature=None, shared=False, max_candidates=4)


def test_fit_scene_stores_what_the_choice_needs(anny_body):
    """One real scene: every mode of the category fitted, the record JSON-safe, and the offline choice
    the one the pipeline's own functions make on the regenerated scene."""
    from benchmarks.support.scenes import generate_scene, scene_image
    from hoirecon.contact.modes import choose_candidates, pick_mode
    from hoirecon.pipeline import body_posture

    from hoirecon.contact import ContactStageConfig, make_contact_source

    MR.WORKER.update(model=anny_body, source=make_contact_source(ContactStageConfig(), anny_body))
    rec = json.loads(json.dumps(MR.fit_scene(("cup/drink", 0, 0))))
    assert set(rec["fits"]) == {m["name"] for m in category_modes("cup")}
    for f in rec["fits"].values():
        assert 0.0 <= f["losses"]["silhouette_iou"] <= 1.0 and f["metrics"]["object_chamfer_cm"] >= 0.0
    sc = generate_scene("cup/drink", seed=0, index=0, model=MR.WORKER["model"])
    assert rec["mode"] == sc.mode == "drink" and len(rec["keypoints"]) == 33
    assert np.array_equal(MR.runs_to_mask(rec["mask_runs"], tuple(rec["mask_shape"])), sc.object.mask)
    image = scene_image(sc)
    cfg = ModeConfig()
    choice, cands = choose_candidates(image, sc.person, sc.object, sc.body, None, body_posture(image, sc.person, sc.body, None),
                                      "cup", None, cfg)  # fmt: skip
    picked = pick_mode(choice, {m: rec["fits"][m]["losses"] for m in cands}, cfg,
                       {m: frozenset(rec["fits"][m]["touching"]) for m in cands}, category_modes("cup"))  # fmt: skip
    assert MR.choose(rec, category_modes("cup"), cfg) == (picked.name if len(cands) > 1 else cands[0])
