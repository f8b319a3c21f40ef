"""`make batch-demo`: 31 inputs (examples, synthetic renders, bad files) through `hoirecon batch`
with --jobs 1 and --jobs 2; prints images/minute and the peak memory of each worker.

    python scripts/batch_demo.py [--out out/batch-demo] [--synthetic 22] [--jobs 1 2]

Inputs go to OUT/inputs (made once; `benchmarks.support.batch_inputs`), results to OUT/jobs<N>/ (always
recomputed: --overwrite), and the numbers to OUT/results.json and OUT/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root: benchmarks.support

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "batch-demo")
    ap.add_argument("--synthetic", type=int, default=22)
    ap.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args()

    inputs = args.out / "inputs"
    if not (inputs / "manifest.json").is_file():
        from benchmarks.support.batch_inputs import write_batch_inputs

        t = time.perf_counter()
        rows = write_batch_inputs(inputs, n_synthetic=args.synthetic)
        print(f"wrote {len(rows)} inputs to {inputs} in {time.perf_counter() - t:.0f} s", flush=True)
    manifest = json.loads((inputs / "manifest.json").read_text())
    expect_ok = sum(1 for r in manifest["images"] if r["expect"] == "ok")
    print(f"{len(manifest['images'])} images ({expect_ok} expected to reconstruct) on {os.cpu_count()} cores", flush=True)

    results = []
    for jobs in args.jobs:
        out = args.out / f"jobs{jobs}"
        cmd = [sys.executable, "-m", "hoirecon.cli.main", "batch", str(inputs), "--out", str(out), "--jobs", str(jobs),
               "--overwrite", "--quiet"]
        print("$", " ".join(cmd), flush=True)
        t = time.perf_counter()
        rc = subprocess.call(cmd)
        wall = time.perf_counter() - t
        s = json.loads((out / "summary.json").read_text())
        c = s["counts"]
        row = {
            "jobs": jobs, "exit_code": rc, "images": c["images"], "ok": c["ok"], "failed": c["failed"],
            "batch_wall_s": s["wall_seconds"], "command_wall_s": round(wall, 1),
            "images_per_minute": s["images_per_minute"],
            "ok_images_per_minute": round(60.0 * c["ok"] / s["wall_seconds"], 2),
            "median_s_per_ok_image": s["seconds_per_ok_image_median"],
            "peak_rss_mb_per_worker": [w["peak_rss_mb"] for w in s["workers"]],
        }  # fmt: skip
        results.append(row)
        print(f"jobs {jobs}: {c['ok']} ok, {c['failed']} failed of {c['images']} in {s['wall_seconds']:.0f} s: "
              f"{row['images_per_minute']:.2f} images/minute ({row['ok_images_per_minute']:.2f} reconstructed/minute), "
              f"median {row['median_s_per_ok_image']:.1f} s per reconstructed image, peak RSS per worker "
              f"{', '.join(f'{m:.0f}' for m in row['peak_rss_mb_per_worker'])} MiB (exit code {rc})", flush=True)
    from hoirecon import fsutil

    fsutil.write_json(args.out / "results.json", {"cores": os.cpu_count(), "runs": results})
    lines = ["| --jobs | images | ok | failed | wall s | images/min | reconstructed/min | median s/image | peak RSS per worker (MiB) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        lines.append(f"| {r['jobs']} | {r['images']} | {r['ok']} | {r['failed']} | {r['batch_wall_s']:.0f} | "
                     f"{r['images_per_minute']:.2f} | {r['ok_images_per_minute']:.2f} | {r['median_s_per_ok_image']:.1f} | "
                     f"{', '.join(f'{m:.0f}' for m in r['peak_rss_mb_per_worker'])} |")
    fsutil.write_text(args.out / "results.md", "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
