"""Real photos with true masks and hand-labelled contacts (``../shared/eval/photos`` by default, the
``index.json`` format described there): how the reconstruction sits in the photo and on its floor.

Per photo, with the labelled ``object``, ``object_box`` and ``person_box`` (as a sidecar gives them;
``--masks``: the true object mask too):

* ``IoU``: the fitted object's silhouette (its mesh drawn with the photo's camera) against the true
  object mask, outside the true person mask where one is given (the person may hide the object);
* ``touch``: how many of the labelled ``contact_parts`` groups touch the object (some vertex of a
  part of the group within 2 cm of the object's surface), counted on the geometry;
* ``contact cm`` / ``pen. cm``: the fit's contact distance and deepest penetration (``params.json``);
* gravity and the floor: the torso's tilt from the estimated up (mid-hip to mid-shoulder), an upright
  object's tilt, the estimate's standard error and sources, the posture, the floor's supports and
  their gaps (cm above the fitted floor), whether the floor was seen;
* ``interaction``: the interaction mode chosen (``params.json`` ``contacts.interaction``) against the
  labelled one;
* seconds for the whole pipeline.

Then the same photos with the trivial method "always the category's first mode" (``--interaction``
forced): how often it names the labelled interaction, its IoU and its touching groups, for comparison.

    python benchmarks/photos.py [--photos DIR] [--masks] [--out DIR] [--write BENCHMARKS.md]

``--out`` keeps every result folder (with its turntable, and ``iou.png``: the true object mask green, the
drawn object red, both yellow, the person darkened) to look at. The photos are never copied.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_PHOTOS = ROOT.parent / "shared" / "eval" / "photos"


def _mask(path: Path, width: int, height: int):
    import cv2
    import numpy as np

    m = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if m is None:
        raise SystemExit(f"{path}: cannot read the mask")
    return cv2.resize((m > 127).astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST).astype(bool)


def _drawn(recon):
    """The fitted object's silhouette, (H, W) bool at the working resolution."""
    import numpy as np

    from hoirecon.geometry.projection import silhouette

    cam = recon.image.camera
    uv = cam.project(recon.fit.object.vertices.astype(np.float64))
    return silhouette(uv, recon.fit.object.mesh.faces, cam.height, cam.width)


def silhouette_iou(recon, object_mask, person_mask) -> float:
    """IoU of the fitted object's drawn silhouette against ``object_mask`` (working resolution), both
    outside ``person_mask`` when given."""
    drawn = _drawn(recon)
    om = object_mask.copy()
    if person_mask is not None:
        drawn &= ~person_mask
        om &= ~person_mask
    union = float((drawn | om).sum())
    return float((drawn & om).sum()) / union if union else 0.0


def iou_picture(recon, object_mask, person_mask, path: Path) -> None:
    """What the IoU compares, drawn over the photo: the true object mask green, the drawn object red,
    both yellow; the person mask (where the object may hide) darkened."""
    import numpy as np
    from PIL import Image

    rgb = recon.image.rgb.astype(np.float32)
    drawn = _drawn(recon)
    if person_mask is not None:
        rgb[person_mask] *= 0.35
    for sel, colour in ((object_mask & ~drawn, (0, 255, 0)), (drawn & ~object_mask, (255, 0, 0)),
                        (drawn & object_mask, (255, 230, 0))):  # fmt: skip
        rgb[sel] = 0.4 * rgb[sel] + 0.6 * np.asarray(colour, np.float32)
    Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).save(path)


def groups_touching(recon, groups, tol_m: float = 0.02) -> int:
    """How many of the labelled part groups have a body vertex within ``tol_m`` of the object's surface."""
    import numpy as np
    import trimesh
    from scipy.spatial import cKDTree

    body, obj = recon.fit.body, recon.fit.object
    pts, _ = trimesh.sample.sample_surface_even(trimesh.Trimesh(obj.vertices, obj.mesh.faces, process=False), 20000, seed=0)
    tree = cKDTree(np.concatenate([pts, obj.vertices]))
    names = list(body.part_names)
    n = 0
    for group in groups:
        idx = np.flatnonzero(np.isin(body.part_of_vertex, [names.index(p) for p in group if p in names]))
        if len(idx) and float(tree.query(body.vertices[idx])[0].min()) <= tol_m:
            n += 1
    return n


