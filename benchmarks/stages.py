"""Per-stage seconds and peak memory of `hoirecon reconstruct` on the example photos.

Each run is a fresh process (as a user runs it), with the Anny cache already built (warm); the
table shows the median of --runs runs per photo. Peak memory is the child's maximum resident set size.

    python benchmarks/stages.py --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("load", "perception", "body", "ground", "object_mesh", "modes", "object_make", "contacts", "fitting")


def run_once(image: Path, out: Path) -> tuple[dict[str, float], float, float]:
    """Returns (stage seconds, wall seconds, peak RSS MiB) of one `hoirecon reconstruct` process."""
    code = (
        "import resource, sys; from hoirecon.cli.main import app\n"
        "try:\n    app(sys.argv[1:])\nexcept SystemExit as e:\n"
        "    print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); raise\n"
    )
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code, "reconstruct", str(image), "--out", str(out), "--quiet"],
        capture_output=True, text=True, env={**os.environ, "GLOG_minloglevel": "3"},
    )  # fmt: skip
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{image}: exit {proc.returncode}: {proc.stderr.strip().splitlines()[-1:]}")
    peak_kb = [int(line.split()[1]) for line in proc.stderr.splitlines() if line.startswith("PEAK_KB")]
    timings = json.loads((out / "params.json").read_text())["timings_s"]
    return timings, wall, (peak_kb[-1] / 1024 if peak_kb else float("nan"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("images", nargs="*", type=Path, default=[ROOT / "examples/camera.png", ROOT / "examples/astronaut.png"])
    args = ap.parse_args()
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"hoirecon reconstruct, median of {args.runs} runs (warm cache, CPU, {os.cpu_count()} cores)")
    for col in ("image", *STAGES, "stages total", "process wall", "peak RSS MiB"):
        table.add_column(col, justify="right")
    with tempfile.TemporaryDirectory() as tmp:
        run_once(args.images[0], Path(tmp) / "warmup")  # builds caches if needed
        for image in args.images:
            rows = [run_once(image, Path(tmp) / f"{image.stem}{i}") for i in range(args.runs)]
            med = {s: statistics.median(r[0].get(s, 0.0) for r in rows) for s in STAGES}
            total = statistics.median(sum(r[0].values()) for r in rows)
            wall = statistics.median(r[1] for r in rows)
            peak = statistics.median(r[2] for r in rows)
            table.add_row(image.name, *(f"{med[s]:.2f}" for s in STAGES), f"{total:.2f}", f"{wall:.2f}", f"{peak:.0f}")
    Console(width=200).print(table)


if __name__ == "__main__":
    main()
