"""Label resolution: a user / detector label -> a category key of ``objects.json``, by the key itself,
then a synonym, then a typo of either (:func:`typo_match`), then text-embedding similarity
(:mod:`hoirecon.objects.embedding`). :func:`resolve_or_proxy` never refuses: a label nothing matches
gets the ``proxy`` category (a mesh shaped by the object's mask, :mod:`hoirecon.objects.proxy`)."""

from __future__ import annotations

import functools
import logging
import os
from dataclasses import dataclass

from hoirecon.errors import InputError, first_line, shown
from hoirecon.objects import catalog, embedding

__all__ = ["LabelMatch", "match_label", "resolve_label", "resolve_label_verbose", "resolve_or_proxy", "typo_distance",
           "typo_match"]

PROXY = "proxy"  # the category of a label nothing matches (objects.json)


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


_KEYBOARD = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_KEY_AT = {c: (r, i + 0.5 * r) for r, row in enumerate(_KEYBOARD) for i, c in enumerate(row)}


def _adjacent(a: str, b: str) -> bool:
    """Neighbouring keys on a QWERTY keyboard (a slip of the finger)."""
    if a not in _KEY_AT or b not in _KEY_AT:
        return False
    (ra, ca), (rb, cb) = _KEY_AT[a], _KEY_AT[b]
    return abs(ra - rb) <= 1 and abs(ca - cb) <= 1.0


def typo_distance(a: str, b: str) -> int:
    """Edit distance counting what typing slips do: a missing, doubled or extra letter, two swapped
    neighbours (1 each), and a letter replaced by a neighbouring key (1); any other replacement counts
    2, so that "chain" is no typo of "chair" (n and r lie apart) while "chiar", "skatebord" and
    "bicyle" are typos (optimal string alignment distance with these costs)."""
    n, m = len(a), len(b)
    d = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n + 1):
        d[i][0] = i
    for j in range(m + 1):
        d[0][j] = j
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            sub = 0 if a[i - 1] == b[j - 1] else (1 if _adjacent(a[i - 1], b[j - 1]) else 2)
            d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + sub)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    return d[n][m]


def _typo_budget(name: str) -> int:
    """Slips allowed in a label of this length: none up to 4 letters ("cup" and "cap" are different
    things), one up to 8, two beyond."""
    letters = len(name.replace(" ", ""))
    return 0 if letters <= 4 else (1 if letters <= 8 else 2)


