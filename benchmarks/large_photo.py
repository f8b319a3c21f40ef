"""Phone-size photos: seconds and peak memory of `hoirecon reconstruct` on one scene at 640 px and at
4000x3000 (12 megapixels), and the answer against the same photo downscaled to the working size.

The 12-megapixel photo is built from ``examples/astronaut.png`` (512x512; ``--example``): upscaled (Lanczos) to 3000x3000
and extended to a portrait 3000x4000 by repeating its top and bottom rows (edge pixels), with the sidecar box
scaled to match; the 640 px photo is that image downscaled to 480x640, and the "working-size" photo is the decoded 12 MP JPEG downscaled to the working
copy's size (``--max-side``) the way the working copy is made, saved losslessly. Each run is a fresh process (warm Anny cache); medians of --runs runs.
``--sides`` also times the 12-megapixel photo with other working caps (to choose the default).

    python benchmarks/large_photo.py --runs 3 [--write BENCHMARKS.md] [--sides 960,1280,1600]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hoirecon.photo import WORKING_MAX_SIDE  # noqa: E402

_spec = importlib.util.spec_from_file_location("stages_bench", ROOT / "benchmarks" / "stages.py")
stages_bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(stages_bench)  # type: ignore[union-attr]


def build_photos(folder: Path, working_side: int, example: str = "camera") -> dict[str, Path]:
    """(name -> photo path): '12 MP' 3000x4000, '640 px' 480x640, 'working size' at working_side, each with
    its sidecar."""
    src = Image.open(ROOT / "examples" / f"{example}.png").convert("RGB")
    side = json.loads((ROOT / "examples" / f"{example}.png.json").read_text())
    big = np.asarray(src.resize((3000, 3000), Image.Resampling.LANCZOS))
    big = np.pad(big, ((500, 500), (0, 0), (0, 0)), mode="edge")  # 3000 wide x 4000 high: sky and grass repeated
    full = Image.fromarray(big)
    box = np.asarray(side["object_box"], float) * (3000 / 512) + np.array([0, 500, 0, 500])
    out = {}
    for name, height in (("12 MP", 4000), ("640 px", 640)):
        img = full if height == 4000 else full.resize((height * 3 // 4, height), Image.Resampling.LANCZOS, reducing_gap=3.0)
        p = folder / f"scene_{height}.jpg"
        img.save(p, quality=92)
        out[name] = p
    # what a user would do: downscale the 12 MP photo itself (decoded JPEG) to the working size, lossless
    decoded = Image.open(out["12 MP"]).convert("RGB")
    s_w = working_side / 4000
    small = decoded.resize((round(3000 * s_w), working_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    out["working size"] = folder / f"scene_{working_side}.png"
    small.save(out["working size"])
    box = [round(float(v), 2) for v in box]
    for name, p in out.items():
        s = Image.open(p).height / 4000  # exactly the working copy's factor: boxes agree to the last bit
        Path(str(p) + ".json").write_text(json.dumps({"object": side["object"], "object_box": [v * s for v in box]}))
    return out


def run(photo: Path, out: Path, extra: list[str]) -> tuple[float, float, dict]:
    code = (
        "import resource, sys; from hoirecon.cli.main import app\n"
        "try:\n    app(sys.argv[1:])\nexcept SystemExit as e:\n"
        "    print('PEAK_KB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr); raise\n"
    )
    import subprocess

    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", code, "reconstruct", str(photo), "--out", str(out), "--quiet", *extra],
                       capture_output=True, text=True)  # fmt: skip
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"{photo}: exit {p.returncode}: {p.stderr.strip().splitlines()[-1:]}")
    peak = [int(x.split()[1]) for x in p.stderr.splitlines() if x.startswith("PEAK_KB")]
    return wall, peak[-1] / 1024.0, json.loads((out / "params.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--example", default="astronaut", help="examples/<name>.png with its sidecar (default astronaut)")
    ap.add_argument("--sides", default="", help="comma-separated extra working caps to time on the 12 MP photo")
    ap.add_argument("--write", type=Path, default=None, help="replace the section in this Markdown file")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        photos = build_photos(tmp, WORKING_MAX_SIDE, args.example)
        run(photos["640 px"], tmp / "warmup", [])
        results = {}
        plan = [(name, photos[name], [], name) for name in ("640 px", "12 MP", "working size")]
        plan += [(f"12 MP, --max-side {s}", photos["12 MP"], ["--max-side", s], None) for s in args.sides.split(",") if s]
        for label, photo, extra, key in plan:
            runs = [run(photo, tmp / f"o{len(rows)}_{i}", extra) for i in range(args.runs)]
            wall = statistics.median(r[0] for r in runs)
            rss = statistics.median(r[1] for r in runs)
            params = runs[0][2]
            stage_sum = sum(params["timings_s"].values())
            w = params["image"]["working"]
            rows.append((label, f"{params['image']['width']}x{params['image']['height']}", f"{w['width']}x{w['height']}",
                         wall, stage_sum, rss, params["quality"]["status"]))  # fmt: skip
            if key:
                results[key] = params
    base = rows[0][3]
    lines = [
        f"Phone-size photos (`benchmarks/large_photo.py --runs {args.runs}`, {time.strftime('%Y-%m-%d')}, "
        f"{os.cpu_count()} cores, working cap {WORKING_MAX_SIDE} px, examples/{args.example}.png upscaled to 3000x4000): "
        "medians; process wall includes start-up and export.",
        "",
        "| photo | size | working copy | process wall s | stages s | x 640 px | peak RSS MiB |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, size, work, wall, stages, rss, _ in rows:
        lines.append(f"| {label} | {size} | {work} | {wall:.1f} | {stages:.1f} | {wall / base:.2f} | {rss:.0f} |")
    a, b = results["12 MP"], results["working size"]
    dt = float(np.linalg.norm(np.asarray(a["object"]["translation"]) - np.asarray(b["object"]["translation"])))
    same_pairs = a["contacts"]["pairs"] == b["contacts"]["pairs"]
    lines += ["", f"12 MP vs the same photo downscaled to the working size: object centre {100 * dt:.2f} cm apart, "
                  f"contact pairs {'the same' if same_pairs else 'DIFFERENT'} ({a['contacts']['pairs']})."]  # fmt: skip
    text = "\n".join(lines)
    print(text)
    if args.write:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from _markdown import update_block

        update_block(args.write, "large-photo", "Phone-size photos (12 megapixels)", text)


if __name__ == "__main__":
    main()
