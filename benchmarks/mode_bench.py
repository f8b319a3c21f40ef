"""Interaction modes on synthetic scenes: is the photo's mode chosen, and what the choice does to the fit.

Scenes: by default every written recipe of ``benchmarks/support/data/bench_scenes.json``, one per
category (its default mode, or the one it names: a carried suitcase) and one per other interaction
mode (``mode_recipes``: every mode in ``hoirecon/data/contacts.json`` of the first 19 categories has
one, 49 in all: a chair stood on or carried tilted in one hand, a bench lain on, a bicycle pushed,
straddled or carried, a motorcycle ridden, sat on sideways or touched, a laptop on the lap, a cup and
a bottle at the mouth, a bat, racket or umbrella on the shoulder, a suitcase pulled or sat on, a
camera on its tripod...), ``--per-recipe`` scenes each. ``--sample``: every one of the library's 87
categories once, each scene one of the category's modes drawn from ``--seed``
(``scenes.sample_recipes``; modes without a written recipe use one derived from the modes data);
``--recipes all``: every recipe, written and derived. Each recipe's pose preset is jittered per scene and the true contacts
are measured on the posed geometry. Every row gets the true body and the rendered masks and
landmarks; contacts are the pipeline's estimated ones (``hoirecon.contact``'s offline prior through
Render-Localize-Lift) for the mode in question:

* ``ours``: the pipeline's choice (``hoirecon.pipeline.choose_candidates`` on the landmarks and the
  object mask, each candidate fitted, ``pick_mode``);
* ``evidence only``: the best-evidence mode, fitted alone;
* ``first mode``: the category's first mode, whatever the photo shows (the trivial method);
* ``true contacts``: the fit with the scene's true contacts (the bound).

Metrics: mode accuracy (the chosen mode is the scene's), object Chamfer (cm), contact F1 (body vertices
within 5 cm of the object, CONTHO's threshold, against the true contact vertices; and within 2 cm, the
tolerance that defines the true contacts), seconds per scene (one core, every
candidate's contacts and fit).

Held-out categories (``bench_scenes.json`` ``held_out``: the motorcycle): their evidence rules in
``contacts.json`` were written from what each mode means and never compared against these scenes, so
the main table repeats every method's row for the held-out categories' scenes alone (``ours
(held-out: motorcycle)``) and for the other categories' scenes (``ours (other categories)``): whether
the rules generalise. The sub-rows appear when the run has held-out scenes.

    python benchmarks/mode_bench.py --per-recipe 2 --write BENCHMARKS.md
    python benchmarks/mode_bench.py --sample --write BENCHMARKS.md      # every category once, ~9 min
    python benchmarks/mode_bench.py --per-recipe 1 --recipes motorcycle/ride,chair/carry --jobs 2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: benchmarks.support

ROWS = ("ours", "evidence only", "first mode", "true contacts")
#: a worker process's body model ("model") and contact source ("source"), set by :func:`init_worker`
WORKER: dict = {}


def init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    from hoirecon.body import load_body_model
    from hoirecon.contact import ContactStageConfig, make_contact_source

    WORKER["model"] = load_body_model("anny")
    WORKER["source"] = make_contact_source(ContactStageConfig(), WORKER["model"])


def fit_mode(sc, image, mode: str, contacts=None):
    """One interaction mode's joint fit of a bench scene, as the pipeline fits it (the mode's estimated
    contacts through the worker's contact source unless ``contacts`` is given, its pose prior and
    facing, the default fit config, the limb phase): ``(FitResult, seconds)``."""
    from hoirecon.config import PipelineConfig
    from hoirecon.contact import infer_contacts
    from hoirecon.contact.modes import mode_facing, mode_pose
    from hoirecon.fitting.joint import fit_object
    from hoirecon.objects import properties

    t = time.perf_counter()
    cat, props = sc.category, properties(sc.category)
    if contacts is None:
        contacts, _ = infer_contacts(WORKER["source"], image, sc.detections, sc.body, sc.mesh, mode=mode)
    upright, _ = mode_pose(cat, mode, props.upright, None)
    fit = fit_object(sc.body, sc.mesh, contacts, sc.object, sc.person, sc.camera, scale_sigma=props.scale_sigma,
                     upright=upright, config=PipelineConfig().fit, body_model=WORKER["model"],
                     facing=mode_facing(cat, mode))  # fmt: skip
    return fit, time.perf_counter() - t


def _run_scene(job: tuple[tuple[str, ...], int, int]) -> tuple[str, int, dict]:
    from benchmarks.hoi_bench import evaluate
    from benchmarks.support.scenes import generate_scene, scene_image
    from hoirecon.config import PipelineConfig
    from hoirecon.contact.modes import choose_candidates, pick_mode, touching_parts
    from hoirecon.contact.priors import category_modes
    from hoirecon.pipeline import body_posture

    recipes, index, seed = job
    t_start = time.perf_counter()
    model = WORKER["model"]
    sc = None
    for recipe in recipes:  # a sampled category: the first of its recipes that makes a valid scene
        try:
            sc = generate_scene(recipe, seed=seed, index=index, model=model)
        except RuntimeError:  # no valid scene in the recipe's attempts: the next index's stream
            try:
                sc = generate_scene(recipe, seed=seed, index=index + 1000, model=model)
            except RuntimeError:
                continue
        break
    if sc is None:
        raise RuntimeError(f"no valid scene for any of {', '.join(recipes)} (seed {seed}, index {index})")
    cat = sc.category
    image = scene_image(sc)
    cfg = PipelineConfig()
    fits: dict[str, tuple] = {}
    t0 = time.perf_counter()
    choice, cands = choose_candidates(image, sc.person, sc.object, sc.body, None, body_posture(image, sc.person, sc.body, None),
                                      cat, None, cfg.contact.modes)  # fmt: skip
    t_evidence = time.perf_counter() - t0
    for m in cands:
        fits[m] = fit_mode(sc, image, m)
    mc = cfg.contact.modes
    touching = {m: touching_parts(f, mc.touch_m) for m, (f, _) in fits.items()} if len(fits) > 1 else None
    picked = pick_mode(choice, {m: f.losses for m, (f, _) in fits.items()}, mc, touching, category_modes(cat))
    first = category_modes(cat)[0]["name"]
    if first not in fits:
        fits[first] = fit_mode(sc, image, first)
    true_fit, true_s = fit_mode(sc, image, sc.mode, sc.contacts)
    spent = t_evidence + sum(fits[m][1] for m in cands)
    out = {}
    for row, mode, fit, secs in (
        ("ours", picked.name, fits[picked.name][0], spent),
        ("evidence only", cands[0], fits[cands[0]][0], t_evidence + fits[cands[0]][1]),
        ("first mode", first, fits[first][0], fits[first][1]),
        ("true contacts", sc.mode, true_fit, true_s),
    ):
        rec = evaluate(sc, fit, secs)
        rec["mode_right"] = float(mode == sc.mode)
        rec["mode"] = mode
        out[row] = rec
    out["_candidates"] = list(cands)
    out["_seconds"] = time.perf_counter() - t_start
    return recipe, index, out


def run(per_recipe: int, seed: int, recipes: list, jobs: int = 2) -> dict:
    """``recipes``: recipe names, or (sampled runs) per scene the list of recipes to try in turn."""
    import multiprocessing as mp

    t0 = time.perf_counter()
    tries = [tuple(r) if isinstance(r, (list, tuple)) else (r,) for r in recipes]
    jobs_list = [(t, i, seed) for t in tries for i in range(per_recipe)]
    order = {t[0]: k for k, t in enumerate(tries)}
    results = []
    with mp.get_context("spawn").Pool(jobs, initializer=init_worker, initargs=(1,)) as pool:
        for k, (r, i, out) in enumerate(pool.imap_unordered(_run_scene_job, jobs_list)):
            results.append((order[r[0]], i, r[1], out))
            print(f"scene {k + 1}/{len(jobs_list)} ({r[1]} #{i}: {out['ours']['mode']}, {out['_seconds']:.0f} s) done", flush=True)
    results.sort(key=lambda x: (x[0], x[1]))
    return {"results": [(r, out) for _, _, r, out in results], "jobs": jobs, "total_s": time.perf_counter() - t0}


def _run_scene_job(job: tuple[tuple[str, ...], int, int]) -> tuple[tuple[str, str], int, dict]:
    """``_run_scene`` keyed by the job's first recipe, with the recipe that made the scene."""
    recipe, index, out = _run_scene(job)
    return (job[0][0], recipe), index, out