def run(photos: Path, masks: bool, out: Path | None, only: list[str] | None = None, trivial: bool = True) -> list[dict]:
    import numpy as np

    from hoirecon.contact.priors import category_modes
    from hoirecon.inputs import check_image_inputs
    from hoirecon.objects import resolve_label
    from hoirecon.pipeline import Pipeline, ReconstructOptions
    from hoirecon.types import Box

    index = json.loads((photos / "index.json").read_text())
    pipe = Pipeline()
    rows = []
    for item in index["photos"]:
        if only and Path(item["image"]).stem not in only:
            continue
        opts = ReconstructOptions(object_label=item["object"], object_box=list(map(float, item["object_box"])),
                                  object_mask=photos / item["object_mask"] if masks and item.get("object_mask") else None)  # fmt: skip
        checked = check_image_inputs(photos / item["image"], object_label=opts.object_label, object_box=opts.object_box,
                                     object_mask=opts.object_mask)  # fmt: skip
        if item.get("person_box"):  # which person, as a sidecar's person_box would say
            checked = dataclasses.replace(checked, person_box=Box(*map(float, item["person_box"])))
        t0 = time.perf_counter()
        recon = pipe.run(photos / item["image"], opts, checked=checked)
        seconds = time.perf_counter() - t0
        W, H = recon.image.width, recon.image.height
        om = _mask(photos / item["object_mask"], W, H)
        pm = _mask(photos / item["person_mask"], W, H) if item.get("person_mask") else None
        row = {"photo": Path(item["image"]).stem, "iou": silhouette_iou(recon, om, pm),
               "touch": f"{groups_touching(recon, item['contact_parts'])}/{len(item['contact_parts'])}",
               "interaction": recon.interaction.name if recon.interaction else "-", "labelled": item.get("interaction"),
               "contact_cm": 100 * recon.fit.losses.get("contact_distance_m", float("nan")),
               "pen_cm": 100 * recon.fit.losses.get("penetration_max_m", float("nan")), "seconds": seconds}  # fmt: skip
        g = getattr(recon, "gravity", None)
        if g is not None:
            from hoirecon.geometry.rotations import angle_deg as ang
            from hoirecon.ground.posture import torso_axis

            torso = torso_axis(recon.fit.body.keypoints3d, recon.fit.body.keypoint_names)
            row.update(torso_tilt=ang(torso, g.up), torso_before=g.torso_tilt_deg, sigma=g.sigma_deg, posture=g.posture.name if g.posture else "-",
                       sources="+".join(s["name"].replace("camera_prior", "cam").replace("image_lines", "lines")
                                        for s in g.sources))  # fmt: skip
            if recon.config.get("object_upright"):
                row["object_tilt"] = ang(-np.asarray(recon.fit.object.rotation, np.float64)[:, 1], g.up)
            fl = recon.fit.floor
            row["floor"] = "-" if fl is None else ", ".join(
                f"{s['name']} {100 * s['gap_m']:+.1f}{'' if s['held'] else ' (off)'}" for s in fl.supports
            ) + (" seen" if fl.visible else " unseen")
        if trivial:
            first = category_modes(resolve_label(item["object"]))[0]["name"]
            r1 = pipe.run(photos / item["image"], dataclasses.replace(opts, interaction=first), checked=checked)
            row.update(first_mode=first, first_iou=silhouette_iou(r1, om, pm),
                       first_touch=groups_touching(r1, item["contact_parts"]))
        rows.append(row)
        print(json.dumps({k: (round(v, 3) if isinstance(v, float) else v) for k, v in row.items()}), flush=True)
        if out is not None:
            from hoirecon.export import write_outputs
            from hoirecon.export.report import write_turntable

            folder = out / ("masks" if masks else "boxes") / row["photo"]
            write_outputs(recon, folder)
            write_turntable(folder)
            iou_picture(recon, om, pm, folder / "iou.png")
    return rows


