"""Gravity and the floor on synthetic scenes with a floor (issue 14's measures): tilted cameras (roll and
pitch up to 20 degrees), bodies standing, leaning, sitting, riding, carrying, jumping and lying, in a
room whose walls and door give vertical edges (``benchmarks.support.floor_scenes``).

Every row starts from the same body fit (``hoirecon.body.fit.fit_body`` on the scene's noisy landmarks
and masks) and the true contacts:

* ``ours``: the pipeline's ground stage (``hoirecon.pipeline.ground_stage``: gravity from the camera
  prior, the image's vertical lines and the body; the body fit's gravity phase) and the joint fit with
  the floor (``fit_object(..., ground=...)``), with the supports of the scene's true interaction mode
  (``hoirecon.contact.modes.mode_pose``: a carried suitcase is no support, a rider's feet on the pedals
  are none), as the true contacts are given;
* ``ours, no lines``: the same without the image-lines witness (the body and the camera prior only);
* ``ours, no ground``: the ground stage off (the upright prior about the camera's -y, no floor);
* ``interactvlm``, ``phosa``: the anchor objectives (no gravity, no floor; the camera's -y is their up).

Metrics (against the true up and floor; cells median / 90th percentile over the scenes where defined):

* gravity err.: angle between the estimated up and the true up (rows without gravity: the camera's -y);
* torso tilt err.: |tilt of the fitted torso (mid-hip -> mid-shoulder) from the true up - the true
  body's|;
* object tilt: angle between the fitted and the true object's vertical axis (upright categories);
* support gap err.: |height of the object's lowest point above the body's lowest point, along the true
  up, fitted - true|, for the categories that may rest on the floor (chair, bench, table, bicycle,
  skateboard, suitcase): 0 for a chair both stand on, a carried suitcase's true height above the feet;
* floor err.: |height of the fitted body's lowest point above the fitted floor - the true one's above
  the true floor| where the fit claims a floor; "floor claimed" counts them;
* object Chamfer (cm), seconds per scene (one core; body fit excluded, common to every row).

    python benchmarks/gravity_bench.py --per-case 3 --write BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: benchmarks.support

ROWS = ("ours", "ours, no lines", "ours, no ground", "interactvlm", "phosa")
METRICS = (
    ("gravity_deg", "gravity err. deg"),
    ("torso_deg", "torso tilt err. deg"),
    ("object_tilt_deg", "object tilt deg"),
    ("support_gap_cm", "support gap err. cm"),
    ("floor_cm", "floor err. cm"),
    ("object_chamfer_cm", "object Chamfer cm"),
    ("seconds", "s / scene"),
)
SUPPORT_CATEGORIES = ("chair", "bench", "table", "bicycle", "skateboard", "suitcase")
CAMERA_UP = np.array([0.0, -1.0, 0.0])


def _angle(a, b) -> float:
    from hoirecon.geometry.rotations import angle_deg

    return float(angle_deg(np.asarray(a, np.float64), np.asarray(b, np.float64)))


def evaluate(fs, fit, up_est, seconds: float, upright: bool) -> dict[str, float]:
    """The metrics of one fit (see the module docstring); NaN where a metric does not apply."""
    from benchmarks.support.metrics import object_chamfer_cm
    from hoirecon.ground.posture import torso_axis

    sc = fs.scene
    up = fs.up
    tilt = lambda kp: _angle(torso_axis(kp), up)  # noqa: E731
    rec = {
        "gravity_deg": _angle(up_est, up),
        "torso_deg": abs(tilt(fit.body.keypoints3d) - tilt(sc.body.keypoints3d)),
        "object_tilt_deg": _angle(fit.object.rotation[:, 1], sc.rotation[:, 1]) if upright else math.nan,
        "support_gap_cm": math.nan,
        "floor_cm": math.nan,
        "floor_claimed": float(fit.floor is not None),
        "object_chamfer_cm": object_chamfer_cm(fit.object.vertices, sc.object_vertices, sc.mesh.faces, sc.mesh.faces),
        "seconds": seconds,
    }
    if sc.category in SUPPORT_CATEGORIES:
        gap = lambda bv, ov: float((ov @ up).min() - (bv @ up).min())  # noqa: E731
        rec["support_gap_cm"] = 100.0 * abs(gap(fit.body.vertices, fit.object.vertices)
                                            - gap(sc.body.vertices, sc.object_vertices))  # fmt: skip
    if fit.floor is not None:
        rec["floor_cm"] = 100.0 * abs(float(fit.floor.height_of(fit.body.vertices).min())
                                      - float(fs.height(sc.body.vertices).min()))  # fmt: skip
    return rec


_WORKER: dict = {}


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    from hoirecon.body import load_body_model

    _WORKER["model"] = load_body_model("anny")


def _run_scene(job: tuple[str, int, int]) -> tuple[str, int, dict]:
    from benchmarks.support.floor_scenes import generate_floor_scene
    from hoirecon.body.fit import fit_body
    from hoirecon.config import PipelineConfig
    from hoirecon.contact.modes import mode_facing, mode_pose
    from hoirecon.fitting.baselines import fit_interactvlm, fit_phosa
    from hoirecon.fitting.joint import fit_object
    from hoirecon.objects import properties
    from hoirecon.pipeline import ground_stage

    case, index, seed = job
    model = _WORKER["model"]
    fs = generate_floor_scene(case, seed, index, model)
    sc, image = fs.scene, fs.image
    props = properties(sc.mesh.category)
    config = PipelineConfig()
    body0 = fit_body(model, sc.person, sc.camera, config.body_fit)
    out: dict[str, dict[str, float]] = {}
    for row in ROWS:
        t = time.perf_counter()
        up_est = CAMERA_UP
        if row.startswith("ours"):
            cfg = config
            if row == "ours, no lines":
                cfg = dataclasses.replace(config, ground=dataclasses.replace(config.ground, witnesses=("camera_prior", "body")))
            elif row == "ours, no ground":
                cfg = dataclasses.replace(config, ground=dataclasses.replace(config.ground, enabled=False))
            body, gravity, ground = ground_stage(model, cfg, image, sc.person, body0, sc.category, props.support)
            if gravity is not None:
                up_est = gravity.up
            # the scene's true interaction mode, as its true contacts: its pose and supports (the pipeline's)
            upright, ground = mode_pose(sc.category, sc.mode, props.upright, ground)
            fit = fit_object(body, sc.mesh, sc.contacts, sc.object, sc.person, sc.camera, scale_sigma=props.scale_sigma,
                             upright=upright, config=cfg.fit, body_model=model, ground=ground,
                             facing=mode_facing(sc.category, sc.mode))  # fmt: skip
        elif row == "interactvlm":
            fit = fit_interactvlm(body0, sc.mesh, sc.contacts, sc.object, sc.person, sc.camera)
        else:
            fit = fit_phosa(body0, sc.mesh, sc.contacts, sc.object, sc.person, sc.camera)
        out[row] = evaluate(fs, fit, up_est, time.perf_counter() - t, props.upright)
    return case, index, out


def run(per_case: int, seed: int, cases: list[str], jobs: int = 2) -> dict:
    """Every scene in a pool of ``jobs`` worker processes (one torch thread each)."""
    import multiprocessing as mp

    t0 = time.perf_counter()
    jobs_list = [(c, i, seed) for c in cases for i in range(per_case)]
    results = []
    ctx = mp.get_context("spawn")
    with ctx.Pool(jobs, initializer=_init_worker, initargs=(1,)) as pool:
        for k, (case, i, out) in enumerate(pool.imap_unordered(_run_scene, jobs_list)):
            results.append((cases.index(case), i, case, out))
            print(f"scene {k + 1}/{len(jobs_list)} ({case} #{i}) done", flush=True)
    results.sort(key=lambda r: (r[0], r[1]))
    return {"results": [(case, out) for _, _, case, out in results], "jobs": jobs, "total_s": time.perf_counter() - t0}


def _cell(values, fmt: str = "{:.1f}") -> str:
    from benchmarks.support.metrics import summarize

    v = [x for x in values if not math.isnan(x)]
    if not v:
        return "-"
    s = summarize(v)
    return f"{fmt.format(s['median'])} / {fmt.format(s['p90'])}"


def tables_markdown(result: dict) -> str:
    res = result["results"]
    head = "| objective | " + " | ".join(label for _, label in METRICS) + " | floor claimed |"
    lines = [head, "|" + "---|" * (len(METRICS) + 2)]
    for row in ROWS:
        recs = [out[row] for _, out in res]
        cells = [_cell([r[k] for r in recs], "{:.2f}" if k == "seconds" else "{:.1f}") for k, _ in METRICS]
        claimed = sum(int(r["floor_claimed"]) for r in recs)
        lines.append(f"| {row} | " + " | ".join(cells) + f" | {claimed}/{len(recs)} |")
    # per case: the medians that tell the cases apart
    cases = list(dict.fromkeys(case for case, _ in res))
    per = ["", "Per case (medians; ours / ours, no ground / interactvlm / phosa):", "",
           "| case | scenes | gravity err. deg (ours / camera) | torso tilt err. deg | object tilt deg | "
           "support gap err. cm | floor err. cm (ours) | floor claimed (ours) |",
           "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    med = lambda xs: "-" if all(math.isnan(x) for x in xs) else f"{np.nanmedian(xs):.1f}"  # noqa: E731
    for case in cases:
        outs = [out for c, out in res if c == case]
        col = lambda key, rows: " / ".join(med([o[r][key] for o in outs]) for r in rows)  # noqa: E731
        four = ("ours", "ours, no ground", "interactvlm", "phosa")
        claimed = sum(int(o["ours"]["floor_claimed"]) for o in outs)
        per.append(
            f"| {case} | {len(outs)} | {col('gravity_deg', ('ours', 'ours, no ground'))} | "
            f"{col('torso_deg', ('ours', 'ours, no ground'))} | {col('object_tilt_deg', four)} | "
            f"{col('support_gap_cm', four)} | {col('floor_cm', ('ours',))} | {claimed}/{len(outs)} |"
        )
    return "\n".join(lines + per)


def main() -> None:
    from benchmarks.support.floor_scenes import CASES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-case", type=int, default=3, help="scenes per case")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--cases", default=",".join(CASES), help="comma-separated case names (default: all)")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (one torch thread each)")
    ap.add_argument("--write", type=Path, default=None, help="also write the tables to this Markdown file")
    args = ap.parse_args()
    cases = args.cases.split(",")
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        ap.error(f"unknown case {unknown[0]!r} (have: {', '.join(CASES)})")
    from _markdown import run_note

    result = run(args.per_case, args.seed, cases, args.jobs)
    n = len(result["results"])
    about = (
        f"{n} scenes ({args.per_case} per case over {len(cases)} cases), seed {args.seed}, cameras rolled and "
        f"pitched up to 20 degrees, true contacts, every row from the same body fit; cells are median / 90th "
        f"percentile; whole run {run_note(result['total_s'], result['jobs'])}"
    )
    text = tables_markdown(result)
    print(about)
    print(text)
    if args.write:
        from _markdown import update_block

        update_block(args.write, "gravity-bench", "Gravity and the floor on synthetic scenes (`make bench`)",
                     f"{about}\n\n{text}")  # fmt: skip


if __name__ == "__main__":
    main()
