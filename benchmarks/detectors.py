"""Detection + segmentation seconds per image for each backend on this machine (CPU by default).

YOLO and SAM run with untrained weights built here (timing does not depend on the weights' values);
MediaPipe and GrabCut are the offline defaults. Median of --runs calls after one warm-up call, on
examples/camera.png (512 x 512).

    python benchmarks/detectors.py --runs 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, runs: int) -> float:
    fn()  # warm-up: model load, first-call setup
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--skip-sam", action="store_true", help="SAM ViT-B takes about 40 s per call on a 2-core CPU")
    args = ap.parse_args()
    import torch
    from rich.console import Console
    from rich.table import Table

    from hoirecon.photo import load_image, read_sidecar
    from hoirecon.perception import detect_person, segment_object
    from hoirecon.types import Box

    image = load_image(ROOT / "examples/camera.png")
    box = Box(*read_sidecar(ROOT / "examples/camera.png").object_box)
    person = detect_person(image)
    rows = [
        ("mediapipe-pose", "person landmarks + mask", timed(lambda: detect_person(image), args.runs)),
        ("grabcut", "object mask in a box", timed(lambda: segment_object(image, box, "tripod", person_mask=person.mask), args.runs)),
    ]
    from hoirecon.perception.yolo import YoloSegmenter, offline_ultralytics

    with tempfile.TemporaryDirectory() as tmp:
        for cfg in ("yolo11n-seg.yaml", "yolo11s-seg.yaml"):
            torch.manual_seed(0)
            path = Path(tmp) / cfg.replace(".yaml", ".pt")
            offline_ultralytics().YOLO(cfg).save(str(path))
            seg = YoloSegmenter(path, device=args.device, conf=0.25)
            rows.append((f"yolo:{cfg[:-5]}", "all instances, boxes + masks (untrained)", timed(lambda: seg.detect(image), args.runs)))
    if not args.skip_sam:
        from segment_anything import sam_model_registry

        from hoirecon.perception.sam import SamRefiner

        sam = SamRefiner(None, model=sam_model_registry["vit_b"](checkpoint=None), device=args.device)

        def fresh():  # forget the cached embedding: the encoder runs every call, as for a new photo
            sam._key = None  # noqa: SLF001
            return sam.refine(image, box)

        rows.append(("sam:vit_b", "object mask from a box (untrained)", timed(fresh, args.runs)))
    table = Table(title=f"detection + segmentation, seconds per image, median of {args.runs} ({args.device}, {torch.get_num_threads()} threads)")
    for col in ("backend", "what", "seconds"):
        table.add_column(col)
    for name, what, sec in rows:
        table.add_row(name, what, f"{sec:.3f}")
    Console(width=120).print(table)


if __name__ == "__main__":
    main()
