"""A category's makes (``objects.json`` ``variants``: an office chair, a folding chair, a camp stool):
their meshes, the label that names one, and their retrieval by analysis by synthesis."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from hoirecon.errors import InputError
from hoirecon.objects import build_mesh, catalog, variant_for_label, variant_names


def test_every_make_builds_watertight_at_its_size_with_the_categorys_parts():
    seen = 0
    for key in catalog.category_keys():
        parts = catalog.entry(key).parts
        for spec in catalog.variants(key):
            m = build_mesh(key, spec["name"])
            seen += 1
            assert m.variant == spec["name"] and m.source == f"library:{key}/{spec['name']}"
            assert set(m.part_names) <= set(parts) and all(len(m.part_vertices(p)) for p in m.part_names)
            extent = float((m.vertices.max(0) - m.vertices.min(0)).max())
            assert abs(extent - spec["size_m"]) < 1e-3, (key, spec["name"], extent)
            assert m.vertices[:, 1].max() == pytest.approx(0.0, abs=1e-5)  # standing on y = 0
            tm = trimesh.Trimesh(m.vertices.astype(np.float64), m.faces, process=False)
            assert tm.is_watertight and tm.is_winding_consistent and tm.volume > 0  # closed, outward-wound pieces
            for missing in set(parts) - set(m.part_names):  # every part a mode may name is reachable
                alias = dict(m.part_aliases).get(missing)
                if alias is not None:
                    assert np.array_equal(m.part_vertices(missing), m.part_vertices(alias))
    assert seen >= 3
    assert variant_names("chair")[0] == "default" and {"office", "folding", "camp_stool"} <= set(variant_names("chair"))


def test_a_camp_stool_is_touched_on_its_seat_where_a_chair_has_a_backrest():
    stool = build_mesh("chair", "camp_stool")
    assert "backrest" not in stool.part_names
    assert np.array_equal(stool.part_vertices("backrest"), stool.part_vertices("seat"))
    assert len(build_mesh("chair").part_vertices("backrest")) and not len(stool.part_vertices("wheels"))


def test_the_label_names_the_make():
    assert variant_for_label("chair", "Office-Chair") == "office"
    assert variant_for_label("chair", "my old folding chair") == "folding"
    assert variant_for_label("chair", "chair") is None and variant_for_label("chair", None) is None
    assert variant_for_label("bench", "office chair") is None  # a category without makes
    with pytest.raises(InputError, match="no variant 'throne'"):
        build_mesh("chair", "throne")


def test_malformed_makes_are_named():
    item = {"parts": ["seat", "backrest", "legs"],
            "variants": [{"name": "x", "about": "a", "synonyms": [], "size_m": 1.0, "shape": [{}], "part_aliases": {"arm": "seat"}}]}  # fmt: skip
    with pytest.raises(ValueError, match="variant 0 \\('x'\\): part_aliases"):
        catalog._check_variants("chair", item)
    item["variants"][0].pop("part_aliases")
    item["variants"][0]["colour"] = "red"
    with pytest.raises(ValueError, match="unknown fields \\['colour'\\]"):
        catalog._check_variants("chair", item)
    item["variants"][0].pop("colour")
    item["variants"][0]["name"] = "default"
    with pytest.raises(ValueError, match="the name is taken"):
        catalog._check_variants("chair", item)


@pytest.mark.parametrize("truth, pair", [("camp_stool", ("right_hand", "seat")), ("office", ("right_hand", "backrest"))])
def test_the_make_whose_fit_explains_the_photo_is_retrieved(rest_body, camera, truth, pair):
    """A person with a hand on a chair, the photo rendered from one make: every make is fitted with the
    "hand_on" mode, and the make the photo shows wins (the choice flips with it)."""
    from benchmarks.support.synthetic import make_scene
    from hoirecon.contact.config import ContactConfig, ModeConfig
    from hoirecon.contact.priors import infer_contacts
    from hoirecon.fitting.config import FitConfig
    from hoirecon.fitting.joint import fit_object
    from hoirecon.geometry.rotations import rot_y
    from hoirecon.pipeline import retrieve_make

    scene = make_scene(rest_body, build_mesh("chair", truth), rot_y(0.4), pair, camera)
    diag = float(np.hypot(scene.person.box.width, scene.person.box.height))

    def fit(mode, mesh):
        contacts = infer_contacts(rest_body, mesh, scene.object, camera, diag, ContactConfig(), mode=mode)
        return lambda: fit_object(rest_body, mesh, contacts, scene.object, scene.person, camera, upright=True,
                                  config=FitConfig())  # fmt: skip

    meshes = [build_mesh("chair", n) for n in variant_names("chair")]
    mesh, record, fitted = retrieve_make(meshes, "hand_on", fit, "chair", ModeConfig(), workers=2)
    scores = {r["name"]: r["score"] for r in record["makes"]}
    assert mesh.variant == record["make"] == truth, scores
    assert record["how"] == "analysis-by-synthesis" and record["mode"] == "hand_on" and len(scores) == len(meshes)
    assert scores[truth] > max(v for k, v in scores.items() if k != truth)
    assert fitted.object.mesh is mesh  # the chosen make's fit comes back with it (the pipeline keeps it)
    # the makes' fits ran side by side in two threads: one after another gives the same answer, exactly
    mesh1, record1, fitted1 = retrieve_make(meshes, "hand_on", fit, "chair", ModeConfig(), workers=1)
    assert record1 == record and mesh1 is mesh
    assert np.array_equal(fitted1.object.vertices, fitted.object.vertices)
    assert np.array_equal(fitted1.body.vertices, fitted.body.vertices) and fitted1.losses == fitted.losses

def test_a_benchmark_scene_is_built_with_the_make_asked_for(anny_body):
    """``make_bench.py``'s scenes: the chair's sitting recipe built with a camp stool, the buttocks on
    its seat, the contacts measured on the posed geometry."""
    from benchmarks.support.scenes import generate_scene

    sc = generate_scene("chair", seed=0, index=0, model=anny_body, make="camp_stool")
    assert sc.mesh.variant == "camp_stool" and sc.mode == "sit" and sc.primary_pair == ("buttocks", "seat")
    assert len(sc.contacts.human_vertices) > 0 and sc.object.mask.sum() > 0
    assert float(np.ptp(sc.mesh.vertices, axis=0).max()) == pytest.approx(0.44, abs=1e-3)  # the stool's own size


def test_every_mode_reaches_every_make():
    """Each mode of a category with makes has, on every make, a contact pair whose object part the make
    has or aliases (else the make could not be compared under that mode)."""
    from hoirecon.contact.priors import category_modes

    for key in catalog.category_keys():
        for name in variant_names(key)[1:]:
            m = build_mesh(key, name)
            for mode in category_modes(key):
                required = [p for p in mode["pairs"] if not p.get("optional")] or mode["pairs"]
                assert any(len(m.part_vertices(p["object"])) for p in required), (key, name, mode["name"])


def test_fit_pool_runs_jobs_side_by_side_in_order_and_hands_back_errors():
    """``fit_pool(2)`` runs two jobs at once (each waits for the other at a barrier: one after another
    would time out), results come back in submission order, a job's error is raised by its result; one
    worker runs each job as it is submitted, in the calling thread, and its error stops the caller
    there."""
    import threading

    import pytest

    from hoirecon.pipeline import fit_pool

    barrier = threading.Barrier(2, timeout=20)

    def job(k):
        def run():
            barrier.wait()
            return k, threading.current_thread().name

        return run

    with fit_pool(2) as pool:
        futures = [pool.submit(job(k)) for k in range(2)]
        out = [f.result() for f in futures]
    assert [k for k, _ in out] == [0, 1] and all(name.startswith("hoirecon-fit") for _, name in out)

    def boom():
        raise ValueError("no contact pairs")

    with fit_pool(1) as pool:
        first = pool.submit(lambda: threading.current_thread().name)
        assert first.done() and first.result() == threading.current_thread().name
        with pytest.raises(ValueError, match="no contact pairs"):
            pool.submit(boom)
    with fit_pool(2) as pool:
        failed = pool.submit(boom)
    with pytest.raises(ValueError, match="no contact pairs"):
        failed.result()


def test_limb_phases_side_by_side_keep_torch_deterministic_until_the_last_one_ends():
    """Torch's deterministic-algorithms setting is the process's: with two limb phases overlapping in
    threads, the first one out must not turn it off under the other; the last one out restores it."""
    import threading

    import torch

    from hoirecon.fitting.limbs import _deterministic

    before = torch.are_deterministic_algorithms_enabled()
    a_in, a_out, b_in = threading.Event(), threading.Event(), threading.Event()
    seen = {}

    def first():
        with _deterministic():
            a_in.set()
            b_in.wait(10)
        a_out.set()

    def second():
        a_in.wait(10)
        with _deterministic():
            b_in.set()
            a_out.wait(10)  # the first phase has ended: this one is still inside
            seen["inside"] = torch.are_deterministic_algorithms_enabled()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert seen["inside"] is True
    assert torch.are_deterministic_algorithms_enabled() == before
