"""A picture of one reconstruction's interaction-mode scores (``params.json`` → ``contacts.interaction``):
per mode, its image evidence, its fit agreement (when it was fitted) and their product; the chosen mode
marked. Draws only numbers (no photo pixels), with Pillow.

    python benchmarks/mode_figure.py out/photo/params.json docs/mode_scores.png [--title "kick photo"]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

BAR_W, ROW_H, LEFT, PAD = 360, 26, 150, 14
COLOURS = {"evidence": (70, 120, 200), "agreement": (230, 140, 40), "evidence x agreement": (60, 160, 90)}


def draw(interaction: dict, title: str = ""):
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=14)
    small = ImageFont.load_default(size=12)
    modes = interaction["modes"]
    rows = []
    for m in modes:
        a = m.get("agreement")
        rows.append((m["name"], {"evidence": m["evidence"], "agreement": a,
                                 "evidence x agreement": None if a is None else m["evidence"] * a}))  # fmt: skip
    block = 3 * ROW_H + PAD
    width = LEFT + BAR_W + 90
    height = 56 + len(rows) * block + 30
    img = Image.new("RGB", (width, height), "white")
    d = ImageDraw.Draw(img)
    d.text((PAD, 10), title or "interaction modes", fill="black", font=font)
    d.text((PAD, 30), f"chosen: {interaction['mode']} ({interaction['how']})", fill=(80, 80, 80), font=small)
    y = 56
    for name, vals in rows:
        chosen = name == interaction["mode"]
        d.text((PAD, y + ROW_H), ("> " if chosen else "  ") + name, fill="black", font=font)
        for k, (key, v) in enumerate(vals.items()):
            yy = y + k * ROW_H
            d.rectangle([LEFT, yy + 4, LEFT + BAR_W, yy + ROW_H - 4], outline=(210, 210, 210))
            if v is None:
                d.text((LEFT + 6, yy + 6), f"{key}: not fitted", fill=(150, 150, 150), font=small)
                continue
            d.rectangle([LEFT, yy + 4, LEFT + int(round(BAR_W * max(0.0, min(1.0, v)))), yy + ROW_H - 4], fill=COLOURS[key])
            d.text((LEFT + BAR_W + 8, yy + 6), f"{v:.2f}", fill="black", font=small)
            d.text((LEFT + 6, yy + 6), key, fill="white" if v > 0.3 else "black", font=small)
        y += block
    return img


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("params", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--title", default="")
    a = ap.parse_args()
    inter = json.loads(a.params.read_text(encoding="utf-8"))["contacts"].get("interaction")
    if inter is None:
        raise SystemExit(f"{a.params}: no contacts.interaction (written by hoirecon before params schema 3?)")
    draw(inter, a.title).save(a.out)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
