"""Accuracy benchmark on synthetic scenes with known answers: our fitter against the InteractVLM and
PHOSA objectives, on the same scenes and inputs, with true contacts and with our estimated contacts.

Every objective gets the same inputs: the true body (pose and shape), the rendered person and object
masks with true occlusion, the object's library mesh, and the contacts: the true ones, or "estimated"
ones from the pipeline's own contact path (the interaction mode with the best image evidence,
``hoirecon.contact.modes.choose_candidates``; ``hoirecon.contact.make_contact_source`` with the default
config, then ``hoirecon.contact.infer_contacts`` for that mode: the offline prior through
Render-Localize-Lift). The table shows the median and
90th percentile over the scenes; BENCHMARKS.md gets the same table with the machine and date.

    python benchmarks/hoi_bench.py --scenes 60 --write BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import time
import sys
from pathlib import Path


sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: benchmarks.support

ROOT = Path(__file__).resolve().parents[1]
METRICS = (
    ("object_chamfer_cm", "object Chamfer cm"),
    ("combined_object_cm", "CONTHO object cm"),
    ("combined_human_cm", "CONTHO human cm"),
    ("translation_cm", "centre err. cm"),
    ("rotation_deg", "rot. deg"),
    ("contact_distance_cm", "contact dist. cm"),
    ("penetration_mean_cm", "penetr. mean cm"),
    ("penetration_max_cm", "penetr. max cm"),
    ("contact_f1", "contact F1"),
    ("contact_f1_tol", "contact F1 @2 cm"),
    ("seconds", "s / scene"),
)


def _truth_tol() -> float:
    """The true contacts' tolerance of the synthetic scenes (metres)."""
    from benchmarks.support.scenes import scene_settings

    return float(scene_settings()["contact_tol_m"])


def evaluate(scene, fit, seconds: float) -> dict[str, float]:
    from benchmarks.support import metrics as M

    mesh = scene.mesh
    body_v, obj_v = fit.body.vertices, fit.object.vertices
    obj_pts = M.surface_samples(obj_v, mesh.faces, 6000)
    comb = M.combined_chamfer_cm(body_v, fit.body.faces, obj_v, mesh.faces,
                                 scene.body.vertices, scene.body.faces, scene.object_vertices, mesh.faces)  # fmt: skip
    c = scene.contacts
    pen = M.penetration_cm(body_v, fit.body.faces, obj_pts)
    prf = M.contact_prf(body_v, obj_pts, c.human_vertices)
    # the same measure at the truth's own tolerance (bench_scenes.json contact_tol_m, 2 cm): at CONTHO's
    # 5 cm every body vertex 2-5 cm from the object counts as a false contact, so that even the fit
    # with the true contacts scored about 0.33
    prf_tol = M.contact_prf(body_v, obj_pts, c.human_vertices, threshold_m=_truth_tol())
    return {
        "object_chamfer_cm": M.object_chamfer_cm(obj_v, scene.object_vertices, mesh.faces, mesh.faces),
        "combined_object_cm": comb["object_cm"],
        "combined_human_cm": comb["human_cm"],
        # the object's centre, not its canonical origin (which a symmetric object's pose leaves free)
        "translation_cm": float(M.translation_error_cm(obj_v.mean(0), scene.object_vertices.mean(0))),
        "rotation_deg": M.rotation_error_deg(fit.object.rotation, scene.rotation, mesh.symmetry),
        "contact_distance_cm": M.contact_distance_cm(body_v, obj_v, c.human_vertices, c.object_vertices,
                                                     c.pair_of_human_vertex, c.pair_of_object_vertex),  # fmt: skip
        "penetration_mean_cm": pen["mean_cm"],
        "penetration_max_cm": pen["max_cm"],
        "contact_f1": prf["f1"],
        "contact_f1_tol": prf_tol["f1"],
        "seconds": seconds,
    }


_WORKER: dict = {}


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    from hoirecon.body import load_body_model

    _WORKER["model"] = load_body_model("anny")
    from hoirecon.contact import ContactStageConfig, make_contact_source

    # the pipeline's own contact path (its default source, the offline prior, through Render-Localize-Lift)
    _WORKER["contact_source"] = make_contact_source(ContactStageConfig(), _WORKER["model"])


