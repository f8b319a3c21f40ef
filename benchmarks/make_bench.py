"""Makes on synthetic scenes: is the make the photo shows retrieved, and what that does to the fit.

Scenes: every written chair recipe (sit, hand on the backrest, stand on, carry: ``bench_scenes.json``)
built with each of the chair's makes (``objects.json`` ``variants``: the dining chair, an office chair,
a folding chair, a camp stool), ``--per-recipe`` scenes each, the pose jittered per scene and the true
contacts measured on the posed geometry. Each gets the true body, the rendered masks and landmarks,
and the pipeline's estimated contacts; the interaction mode is the pipeline's candidate of most
evidence (``choose_candidates``), as :func:`hoirecon.pipeline.retrieve_make` gets it. Rows:

* ``retrieved``: the pipeline's retrieval (every make fitted, the best kept);
* ``default make``: the category's own mesh whatever the photo shows (before makes existed);
* ``true make``: the scene's own make (the bound).

Metrics: make accuracy, object Chamfer (cm, against the true object; the fits are the makes'
comparison fits), silhouette IoU of the fit against the visible object mask.
Our own meshes make these scenes: they say whether the retrieval finds a make that is in the library,
not how it does on chairs that are not (the real photos, ``benchmarks/photos.py``, say that).

    python benchmarks/make_bench.py --per-recipe 1 --write BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RECIPES = ("chair", "chair/hand_on", "chair/stand_on", "chair/carry")
ROWS = ("retrieved", "default make", "true make")
_WORKER: dict = {}


def _init_worker(threads: int) -> None:
    import torch

    from hoirecon.body import load_body_model
    from hoirecon.contact import make_contact_source
    from hoirecon.contact.config import ContactStageConfig

    torch.set_num_threads(threads)
    _WORKER["model"] = load_body_model("anny")
    _WORKER["source"] = make_contact_source(ContactStageConfig(), _WORKER["model"])


def _run_scene(job: tuple[str, str, int, int]) -> tuple[str, str, int, dict]:
    from benchmarks.support import metrics as M
    from benchmarks.support.scenes import generate_scene, scene_image
    from hoirecon.config import PipelineConfig
    from hoirecon.contact import infer_contacts
    from hoirecon.contact.modes import choose_candidates, mode_facing, mode_pose
    from hoirecon.fitting.joint import fit_object
    from hoirecon.objects import build_mesh, properties, variant_names
    from hoirecon.pipeline import body_posture, retrieve_make

    recipe, make, index, seed = job
    model, source = _WORKER["model"], _WORKER["source"]
    sc = None
    for k in (index, index + 1000):  # as mode_bench: a recipe with no valid scene in one stream tries the next
        try:
            sc = generate_scene(recipe, seed=seed, index=k, model=model, make=make)
            break
        except RuntimeError:
            continue
    if sc is None:  # this make cannot be placed so (a camp stool's seat at hand height): no scene
        return recipe, make, index, None
    cat, image, props, cfg = sc.category, scene_image(sc), properties(sc.category), PipelineConfig()
    _, cands = choose_candidates(image, sc.person, sc.object, sc.body, None, body_posture(image, sc.person, sc.body, None),
                                 cat, None, cfg.contact.modes)  # fmt: skip
    fits = {}

    def fit(mode, mesh):  # one make after another (workers 1): the seconds are each make's own
        t = time.perf_counter()
        contacts, _ = infer_contacts(source, image, sc.detections, sc.body, mesh, mode=mode)
        upright, _ = mode_pose(cat, mode, props.upright, None)
        prepared = time.perf_counter() - t  # the contacts' seconds; the fit's are added when it runs

        def run():
            t1 = time.perf_counter()
            f = fit_object(sc.body, mesh, contacts, sc.object, sc.person, sc.camera, scale_sigma=props.scale_sigma,
                           upright=upright, config=cfg.fit, body_model=model, facing=mode_facing(cat, mode))  # fmt: skip
            fits[mesh.variant] = (f, prepared + time.perf_counter() - t1)
            return f

        return run

    t0 = time.perf_counter()
    mesh, record, _ = retrieve_make([build_mesh(cat, n) for n in variant_names(cat)], cands[0], fit, cat, cfg.contact.modes)
    spent = time.perf_counter() - t0
    out = {}
    for row, name, secs in (("retrieved", mesh.variant, spent), ("default make", "default", fits["default"][1]),
                            ("true make", make, fits[make][1])):  # fmt: skip
        f = fits[name][0]
        out[row] = {"make": name, "make_right": float(name == make), "seconds": secs,
                    "silhouette_iou": float(f.losses.get("silhouette_iou", 0.0)),
                    "object_chamfer_cm": M.object_chamfer_cm(f.object.vertices, sc.object_vertices, f.object.mesh.faces,
                                                             sc.mesh.faces)}  # fmt: skip
    out["_mode"] = cands[0]
    out["_record"] = record
    return recipe, make, index, out


def run(per_recipe: int, seed: int, jobs: int) -> dict:
    import multiprocessing as mp

    from hoirecon.objects import variant_names

    t0 = time.perf_counter()
    work = [(r, m, i, seed) for r in RECIPES for m in variant_names("chair") for i in range(per_recipe)]
    results = []
    with mp.get_context("spawn").Pool(jobs, initializer=_init_worker, initargs=(1,)) as pool:
        for k, (r, m, i, out) in enumerate(pool.imap_unordered(_run_scene, work)):
            print(f"scene {k + 1}/{len(work)} ({r} as {m} #{i}: {out['retrieved']['make'] if out else 'no valid scene'}) done",
                  flush=True)  # fmt: skip
            if out is not None:
                results.append((r, m, i, out))
    results.sort(key=lambda x: (RECIPES.index(x[0]), variant_names("chair").index(x[1]), x[2]))
    return {"results": results, "total_s": time.perf_counter() - t0, "asked": len(work)}


def tables_markdown(result: dict) -> str:
    res = result["results"]
    lines = ["| method | make accuracy | object Chamfer cm (median / p90) | silhouette IoU (median) |", "|---|---|---|---|"]
    for row in ROWS:
        recs = [o[row] for *_, o in res]
        ch = sorted(r["object_chamfer_cm"] for r in recs)
        p90 = ch[min(len(ch) - 1, int(round(0.9 * (len(ch) - 1))))]
        lines.append(f"| {row} | {100 * statistics.mean(r['make_right'] for r in recs):.0f} % "
                     f"({int(sum(r['make_right'] for r in recs))}/{len(recs)}) | {statistics.median(ch):.2f} / {p90:.2f} "
                     f"| {statistics.median(r['silhouette_iou'] for r in recs):.2f} |")  # fmt: skip
    lines += ["", "Per scene (recipe, the scene's make, the mode fitted, the make retrieved; Chamfer cm retrieved / default make):", "",
              "| recipe | make | mode | retrieved | Chamfer cm |", "|---|---|---|---|---|"]  # fmt: skip
    for r, m, i, o in res:
        lines.append(f"| {r} #{i} | {m} | {o['_mode']} | {o['retrieved']['make']} {'✓' if o['retrieved']['make_right'] else '✗'} "
                     f"| {o['retrieved']['object_chamfer_cm']:.1f} / {o['default make']['object_chamfer_cm']:.1f} |")  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--per-recipe", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--write", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write every scene's records (each make's scores) here")
    a = ap.parse_args()
    result = run(a.per_recipe, a.seed, a.jobs)
    if a.json:
        import json

        a.json.write_text(json.dumps(result, indent=1))
    text = tables_markdown(result)
    print(text)
    if a.write:
        from benchmarks._markdown import run_note, update_block

        head = (f"{len(result['results'])} synthetic chair scenes of {result['asked']} asked (the others had no valid scene), "
                f"`make_bench.py --per-recipe {a.per_recipe} --seed {a.seed}`, "
                f"{run_note(result['total_s'], a.jobs)}\n\n")  # fmt: skip
        update_block(a.write, "makes", "Makes on synthetic scenes (`make bench`)", head + text)


if __name__ == "__main__":
    main()
