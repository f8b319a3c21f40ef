"""Contact quality and speed of Render-Localize-Lift on synthetic scenes with known contacts.

For each scene of ``benchmarks.support.scenes.generate_scenes(n, seed)`` the ``prior`` localizer (the
offline estimate painted into the RLL views and lifted back) gives a ContactSet; its body and object
contact vertices are scored against the scene's true contacts (vertices within ``contact_tol_m`` of
the other mesh): precision, recall and F1 of the vertex sets, mean over scenes. The direct
``infer_contacts`` estimate (no render/lift round trip) is scored too, to show what the round trip
costs, and so are the true contacts painted into the views and lifted back (the ceiling of the
render/lift round trip: what a perfect 2D localizer would give). Timing: rendering both view sets at 1024 px (the human one uncached) and lifting both sides,
median of 5 runs.

InteractVLM's published human-contact F1 (0.703 on the DAMON test set, real photos, SMPL-H, binary at
0.5) is a different dataset and task setting; these synthetic numbers are not comparable to it.

    python benchmarks/contact_bench.py --scenes 20
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: benchmarks.support


def set_prf(pred, true) -> tuple[float, float, float]:
    """Precision, recall, F1 of two vertex-index sets (empty-set conventions of metrics.contact_prf)."""
    p, t = set(np.asarray(pred).tolist()), set(np.asarray(true).tolist())
    tp = len(p & t)
    precision = tp / len(p) if p else 1.0
    recall = tp / len(t) if t else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f1


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenes", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeats", type=int, default=5, help="timing runs (median reported)")
    ap.add_argument("--write", type=Path, default=None, help="also write the tables to this Markdown file")
    args = ap.parse_args()

    from benchmarks.support.scenes import default_model, generate_scenes, scene_image
    from hoirecon.contact import render as R
    from hoirecon.contact.lift import fill_unseen, lift
    from hoirecon.contact import ContactStageConfig, infer_contacts, make_contact_source
    from hoirecon.contact.lift import indicator, paint
    from hoirecon.contact.priors import infer_contacts as prior_estimate
    from hoirecon.contact.records import Localization
    from hoirecon.contact.selection import contacts_from_localization

    model = default_model()
    t0 = time.perf_counter()
    scenes = generate_scenes(args.scenes, args.seed, model=model)
    print(f"{len(scenes)} scenes (seed {args.seed}) in {time.perf_counter() - t0:.1f} s")
    loc = make_contact_source(ContactStageConfig(source="prior"), model)
    rows: dict[str, list[tuple[float, ...]]] = {"prior (direct)": [], "prior via RLL": [], "true contacts via RLL": []}
    per_cat: dict[str, list[float]] = {}
    for s in scenes:
        diag = float(np.hypot(s.person.box.width, s.person.box.height))
        direct = prior_estimate(s.body, s.mesh, s.object, s.camera, diag, mode=s.mode)  # the scene's interaction mode
        rll, found = infer_contacts(loc, scene_image(s), s.detections, s.body, s.mesh, mode=s.mode)
        true = s.contacts
        hv, ov = found.human_views, found.object_views
        oracle = contacts_from_localization(
            Localization("oracle", hv, ov, paint(hv, indicator(hv.num_vertices, true.human_vertices), 0.0),
                         paint(ov, indicator(ov.num_vertices, true.object_vertices), 0.0)), s.body, s.mesh, mode=s.mode)
        for name, c in (("prior (direct)", direct), ("prior via RLL", rll), ("true contacts via RLL", oracle)):
            rows[name].append(set_prf(c.human_vertices, true.human_vertices) + set_prf(c.object_vertices, true.object_vertices))
        per_cat.setdefault(s.category, []).append(rows["prior via RLL"][-1][2])

    # Timing on the first scene: render both view sets (human uncached) + lift both sides.
    s = scenes[0]
    c, found = infer_contacts(loc, scene_image(s), s.detections, s.body, s.mesh, mode=s.mode)
    t_render_h, t_render_o, t_lift, cpu = [], [], [], []
    for _ in range(args.repeats):
        c0 = time.process_time()
        a = time.perf_counter()
        hv = R.render_human_views(model, cache=False)
        b = time.perf_counter()
        ov = R.render_object_views(s.mesh)
        c_ = time.perf_counter()
        sh, seen = lift(hv, found.human_maps)
        fill_unseen(sh, seen, hv.faces)
        so, seen = lift(ov, found.object_maps, threshold=0.3)
        fill_unseen(so, seen, ov.faces)
        d = time.perf_counter()
        cpu.append(time.process_time() - c0)
        t_render_h.append(b - a)
        t_render_o.append(c_ - b)
        t_lift.append(d - c_)
    med = statistics.median
    per_obj = {}
    for sc in scenes:  # one run per category (each was rendered once already by the contacts pass)
        if sc.category not in per_obj:
            a = time.perf_counter()
            R.render_object_views(sc.mesh)
            per_obj[sc.category] = time.perf_counter() - a

    lines: list[str] = []
    out = lines.append  # the report: printed, and written with --write
    out(f"Contact vertices vs the scenes' true contacts, mean over {len(scenes)} synthetic scenes "
          f"(seed {args.seed}, body model {model.name}):")  # fmt: skip
    out("")
    out("| contacts | human P | human R | human F1 | object P | object R | object F1 |")
    out("|---|---|---|---|---|---|---|")
    for name, vals in rows.items():
        m = np.mean(np.asarray(vals), axis=0)
        out(f"| {name} | " + " | ".join(f"{x:.3f}" for x in m) + " |")
    out("")
    out("Human F1 (prior via RLL) per category: "
          + ", ".join(f"{k} {np.mean(v):.2f}" for k, v in sorted(per_cat.items())))  # fmt: skip
    out("")
    out("| step (8 views at 1024 px) | median s |")
    out("|---|---|")
    out(f"| render human views (4, uncached) | {med(t_render_h):.3f} |")
    out(f"| render object views (4, {s.mesh.category}) | {med(t_render_o):.3f} |")
    out(f"| lift both sides | {med(t_lift):.3f} |")
    out(f"| total | {med([a + b + c for a, b, c in zip(t_render_h, t_render_o, t_lift)]):.3f} |")
    out(f"| total, CPU time of the process (all threads) | {med(cpu):.3f} |")
    worst = max(per_obj, key=per_obj.get)
    out("")
    out(f"Object views over the {len(per_obj)} categories (one run each): median {med(per_obj.values()):.3f} s, "
          f"max {per_obj[worst]:.3f} s ({worst}); the time grows with the object's screen coverage.")  # fmt: skip
    out("")
    load = ", load average %.1f" % os.getloadavg()[0] if hasattr(os, "getloadavg") else ""
    out(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores{load}, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, median of {args.repeats} runs.")  # fmt: skip
    out("InteractVLM's published human-contact F1 is 0.703 (DAMON test set, real photos): a different "
          "dataset; not comparable with these synthetic scenes.")  # fmt: skip

    report = "\n".join(lines)
    print(report)
    if args.write:
        from _markdown import update_block

        update_block(args.write, "contact-bench", "Contacts: Render-Localize-Lift on synthetic scenes (`make bench`)", report)

if __name__ == "__main__":
    main()
