"""Contact stage: priors from the data file, selection rules, narrowing by image evidence."""

from __future__ import annotations

import numpy as np
import pytest

from hoirecon.contact.priors import ContactConfig, contact_priors, infer_contacts, select_pairs
from hoirecon.errors import InputError
from hoirecon.objects import build_mesh, categories


def test_every_library_category_has_a_prior_naming_real_parts():
    from hoirecon.body.model import part_names

    priors = contact_priors()
    body_parts = set(part_names())
    for cat, entry in categories().items():
        assert cat in priors, f"no contact prior for {cat}"
        assert "init" not in priors[cat]  # the pose prior is the object's own (objects.json: pose_prior)
        modes = priors[cat]["modes"]
        assert modes and len({m["name"] for m in modes}) == len(modes), cat
        for mode in modes:
            assert mode["pairs"], (cat, mode["name"])
            for pair in mode["pairs"]:
                assert pair["body"] in body_parts, (cat, mode["name"], pair)
                assert pair["object"] in entry["parts"], (cat, mode["name"], pair)


def test_selection_rules():
    prior = {"pairs": [
        {"body": "right_hand", "object": "grip", "alt": "hand"},
        {"body": "left_hand", "object": "grip", "alt": "hand"},
        {"body": "left_foot", "object": "deck", "optional": True},
        {"body": "buttocks", "object": "seat"},
    ]}  # fmt: skip
    cfg = ContactConfig()
    kept = select_pairs(prior, {"right_hand": 0.1, "left_hand": 0.6, "left_foot": 0.0}, cfg)
    bodies = [p["body"] for p in kept]
    assert "left_hand" in bodies and "right_hand" not in bodies  # best-supported alternative only
    assert "left_foot" not in bodies  # optional without evidence
    assert "buttocks" not in bodies  # required, but nowhere near the object's mask
    both = select_pairs(prior, {"right_hand": 0.5, "left_hand": 0.6, "left_foot": 0.3, "buttocks": 0.06}, cfg)
    assert {"left_hand", "right_hand", "left_foot", "buttocks"} <= {p["body"] for p in both}
    # Required pairs only: one is always kept, the best supported.
    req = {"pairs": [{"body": "left_hand", "object": "top"}, {"body": "right_hand", "object": "top"}]}
    assert [p["body"] for p in select_pairs(req, {"left_hand": 0.01, "right_hand": 0.03}, cfg)] == ["right_hand"]
    assert [p["body"] for p in select_pairs(req, {"left_hand": 0.4, "right_hand": 0.0}, cfg)] == ["left_hand"]
    assert len(select_pairs(req, {"left_hand": 0.4, "right_hand": 0.3}, cfg)) == 2


def test_contacts_follow_the_hand_that_touches_the_object(rest_body, camera):
    from benchmarks.support.synthetic import make_scene

    mesh = build_mesh("tennis_racket")
    scene = make_scene(rest_body, mesh, np.eye(3), ("left_hand", "grip"), camera)
    diag = float(np.hypot(scene.person.box.width, scene.person.box.height))
    contacts = infer_contacts(rest_body, mesh, scene.object, camera, diag)
    assert contacts.pairs == (("left_hand", "grip"),)
    left = rest_body.part_names.index("left_hand")
    assert np.all(rest_body.part_of_vertex[contacts.human_vertices] == left)
    grip = mesh.part_vertices("grip")
    assert set(contacts.object_vertices) == set(grip)
    # The true contact vertices of the hand are mostly among the predicted ones.
    true_h = set(scene.contacts.human_vertices)
    assert len(true_h & set(contacts.human_vertices)) >= 0.5 * len(true_h)


def test_unknown_category_prior_is_an_input_error():
    from hoirecon.contact.priors import category_prior

    with pytest.raises(InputError, match="no contact prior"):
        category_prior("giraffe")


def test_pairs_name_known_regions_and_contacts_keep_to_them(rest_body, camera):
    """A pair's ``region`` (contacts.json) is one of body_parts.json's; the contacts of a skateboard
    ridden are the soles, not whole feet, and a body without regions falls back to the whole part."""
    from dataclasses import replace

    from hoirecon.body.model import region_names

    known = set(region_names())
    named = {p["region"] for e in contact_priors().values() for m in e["modes"] for p in m["pairs"] if "region" in p}
    assert named and named <= known, named - known
    mesh = build_mesh("skateboard")
    box = np.zeros((camera.height, camera.width), bool)
    box[:, :] = True  # every vertex projects onto the object: no narrowing by the image
    from hoirecon.types import Box, ObjectDetection

    obj = ObjectDetection(label="skateboard", box=Box(0, 0, camera.width - 1, camera.height - 1), mask=box, backend="test")
    c = infer_contacts(rest_body, mesh, obj, camera, 800.0, mode="ride")
    feet = [rest_body.part_names.index(n) for n in ("left_foot", "right_foot")]
    assert {("left_foot", "deck"), ("right_foot", "deck")} <= set(c.pairs)

    def on_feet(cs):
        return cs.human_vertices[np.isin(rest_body.part_of_vertex[cs.human_vertices], feet)]

    assert np.isin(on_feet(c), rest_body.regions["sole"]).all()
    whole = infer_contacts(replace(rest_body, regions={}), mesh, obj, camera, 800.0, mode="ride")
    assert len(on_feet(whole)) == int(np.isin(rest_body.part_of_vertex, feet).sum()) > 2 * len(on_feet(c))
