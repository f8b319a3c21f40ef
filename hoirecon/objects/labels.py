"""Label resolution: a user / detector label -> a category key of ``objects.json``, by the key itself,
then a synonym, then text-embedding similarity (:mod:`hoirecon.objects.embedding`)."""

from __future__ import annotations

import functools
import logging
import os

from hoirecon.errors import InputError, first_line, shown
from hoirecon.objects import catalog, embedding

__all__ = ["match_label", "resolve_label", "resolve_label_verbose"]


@functools.lru_cache(maxsize=1)
def _lookup() -> tuple[dict[str, str], dict[str, str]]:
    """(normalised name -> key, name without spaces -> key)."""
    exact: dict[str, str] = {}
    for key in catalog.category_keys():
        for name in [key, *catalog.entry(key).synonyms]:
            exact.setdefault(catalog.normalise_label(name), key)
    compact = {name.replace(" ", ""): key for name, key in exact.items()}
    return exact, compact


def _embeddings_disabled() -> bool:
    return os.environ.get("HOIRECON_NO_EMBEDDINGS", "").strip().lower() not in ("", "0", "false", "no", "off")


_EMBEDDING_FAILED: list[str] = []  # the first load / inference failure, logged once


def _nearest_by_embedding(name: str) -> tuple[str | None, float, list[tuple[str, float]]] | None:
    """``embedding.nearest_category(name)``, or None when the step is disabled
    (``HOIRECON_NO_EMBEDDINGS=1``), the model package is not installed, or the model fails."""
    if not name or _embeddings_disabled() or _EMBEDDING_FAILED:
        return None
    if not embedding.available():
        return None
    try:
        return embedding.nearest_category(name)
    except Exception as err:  # a broken model install must not break exact label resolution
        _EMBEDDING_FAILED.append(f"{type(err).__name__}: {first_line(err)}")
        logging.getLogger(__name__).warning("label embedding disabled: %s", _EMBEDDING_FAILED[0])
        return None


def match_label(label: str) -> tuple[str, str] | None:
    """``(category, "name" | "synonym")`` when ``label`` names a category or one of its synonyms
    (see :func:`resolve_label_verbose`), else None. Needs no model: the input check uses it."""
    norm = catalog.normalise_label
    exact, compact = _lookup()
    name = norm(label) if isinstance(label, str) else ""
    candidates = [name]
    if name.endswith("es"):
        candidates.append(name[:-2])
    if name.endswith("s"):
        candidates.append(name[:-1])
    if name:
        candidates.append(name + "s")
    for cand in candidates:
        if cand in exact:
            key = exact[cand]
            return key, ("name" if cand == norm(key) else "synonym")
    for cand in candidates:
        if cand.replace(" ", "") in compact:
            key = compact[cand.replace(" ", "")]
            return key, ("name" if cand.replace(" ", "") == norm(key).replace(" ", "") else "synonym")
    return None


def resolve_label_verbose(label: str) -> tuple[str, str, float | None]:
    """``(category, how, score)``: how the label was resolved. ``how`` is ``"name"`` (the category
    key itself, up to case, ``_``/``-``/spaces and a plural ``s``/``es``), ``"synonym"`` (one of its
    synonyms in ``objects.json``) or ``"embedding"`` (text-embedding similarity, see
    ``hoirecon.objects.embedding``; ``score`` is the cosine, ``None`` otherwise). Raises
    ``InputError`` listing the known categories, plus the closest one and its score when the
    embedding step ran."""
    hit = match_label(label)
    if hit is not None:
        return hit[0], hit[1], None
    name = catalog.normalise_label(label) if isinstance(label, str) else ""
    known = ", ".join(catalog.category_keys())
    nearest = _nearest_by_embedding(name)
    if nearest is not None:
        key, score, top = nearest
        if key is not None:
            return key, "embedding", score
        raise InputError(f"unknown object label '{shown(label)}'; known: {known}; closest: {top[0][0]} ({top[0][1]:.2f})")
    raise InputError(f"unknown object label '{shown(label)}'; known: {known}")


def resolve_label(label: str) -> str:
    """Map a user / detector label to a category key (``"Tennis-Racket"`` -> ``"tennis_racket"``,
    ``"bikes"`` -> ``"bicycle"``, ``"rocking chair"`` -> ``"chair"`` by text embedding). Raises
    ``InputError`` listing the known categories (and the closest one). See ``resolve_label_verbose``."""
    return resolve_label_verbose(label)[0]