def _run_scene(job: tuple[int, int, int, list[str], list[str]]) -> tuple[int, str, dict]:
    """Generate scene ``index`` of ``n`` and fit it with every objective on every input."""
    from benchmarks.support.scenes import generate_scenes, scene_image
    from hoirecon.contact import infer_contacts
    from hoirecon.fitting.baselines import fit_interactvlm, fit_phosa
    from hoirecon.fitting.joint import fit_object
    from hoirecon.objects import properties

    index, n, seed, objectives, inputs = job
    model = _WORKER["model"]
    sc = generate_scenes(n, seed=seed, model=model, only=[index])[0]
    contacts = {"true": sc.contacts}
    if "estimated" in inputs:  # the mode with the best image evidence (hoirecon.contact.modes), then its contacts
        from hoirecon.contact.config import ModeConfig
        from hoirecon.contact.modes import choose_candidates
        from hoirecon.pipeline import body_posture

        image = scene_image(sc)
        choice, _ = choose_candidates(image, sc.person, sc.object, sc.body, None, body_posture(image, sc.person, sc.body, None),
                                      sc.category, None, ModeConfig())  # fmt: skip
        contacts["estimated"], _ = infer_contacts(_WORKER["contact_source"], image, sc.detections, sc.body, sc.mesh,
                                                  mode=choice.name)  # fmt: skip
    props = properties(sc.mesh.category)
    upright, sigma = props.upright, props.scale_sigma
    out: dict[str, dict[str, float]] = {}
    for inp in inputs:
        con = contacts[inp]
        for obj in objectives:
            t = time.perf_counter()
            if obj == "ours":
                fit = fit_object(sc.body, sc.mesh, con, sc.object, sc.person, sc.camera, scale_sigma=sigma,
                                 upright=upright, body_model=model)  # fmt: skip
            elif obj == "interactvlm":
                fit = fit_interactvlm(sc.body, sc.mesh, con, sc.object, sc.person, sc.camera)
            else:
                fit = fit_phosa(sc.body, sc.mesh, con, sc.object, sc.person, sc.camera)
            out[f"{inp}/{obj}"] = evaluate(sc, fit, time.perf_counter() - t)
    return index, sc.mesh.category, out


def run(n_scenes: int, seed: int, objectives: list[str], inputs: list[str], jobs: int = 2) -> dict:
    """Every scene in a pool of ``jobs`` worker processes (one torch thread each): the seconds per
    scene are single-core figures."""
    import multiprocessing as mp

    t0 = time.perf_counter()
    jobs_list = [(i, n_scenes, seed, objectives, inputs) for i in range(n_scenes)]
    results = []
    ctx = mp.get_context("spawn")
    with ctx.Pool(jobs, initializer=_init_worker, initargs=(1,)) as pool:
        for k, (i, cat, out) in enumerate(pool.imap_unordered(_run_scene, jobs_list)):
            results.append((i, cat, out))
            print(f"scene {k + 1}/{n_scenes} (#{i} {cat}) done", flush=True)
    results.sort()
    rows: dict[tuple[str, str], list[dict[str, float]]] = {}
    for inp in inputs:
        for obj in objectives:
            rows[(inp, obj)] = [out[f"{inp}/{obj}"] for _, _, out in results]
    cats = sorted({cat for _, cat, _ in results})
    return {"rows": rows, "scenes": len(results), "categories": cats, "jobs": jobs, "total_s": time.perf_counter() - t0}


def table_markdown(result: dict) -> str:
    from benchmarks.support.metrics import summarize

    head = "| contacts | objective | " + " | ".join(label for _, label in METRICS) + " |"
    sep = "|" + "---|" * (len(METRICS) + 2)
    lines = [head, sep]
    for (inp, obj), recs in result["rows"].items():
        cells = []
        for key, _ in METRICS:
            s = summarize([r[key] for r in recs])
            cells.append(f"{s['median']:.2f} / {s['p90']:.2f}")
        lines.append(f"| {inp} | {obj} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenes", type=int, default=60)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--objectives", default="interactvlm,phosa,ours")
    ap.add_argument("--inputs", default="true,estimated")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (one torch thread each)")
    ap.add_argument("--write", type=Path, default=None, help="also write the table to this Markdown file")
    args = ap.parse_args()
    from _markdown import run_note

    result = run(args.scenes, args.seed, args.objectives.split(","), args.inputs.split(","), args.jobs)
    table = table_markdown(result)
    about = (
        f"{result['scenes']} scenes over {len(result['categories'])} categories ({', '.join(result['categories'])}), "
        f"seed {args.seed}; cells are median / 90th percentile; s / scene is one core's time per fit; "
        f"whole run (generation included) {run_note(result['total_s'], result['jobs'])}"
    )
    print(about)
    print(table)
    if args.write:
        from _markdown import update_block

        update_block(args.write, "hoi-bench", "Object fitting on synthetic scenes (`make bench`)", f"{about}\n\n{table}")

if __name__ == "__main__":
    main()