def _recipe_category(recipe: str) -> str:
    return recipe.partition("/")[0]


def _table_row(name: str, recs: list[dict]) -> str:
    from benchmarks.support.metrics import summarize

    acc = sum(r["mode_right"] for r in recs) / len(recs)
    cells = []
    for key, fmt in (("object_chamfer_cm", "{:.2f}"), ("contact_f1", "{:.2f}"), ("contact_f1_tol", "{:.2f}"),
                     ("seconds", "{:.1f}")):
        s = summarize([r[key] for r in recs])
        cells.append(f"{fmt.format(s['median'])} / {fmt.format(s['p90'])}")
    return f"| {name} | {100 * acc:.0f} % ({int(sum(r['mode_right'] for r in recs))}/{len(recs)}) | " + " | ".join(cells) + " |"


def tables_markdown(result: dict, held_out: list[str] | None = None) -> str:
    """The main table (every method over all scenes; with held-out scenes in the run, each method again
    over the held-out categories' scenes and over the other categories' scenes) and the per-recipe
    table. ``held_out``: default ``bench_scenes.json``'s ``held_out``."""
    if held_out is None:
        from benchmarks.support.scenes import held_out_categories

        held_out = held_out_categories()
    res = result["results"]
    held = [(r, o) for r, o in res if _recipe_category(r) in held_out]
    other = [(r, o) for r, o in res if _recipe_category(r) not in held_out]
    groups = [("", res)]
    if held:
        groups += [(f" (held-out: {', '.join(held_out)})", held), (" (other categories)", other)]
    lines = ["| method | mode accuracy | object Chamfer cm | contact F1 @5 cm | contact F1 @2 cm | s / scene |",
             "|---|---|---|---|---|---|"]
    for row in ROWS:
        for suffix, part in groups:
            if part:
                lines.append(_table_row(row + suffix, [out[row] for _, out in part]))
    lines += ["", "Per recipe (the scene's mode; what ours chose; object Chamfer cm, ours / first mode / true contacts, median):", "",
              "| recipe | mode | ours chose | Chamfer cm |", "|---|---|---|---|"]  # fmt: skip
    import numpy as np

    for recipe in dict.fromkeys(r for r, _ in res):
        outs = [o for r, o in res if r == recipe]
        chose = ", ".join(o["ours"]["mode"] for o in outs)
        ch = " / ".join(f"{np.median([o[k]['object_chamfer_cm'] for o in outs]):.1f}" for k in ("ours", "first mode", "true contacts"))
        name = f"{recipe} (held out)" if _recipe_category(recipe) in held_out else recipe
        lines.append(f"| {name} | {outs[0]['true contacts']['mode']} | {chose} | {ch} |")
    return "\n".join(lines)


