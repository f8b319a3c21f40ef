"""Say when a fit looks wrong: ``quality: "ok" | "suspect"`` with the reasons.

The thresholds live in ``hoirecon/data/quality.json`` (with why each one holds):

* the object's silhouette IoU with its mask below ``silhouette_iou_min``;
* the contact distance (median gap between the touching body points and the object) above
  ``contact_distance_max_m``;
* a standing body height (the fitted shape in the rest pose, so a crouching or seated body is not
  "short") outside the plausible band for the fitted age (Anny's age phenotype; adults for body
  models without an age).

A suspect fit is still written (it may be the best available); ``params.json`` → ``quality``,
``summary.csv`` → ``quality``/``quality_reasons`` and a ``warning:`` line say why.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping

__all__ = ["assess", "thresholds", "age_years", "height_band"]


@lru_cache(maxsize=1)
def thresholds() -> dict[str, Any]:
    return json.loads(resources.files("hoirecon").joinpath("data/quality.json").read_text(encoding="utf-8"))


def _interp(x: float, table: list[list[float]], col: int) -> float:
    xs = [r[0] for r in table]
    if x <= xs[0]:
        return float(table[0][col])
    for a, b in zip(table, table[1:]):
        if x <= b[0]:
            t = (x - a[0]) / (b[0] - a[0])
            return float(a[col] + t * (b[col] - a[col]))
    return float(table[-1][col])


def age_years(body_params: Mapping[str, Any]) -> float | None:
    """The fitted age in years (Anny's age phenotype), or None for a body model without one."""
    ph = body_params.get("phenotypes") if isinstance(body_params, Mapping) else None
    if not isinstance(ph, Mapping) or ph.get("age") is None:
        return None
    try:
        a = float(ph["age"])
    except (TypeError, ValueError):
        return None
    return _interp(a, thresholds()["anny_age_years"], 1) if math.isfinite(a) else None


def height_band(age: float | None) -> tuple[float, float]:
    """(min, max) plausible standing height in metres at ``age`` years (None: adult)."""
    table = thresholds()["height_by_age"]
    a = 25.0 if age is None else age
    return _interp(a, table, 1), _interp(a, table, 2)


def assess(losses: Mapping[str, Any], height_m: float | None, body_params: Mapping[str, Any]) -> dict[str, Any]:
    """``{"status": "ok" | "suspect", "reasons": [...], "checks": {...}}`` for one fit."""
    t = thresholds()
    reasons: list[str] = []
    iou = losses.get("silhouette_iou")
    if iou is not None and math.isfinite(float(iou)) and float(iou) < t["silhouette_iou_min"]:
        reasons.append(f"the object covers little of its mask (silhouette IoU {float(iou):.2f} < {t['silhouette_iou_min']})")
    cd = losses.get("contact_distance_m")
    if cd is not None and math.isfinite(float(cd)) and float(cd) > t["contact_distance_max_m"]:
        reasons.append(f"the contacts are far apart ({100 * float(cd):.1f} cm > {100 * t['contact_distance_max_m']:.0f} cm)")
    age = age_years(body_params)
    lo, hi = height_band(age)
    if height_m is not None and math.isfinite(float(height_m)) and not (lo <= float(height_m) <= hi):
        who = f"age {age:.0f}" if age is not None else "an adult"
        reasons.append(f"standing body height {float(height_m):.3f} m is implausible for {who} ({lo:.3f}-{hi:.3f} m)")
    return {
        "status": "suspect" if reasons else "ok",
        "reasons": reasons,
        "checks": {"silhouette_iou": iou, "silhouette_iou_min": t["silhouette_iou_min"],
                   "contact_distance_m": cd, "contact_distance_max_m": t["contact_distance_max_m"],
                   "height_m": height_m, "age_years": age, "height_band_m": [lo, hi]},  # fmt: skip
    }