def table(rows: list[dict], masks: bool) -> str:
    f = lambda x, d=2: "-" if x is None else f"{x:.{d}f}"  # noqa: E731
    tilt = lambda r: "-" if r.get("torso_tilt") is None else f"{f(r.get('torso_before'), 1)} → {f(r['torso_tilt'], 1)}"  # noqa: E731
    head = ("| photo | interaction (labelled) | IoU | touch | contact cm | pen. cm | torso tilt deg (body fit → final) "
            "| object tilt deg | up sigma deg | posture | witnesses | floor supports (gap cm) | s |")  # fmt: skip
    mark = lambda r, k: f"{r.get(k, '-')} {'✓' if r.get(k) == r.get('labelled') else '✗'}"  # noqa: E731
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        lines.append(f"| {r['photo']} | {mark(r, 'interaction')} ({r.get('labelled', '-')}) | {f(r['iou'])} | {r['touch']} | {f(r['contact_cm'], 1)} | {f(r['pen_cm'], 1)} "
                     f"| {tilt(r)} | {f(r.get('object_tilt'), 1)} | {f(r.get('sigma'), 1)} "
                     f"| {r.get('posture', '-')} | {r.get('sources', '-')} | {r.get('floor', '-')} | {f(r['seconds'], 1)} |")  # fmt: skip
    med = lambda k: statistics.median([r[k] for r in rows if r.get(k) is not None])  # noqa: E731
    tilts = [r["object_tilt"] for r in rows if r.get("object_tilt") is not None]
    right = sum(r.get("interaction") == r.get("labelled") for r in rows)
    touch = [tuple(map(int, r["touch"].split("/"))) for r in rows]
    lines.append(f"| **median** | {right}/{len(rows)} right | {f(med('iou'))} | {sum(a for a, _ in touch)}/{sum(b for _, b in touch)} | {f(med('contact_cm'), 1)} | {f(med('pen_cm'), 1)} "
                 f"| {f(med('torso_before'), 1) + ' → ' + f(med('torso_tilt'), 1) if any('torso_tilt' in r for r in rows) else '-'} "
                 f"| {f(statistics.median(tilts), 1) if tilts else '-'} | | | | | {f(med('seconds'), 1)} |")  # fmt: skip
    if any("first_mode" in r for r in rows):
        tr = [r for r in rows if "first_mode" in r]
        groups = sum(int(r["touch"].split("/")[1]) for r in tr)
        lines += ["", "The trivial method, always the category's first mode (`--interaction` forced), on the same photos:", "",
                  "| method | interaction right | median IoU | groups touching |", "|---|---|---|---|",
                  f"| ours | {sum(r['interaction'] == r['labelled'] for r in tr)}/{len(tr)} | "
                  f"{f(statistics.median(r['iou'] for r in tr))} | {sum(int(r['touch'].split('/')[0]) for r in tr)}/{groups} |",
                  f"| first mode | {sum(r['first_mode'] == r['labelled'] for r in tr)}/{len(tr)} | "
                  f"{f(statistics.median(r['first_iou'] for r in tr))} | {sum(r['first_touch'] for r in tr)}/{groups} |"]  # fmt: skip
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=Path, default=DEFAULT_PHOTOS)
    ap.add_argument("--masks", action="store_true", help="also give the true object mask (--object-mask)")
    ap.add_argument("--out", type=Path, default=None, help="keep the result folders here")
    ap.add_argument("--write", type=Path, default=None, help="put the table into this markdown file")
    ap.add_argument("--only", nargs="*", default=None, help="only these photos (names without extension)")
    ap.add_argument("--no-trivial", action="store_true", help="skip the first-mode comparison (half the time)")
    a = ap.parse_args()
    rows = run(a.photos, a.masks, a.out, a.only, trivial=not a.no_trivial)
    text = table(rows, a.masks)
    print(text)
    if a.write:
        tag = "photos-masks" if a.masks else "photos-boxes"
        start, end = f"<!-- {tag}:start -->", f"<!-- {tag}:end -->"
        head = (f"{len(rows)} photos of `{a.photos.name}/index.json`, "
                f"{'true object masks' if a.masks else 'object boxes only'}; {platform.machine()}, CPU, "
                f"{datetime.date.today().isoformat()}.\n\n")  # fmt: skip
        doc = a.write.read_text() if a.write.exists() else ""
        block = f"{start}\n{head}{text}\n{end}"
        if start in doc:
            doc = doc[: doc.index(start)] + block + doc[doc.index(end) + len(end):]
        else:
            title = "with true object masks" if a.masks else "with object boxes"
            doc += f"\n## Real photos {title} (`python benchmarks/photos.py{' --masks' if a.masks else ''}`)\n\n{block}\n"
        a.write.write_text(doc)


if __name__ == "__main__":
    main()
