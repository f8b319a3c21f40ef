"""Thumbnail sheet of every object category's library mesh: ``docs/object_sheet.png``.

Each tile shows a category's procedural mesh, and each of its ``variants`` (other makes: ``chair/office``), (``hoirecon.objects.build_mesh``, at its real size
``size_m``) from the front-right and a little above, coloured by part, labelled with the category key,
its size and its part names in their colours. Offline, no GL and no window: a flat-shaded
orthographic view rasterised by a small numpy z-buffer (back faces culled: every piece is a closed,
outward-wound surface; outlines where the depth jumps), laid out with matplotlib's Agg backend.

Usage::

    python scripts/object_sheet.py [--out docs/object_sheet.png] [--cols 10] [--only KEY ...]
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.offsetbox import AnchoredOffsetbox, HPacker, TextArea  # noqa: E402

from hoirecon.objects import build_mesh, categories  # noqa: E402

PALETTE = ["#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#edc948", "#76b7b2", "#ff9da7", "#9c755f"]
LIGHT = np.array([0.35, 0.65, 0.68]) / np.linalg.norm([0.35, 0.65, 0.68])


def _view(yaw_deg: float = -35.0, pitch_deg: float = 20.0) -> np.ndarray:
    """Rotation from the y-up, front +z model frame to the view (x right, y up, z toward the viewer)."""
    a, b = math.radians(yaw_deg), math.radians(pitch_deg)
    yaw = np.array([[math.cos(a), 0, math.sin(a)], [0, 1, 0], [-math.sin(a), 0, math.cos(a)]])
    pitch = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    return pitch @ yaw


def render(vertices: np.ndarray, faces: np.ndarray, part_of_vertex: np.ndarray, px: int = 360) -> np.ndarray:
    """``(px, px, 3)`` float RGB image of the mesh (y-up, front +z model frame) seen through :func:`_view`."""
    v = np.asarray(vertices, np.float64) @ _view().T
    lo, hi = v[:, :2].min(0), v[:, :2].max(0)
    half = (hi - lo).max() / 2 * 1.06
    centre = (lo + hi) / 2
    # pixel coordinates: column from x, row from -y; a margin at the bottom for the part names
    scale = (px / 2) / half
    col = (v[:, 0] - centre[0]) * scale + px / 2
    row = px / 2 - (v[:, 1] - centre[1]) * scale - 0.06 * px
    tri = v[faces]
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    length = np.linalg.norm(normal, axis=1)
    keep = (normal[:, 2] > 0) & (length > 0)
    normal = normal[keep] / length[keep, None]
    fk = faces[keep]
    part = part_of_vertex[fk[:, 0]]
    base = np.array([matplotlib.colors.to_rgb(c) for c in PALETTE])[part % len(PALETTE)]
    colour = base * (0.38 + 0.62 * np.clip(normal @ LIGHT, 0.0, 1.0))[:, None]
    depth = np.full((px, px), -np.inf)
    image = np.ones((px, px, 3))
    for t in range(len(fk)):
        i0, i1, i2 = fk[t]
        xs, ys, zs = col[[i0, i1, i2]], row[[i0, i1, i2]], v[[i0, i1, i2], 2]
        c0, c1 = max(int(np.floor(xs.min())), 0), min(int(np.ceil(xs.max())), px - 1)
        r0, r1 = max(int(np.floor(ys.min())), 0), min(int(np.ceil(ys.max())), px - 1)
        if c1 < c0 or r1 < r0:
            continue
        gx, gy = np.meshgrid(np.arange(c0, c1 + 1) + 0.5, np.arange(r0, r1 + 1) + 0.5)
        d = (ys[1] - ys[2]) * (xs[0] - xs[2]) + (xs[2] - xs[1]) * (ys[0] - ys[2])
        if abs(d) < 1e-12:
            continue
        w0 = ((ys[1] - ys[2]) * (gx - xs[2]) + (xs[2] - xs[1]) * (gy - ys[2])) / d
        w1 = ((ys[2] - ys[0]) * (gx - xs[2]) + (xs[0] - xs[2]) * (gy - ys[2])) / d
        w2 = 1 - w0 - w1
        inside = (w0 >= -1e-6) & (w1 >= -1e-6) & (w2 >= -1e-6)
        if not inside.any():
            continue
        z = w0 * zs[0] + w1 * zs[1] + w2 * zs[2]
        block = depth[r0:r1 + 1, c0:c1 + 1]
        win = inside & (z > block)
        block[win] = z[win]
        image[r0:r1 + 1, c0:c1 + 1][win] = colour[t]
    # outlines: the silhouette and depth jumps
    solid = np.isfinite(depth)
    filled = np.where(solid, depth, depth[solid].min() - 10 * half if solid.any() else 0.0)
    jump = np.zeros_like(solid)
    limit = 0.04 * half
    jump[:, 1:] |= np.abs(np.diff(filled, axis=1)) > limit
    jump[1:, :] |= np.abs(np.diff(filled, axis=0)) > limit
    image[jump] *= 0.35
    return image


def draw(ax: plt.Axes, key: str, size_m: float, px: int = 360, variant: str = "default") -> None:
    mesh = build_mesh(key, variant)
    v = mesh.vertices.astype(np.float64) * np.array([1.0, -1.0, -1.0])  # canonical (y down, front -z) -> y up, front +z
    image = render(v, mesh.faces, mesh.part_of_vertex, px)
    ax.imshow(image, interpolation="antialiased")
    ax.set_xticks([])
    ax.set_yticks([])
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_title(f"{key if variant == 'default' else key + '/' + variant}  {size_m:g} m", fontsize=8, pad=2)
    names = [TextArea(name, textprops=dict(color=PALETTE[i % len(PALETTE)], size=5.5, weight="bold"))
             for i, name in enumerate(mesh.part_names)]
    rows = [names[i:i + 4] for i in range(0, len(names), 4)]
    for r, row in enumerate(rows):
        box = AnchoredOffsetbox(loc="lower center", child=HPacker(children=row, pad=0, sep=3), frameon=False,
                                bbox_to_anchor=(0.5, 0.005 + 0.075 * (len(rows) - 1 - r)), bbox_transform=ax.transAxes,
                                borderpad=0)
        ax.add_artist(box)


def main(argv: list[str] | None = None) -> Path:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "object_sheet.png"))
    ap.add_argument("--cols", type=int, default=10)
    ap.add_argument("--dpi", type=int, default=110)
    ap.add_argument("--only", nargs="*", help="categories to draw (default: all)")
    args = ap.parse_args(argv)
    table = categories()
    keys = [(k, None) for k in table if not args.only or k in args.only]
    keys = [(k, v) for k, _ in keys for v in [None, *table[k].get("variants", [])]]  # every make of a category
    cols = min(args.cols, len(keys))
    rows = math.ceil(len(keys) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(1.75 * cols, 1.9 * rows), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, (key, var) in zip(axes.flat, keys):
        ax.set_axis_on()
        draw(ax, key, (var or table[key])["size_m"], variant=var["name"] if var else "default")
    fig.suptitle(f"hoirecon object library: {len(table)} categories, {len(keys)} meshes with the variants (front-right view, coloured by part, metric size = "
                 "largest extent)", fontsize=11)
    fig.tight_layout(rect=(0, 0, 1, 0.985), h_pad=0.6, w_pad=0.3)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=args.dpi, facecolor="white")
    plt.close(fig)
    print(f"wrote {out} ({len(keys)} meshes)")
    return out


if __name__ == "__main__":
    main()
