"""Interaction-mode rules re-run offline: every mode of every synthetic scene fitted once, the choice re-made in seconds.

``mode_bench.py`` fits only the candidates that the evidence picks, so each change to an evidence rule, a
``ModeConfig`` value or a mode's prior costs a whole run (9 minutes). This tool splits the work:

* ``fit``: generates the scenes as ``mode_bench.py`` does (the same recipes, seed and indices), fits
  **every** mode of each scene with its estimated contacts, and writes one JSON file: per scene its
  recipe, true mode, posture, the evidence's inputs (landmarks, visibilities, the object mask
  run-length encoded, the person's height in the image) and per mode the fit's losses, the body parts
  its fit touches and the benchmark's metrics (``hoi_bench.evaluate``: object Chamfer, contact F1);
* ``score``: re-runs the choice on that file, as the pipeline makes it (``mode_evidence``,
  ``evidence_candidates``, ``pick_mode``), under ``--set`` overrides of ``ModeConfig`` and with the
  modes (evidence rules, priors, pairs for the consistency) of ``--contacts`` (a ``contacts.json``),
  and prints the mode accuracy, the medians of the chosen fits' Chamfer and contact F1, and the scenes
  it gets wrong; ``--fits-only`` / ``--evidence-only`` choose by one side alone.

A change to a mode's pairs, pose or facing changes its fits: run ``fit`` again for that category. The
evidence's "up" is the image's (the benchmark passes no gravity either).

    python benchmarks/mode_rescore.py fit --out /tmp/modes.json                 # 98 scenes, ~11 min
    python benchmarks/mode_rescore.py fit --out /tmp/lap.json --recipes laptop,laptop/on_lap
    python benchmarks/mode_rescore.py score /tmp/modes.json --set temperature=2 --set max_candidates=3
    python benchmarks/mode_rescore.py score /tmp/modes.json --contacts my_contacts.json --errors
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: benchmarks.support

from benchmarks.mode_bench import WORKER, fit_mode, init_worker  # noqa: E402  (the scenes and fits of mode_bench)

def mask_to_runs(mask) -> list[int]:
    """Run lengths of a bool mask in row-major order, starting with a run of False (possibly 0)."""
    import numpy as np

    flat = np.asarray(mask, bool).ravel()
    edges = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    bounds = np.concatenate([[0], edges, [flat.size]])
    runs = np.diff(bounds).tolist()
    return ([0] + runs) if flat.size and flat[0] else runs


def runs_to_mask(runs: list[int], shape: tuple[int, int]):
    """The inverse of :func:`mask_to_runs`: (H, W) bool."""
    import numpy as np

    values = np.arange(len(runs)) % 2 == 1
    return np.repeat(values, runs).reshape(shape)


def fit_scene(job: tuple[str, int, int]) -> dict:
    """One scene's record (see the module docstring): ``job`` = (recipe, index, seed); every mode fitted
    by ``mode_bench.fit_mode``."""
    import numpy as np

    from benchmarks.hoi_bench import evaluate
    from benchmarks.support.scenes import generate_scene, scene_image
    from hoirecon.config import PipelineConfig
    from hoirecon.contact.modes import touching_parts
    from hoirecon.contact.priors import category_modes
    from hoirecon.pipeline import body_posture

    recipe, index, seed = job
    t0 = time.perf_counter()
    sc = generate_scene(recipe, seed=seed, index=index, model=WORKER["model"])
    image, cat, cfg = scene_image(sc), sc.category, PipelineConfig()
    fits = {}
    for mode in [m["name"] for m in category_modes(cat)]:
        fit, seconds = fit_mode(sc, image, mode)
        metrics = evaluate(sc, fit, seconds)
        fits[mode] = {"losses": {k: float(v) for k, v in fit.losses.items() if isinstance(v, (int, float))},
                      "touching": sorted(touching_parts(fit, cfg.contact.modes.touch_m)),
                      "metrics": {k: float(v) for k, v in metrics.items()}}  # fmt: skip
    mask = np.asarray(sc.object.mask, bool)
    return {"recipe": recipe, "index": index, "seed": seed, "category": cat, "mode": sc.mode,
            "posture": body_posture(image, sc.person, sc.body, None),
            "keypoints": np.asarray(sc.person.keypoints, float).round(3).tolist(),
            "visibility": np.asarray(sc.person.visibility, float).round(3).tolist(),
            "mask_shape": list(mask.shape), "mask_runs": mask_to_runs(mask),
            "height_px": float(max(sc.person.box.height, sc.person.box.width)),
            "fits": fits, "seconds": round(time.perf_counter() - t0, 1)}  # fmt: skip


def fit_all(recipes: list[str], per_recipe: int, seed: int, jobs: int) -> list[dict]:
    import multiprocessing as mp

    work = [(r, i, seed) for r in recipes for i in range(per_recipe)]
    out = []
    with mp.get_context("spawn").Pool(jobs, initializer=init_worker, initargs=(1,)) as pool:
        for k, rec in enumerate(pool.imap(fit_scene, work)):
            out.append(rec)
            print(f"scene {k + 1}/{len(work)} ({rec['recipe']} #{rec['index']}, {rec['seconds']:.0f} s) done", file=sys.stderr, flush=True)
    return out


def choose(record: dict, modes: list[dict], config, by: str = "both") -> str:
    """The mode the pipeline's rule chooses for one stored scene, with ``modes`` (the category's
    entries of a contacts.json) and ``config`` (a ``ModeConfig``); ``by``: "both" (evidence x the
    fits, as the pipeline), "evidence" (the best evidence), "fits" (the best agreement x consistency
    over every mode, the evidence ignored)."""
    import numpy as np

    from hoirecon.contact.modes import (ModeChoice, contact_consistency, evidence_candidates, fit_agreement,
                                        mode_evidence, pick_mode)  # fmt: skip

    fits = record["fits"]
    if by == "fits":
        by_name = {m["name"]: m for m in modes}
        return max((m for m in fits if m in by_name), key=lambda m: fit_agreement(fits[m]["losses"], config)
                   * contact_consistency(by_name[m], set(fits[m]["touching"]), config))  # fmt: skip
    mask = runs_to_mask(record["mask_runs"], tuple(record["mask_shape"]))
    scores = mode_evidence(modes, np.asarray(record["keypoints"]), np.asarray(record["visibility"]), mask,
                           record["height_px"], (0.0, -1.0), config, posture=record["posture"])  # fmt: skip
    choice, cands = evidence_candidates(scores, len(modes), config)
    if by == "evidence" or len(cands) == 1:
        return choice.name
    touching = {m: frozenset(fits[m]["touching"]) for m in cands}
    picked = pick_mode(ModeChoice(choice.name, choice.how, choice.scores), {m: fits[m]["losses"] for m in cands},
                       config, touching, modes)  # fmt: skip
    return picked.name


def score(records: list[dict], config, contacts: dict | None = None, by: str = "both") -> dict:
    """Mode accuracy and the chosen fits' medians over ``records``; ``contacts``: a contacts.json's
    content (default the package's)."""
    from hoirecon.contact.priors import category_modes

    right, wrong, chamfer, f1, f1_5 = 0, [], [], [], []
    for r in records:
        modes = contacts[r["category"]]["modes"] if contacts is not None else category_modes(r["category"])
        name = choose(r, modes, config, by)
        right += name == r["mode"]
        if name != r["mode"]:
            wrong.append(f"{r['recipe']} #{r['index']}: {name}")
        m = r["fits"][name]["metrics"]
        chamfer.append(m["object_chamfer_cm"])
        f1.append(m["contact_f1_tol"])
        f1_5.append(m["contact_f1"])
    n = max(len(records), 1)
    return {"scenes": len(records), "right": right, "accuracy": right / n, "chamfer_cm": statistics.median(chamfer or [0.0]),
            "f1_2cm": statistics.median(f1 or [0.0]), "f1_5cm": statistics.median(f1_5 or [0.0]), "wrong": wrong}  # fmt: skip


def _override(config, items: list[str]):
    """``config`` (a ``ModeConfig``) with ``key=value`` items applied: each value read as JSON (``None``
    too), checked against the field's type by the pipeline's own config reader (``config_from_dict``)."""
    from hoirecon.config import config_from_dict
    from hoirecon.errors import InputError

    fields = [f.name for f in dataclasses.fields(config)]
    data = {}
    for item in items:
        key, _, value = item.partition("=")
        if key not in fields:
            raise SystemExit(f"--set {item}: ModeConfig has no field {key!r} (fields: {', '.join(fields)})")
        try:
            data[key] = json.loads("null" if value == "None" else value)
        except json.JSONDecodeError:
            data[key] = value
    try:
        checked = config_from_dict({"contact": {"modes": data}}, where="--set").contact.modes
    except InputError as e:
        raise SystemExit(str(e)) from None
    return dataclasses.replace(config, **{k: getattr(checked, k) for k in data})


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="command", required=True)
    f = sub.add_parser("fit", help="fit every mode of every scene once; write the JSON file")
    f.add_argument("--out", type=Path, required=True)
    f.add_argument("--recipes", default=None, help="comma-separated recipe names (default: the written recipes)")
    f.add_argument("--per-recipe", type=int, default=2)
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--jobs", type=int, default=2)
    s = sub.add_parser("score", help="re-run the mode choice on a file of fits")
    s.add_argument("fits", type=Path)
    s.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="a ModeConfig override (repeatable)")
    s.add_argument("--contacts", type=Path, default=None, help="a contacts.json to take the modes from")
    s.add_argument("--by", choices=("both", "evidence", "fits"), default="both")
    s.add_argument("--errors", action="store_true", help="list the scenes chosen wrong")
    s.add_argument("--json", action="store_true", help="print the result as JSON")
    a = ap.parse_args(argv)
    if a.command == "fit":
        from benchmarks.support.scenes import mode_recipes
        from hoirecon.fsutil import write_text

        everything = mode_recipes()
        recipes = a.recipes.split(",") if a.recipes else [r for r, c in everything.items() if not c.derived]
        unknown = [r for r in recipes if r not in everything]
        if unknown:
            ap.error(f"unknown recipes: {', '.join(unknown)}")
        write_text(a.out, json.dumps({"recipes": recipes, "scenes": fit_all(recipes, a.per_recipe, a.seed, a.jobs)}))
        print(f"{a.out}: every mode of {len(recipes) * a.per_recipe} scenes")
        return
    from hoirecon.contact.config import ModeConfig

    data = json.loads(a.fits.read_text())
    contacts = json.loads(a.contacts.read_text()) if a.contacts else None
    res = score(data["scenes"], _override(ModeConfig(), a.set), contacts, a.by)
    if a.json:
        print(json.dumps(res))
        return
    print(f"{res['right']}/{res['scenes']} right ({100 * res['accuracy']:.0f} %), object Chamfer {res['chamfer_cm']:.2f} cm, "
          f"contact F1 {res['f1_2cm']:.2f} at 2 cm, {res['f1_5cm']:.2f} at 5 cm (medians of the chosen fits)")  # fmt: skip
    if a.errors:
        for w in res["wrong"]:
            print(f"  {w}")


if __name__ == "__main__":
    main()