def main() -> None:
    from benchmarks.support.scenes import held_out_categories, mode_recipes, sample_recipes

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-recipe", type=int, default=None, help="scenes per recipe (default 2; with --sample 1 per category)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--recipes", default=None,
                    help="comma-separated recipe names, or 'all' (default: the written recipes, not the derived ones)")
    ap.add_argument("--sample", action="store_true",
                    help="every category once (per --per-recipe), each scene a mode drawn from --seed (sample_recipes)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--write", type=Path, default=None)
    a = ap.parse_args()
    if a.per_recipe is None:
        a.per_recipe = 1 if a.sample else 2
    everything = mode_recipes()
    if a.sample:
        recipes: list = sample_recipes(a.seed)
    elif a.recipes == "all":
        recipes = list(everything)
    elif a.recipes:
        recipes = a.recipes.split(",")
    else:
        recipes = [r for r, c in everything.items() if not c.derived]
    from _markdown import run_note

    unknown = [r for r in recipes if isinstance(r, str) and r not in everything]
    if unknown:
        ap.error(f"unknown recipes: {', '.join(unknown)}")
    result = run(a.per_recipe, a.seed, recipes, a.jobs)
    n = len(result["results"])
    held_out = held_out_categories()
    derived = sum(bool(everything[r].derived) for r, _ in result["results"])
    what = (f"every one of {len(recipes)} categories, each scene one of its modes drawn from the seed"
            if a.sample else f"{a.per_recipe} per recipe over {len(recipes)} recipes")
    about = (f"{n} scenes ({what}; {derived} from recipes derived from the modes data), seed {a.seed}, estimated "
             f"contacts (the offline prior through Render-Localize-Lift) but for the true-contacts rows; held-out "
             f"categories (evidence rules never compared against these scenes): {', '.join(held_out) or 'none'}; "
             f"cells are median / 90th percentile; whole run {run_note(result['total_s'], result['jobs'])}")  # fmt: skip
    text = tables_markdown(result, held_out)
    print(about)
    print(text)
    if a.write:
        from _markdown import update_block

        if a.sample:
            update_block(a.write, "mode-bench-sample", "Interaction modes, every category once (`make bench`)",
                         f"{about}\n\n{text}")  # fmt: skip
        else:
            update_block(a.write, "mode-bench", "Interaction modes on synthetic scenes (`make bench`)", f"{about}\n\n{text}")


if __name__ == "__main__":
    main()