def typo_match(label: str) -> tuple[str, str, int] | None:
    """``(category, the name it is a typo of, slips)`` when ``label`` is within its typo budget
    (:func:`typo_distance`, :func:`_typo_budget`) of exactly one category's key or synonyms, else
    None (no name near, or names of two categories equally near)."""
    name = catalog.normalise_label(label) if isinstance(label, str) else ""
    budget = _typo_budget(name)
    if budget == 0:
        return None
    exact, _ = _lookup()
    best: dict[str, tuple[int, str]] = {}
    for known, key in exact.items():
        if abs(len(known) - len(name)) > budget:
            continue
        dist = typo_distance(name, known)
        if dist <= budget and (key not in best or dist < best[key][0]):
            best[key] = (dist, known)
    if not best:
        return None
    low = min(d for d, _ in best.values())
    keys = [k for k, (d, _) in best.items() if d == low]
    if len(keys) != 1:
        return None
    return keys[0], best[keys[0]][1], low


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
    synonyms in ``objects.json``), ``"typo"`` (a typing slip of either, :func:`typo_match`; ``score``
    is the number of slips) or ``"embedding"`` (text-embedding similarity, see
    ``hoirecon.objects.embedding``; ``score`` is the cosine, ``None`` otherwise). Raises
    ``InputError`` listing the known categories, plus the closest one and its score when the
    embedding step ran (:func:`resolve_or_proxy` never raises)."""
    m = resolve_or_proxy(label)
    if m.category != PROXY or m.how != "proxy":
        return m.category, m.how, m.score
    known = ", ".join(k for k in catalog.category_keys() if k != PROXY)
    if m.nearest is not None:
        raise InputError(f"unknown object label '{shown(label)}'; known: {known}; closest: {m.nearest} ({m.nearest_score:.2f})")
    raise InputError(f"unknown object label '{shown(label)}'; known: {known}")


@dataclass(frozen=True)
class LabelMatch:
    """How a label was resolved (:func:`resolve_or_proxy`): ``category`` (a key of ``objects.json``;
    ``"proxy"`` when nothing matched), ``how`` ("name", "synonym", "typo", "embedding", "proxy"),
    ``score`` (slips for a typo, the cosine for an embedding match, else None), ``matched`` (the name
    it matched: the synonym, the name a typo is of, or the nearest category for a proxy), ``nearest``
    / ``nearest_score`` (the embedding's closest category and its cosine, when that step ran)."""

    label: str
    category: str
    how: str
    score: float | None = None
    matched: str | None = None
    nearest: str | None = None
    nearest_score: float | None = None

    def describe(self) -> str:
        """One line for the progress output, e.g. ``"'chiar' -> chair (typo of 'chair')"``."""
        what = {
            "name": "by name", "synonym": f"synonym '{self.matched}'",
            "typo": f"typo of '{self.matched}'",
            "embedding": f"text embedding {self.score:.2f}" if self.score is not None else "text embedding",
            "proxy": "no category matches: a proxy shaped by the object's mask"
                     + (f", sized like {self.nearest}" if self.nearest else ""),
        }.get(self.how, self.how)  # fmt: skip
        return f"'{self.label}' -> {self.category} ({what})"


def resolve_or_proxy(label: str) -> LabelMatch:
    """Resolve ``label`` as :func:`resolve_label_verbose` does, then by typo, then by embedding; when
    nothing matches, ``LabelMatch(category="proxy", how="proxy")`` with the embedding's nearest
    category (None when that step is off or failed): never an error for a non-empty label."""
    text = label if isinstance(label, str) else ""
    hit = match_label(text)
    if hit is not None:
        name = catalog.normalise_label(text)
        return LabelMatch(text, hit[0], hit[1], matched=name if hit[1] == "synonym" else None)
    typo = typo_match(text)
    if typo is not None:
        return LabelMatch(text, typo[0], "typo", float(typo[2]), matched=typo[1])
    name = catalog.normalise_label(text) if text else ""
    nearest = _nearest_by_embedding(name)
    if nearest is not None:
        key, score, top = nearest
        near = [(k, float(sc)) for k, sc in top if k != PROXY]
        if key is not None:
            thr = embedding.default_threshold()
            for k, sc in near:  # the best one above the threshold that names the label's head word
                if sc >= thr and _names_head(name, k):
                    return LabelMatch(text, k, "embedding", sc, matched=k, nearest=k, nearest_score=sc)
        if near:
            return LabelMatch(text, PROXY, "proxy", matched=near[0][0], nearest=near[0][0], nearest_score=near[0][1])
    return LabelMatch(text, PROXY, "proxy")


def _names_head(label: str, key: str) -> bool:
    """For a label of several words, whether the category's key or a synonym contains its head word
    (the last one, singular): in an English compound the last word names the kind of thing and the
    others modify it, so "cricket bat" is a bat (baseball_bat, "bat"), "golf ball" a ball, but
    "banana peel" is a peel, not a banana. A one-word label always passes."""
    words = label.split()
    if len(words) < 2:
        return True
    head = words[-1]
    forms = {head, head[:-1] if head.endswith("s") else head, head[:-2] if head.endswith("es") else head}
    names = [key.replace("_", " "), *catalog.entry(key).synonyms]
    return any(forms & set(catalog.normalise_label(n).split()) for n in names)


def resolve_label(label: str) -> str:
    """Map a user / detector label to a category key (``"Tennis-Racket"`` -> ``"tennis_racket"``,
    ``"bikes"`` -> ``"bicycle"``, ``"chiar"`` -> ``"chair"`` by typo, ``"rocking chair"`` ->
    ``"chair"`` by text embedding). Raises ``InputError`` listing the known categories (and the
    closest one). See ``resolve_label_verbose``; :func:`resolve_or_proxy` never raises."""
    return resolve_label_verbose(label)[0]
