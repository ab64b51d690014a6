"""The semantic red-flag check: catches wordings no pattern foresaw.

The message's windows (sentences, pairs of neighbouring sentences) are embedded with the
project's Embedder and compared with the example wordings of red_flags.yaml (the positives)
and with its near-misses (everyday questions sharing their words, the negatives). A window
is a red flag when its nearest example is at least ``threshold`` similar **and** at least
``margin`` closer than its nearest near-miss: a nearest-neighbour rule with the near-misses
as counter-examples, so "numb on a bike saddle" lands by its twin, not by the saddle-numbness
examples. Threshold and margin are calibrated (``calibrate``; ``python -m assistant.safety
calibrate``) and stored in the data file; docs/safety.md has the figures.

The anchors (about 800 texts) are read from ``red_flags.vectors.npz`` beside the data file,
written by ``python -m assistant.safety vectors``: embedding them at start-up cost 6-20 s of
the app's cold start. The file holds a digest of the texts and the model's stamp; when the
data file has changed since (or another model is used) they are embedded once per process
instead and a warning names the command. A one-sentence question costs one encode of one
text, or none when the caller hands its vector in.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.safety.rules import DATA_FILE, Category, RedFlags, sentences, windows
from ingest.embed import Embedder

log = logging.getLogger(__name__)

VECTORS_FILE = DATA_FILE.with_name("red_flags.vectors.npz")
SELF = 0.9999  # similarity of a text with itself: masked in leave-one-out scoring

# Most windows embedded for one message: a 4,000-character message has ~40 sentences;
# beyond this only sentences (no pairs) are embedded.
MAX_WINDOWS = 48
MIN_WORDS = 4


@dataclass(frozen=True)
class Anchors:
    positives: np.ndarray  # (n, d) example wordings
    categories: tuple[int, ...]  # index into RedFlags.categories for each positive
    negatives: np.ndarray  # (m, d) near-misses


_cache: dict[tuple[int, str], Anchors] = {}
_lock = threading.Lock()


def symptom_windows(category: Category, example: str, flags: RedFlags) -> list[str]:
    """The sentences of an example that carry its red flag (a chatty example's "how many
    bridges should I do?" must not become a red-flag anchor); the whole text if none does."""
    parts = sentences(flags.prepare(example))
    found = [w for w in parts if category.matches(w)]
    found = found or [w for w in windows(parts)[len(parts) :] if category.matches(w)]
    return found or [flags.prepare(example)]


@dataclass(frozen=True)
class AnchorTexts:
    positives: list[tuple[int, str]]  # (category index, window) of each example wording
    negatives: list[str]  # near-misses, and the clinician wordings

    def flat(self) -> list[str]:
        """Every text in the order they are embedded and stored: positives, then negatives."""
        return [w for _, w in self.positives] + self.negatives

    def digest(self, model_stamp: str) -> str:
        """Names these texts embedded by that model: a stored file is used only if it matches."""
        blob = json.dumps([model_stamp, self.positives, self.negatives], ensure_ascii=False)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def anchor_texts(flags: RedFlags) -> AnchorTexts:
    pos = [
        (i, w)
        for i, c in enumerate(flags.categories)
        for e in c.examples
        for w in symptom_windows(c, e, flags)
    ]
    neg = [flags.prepare(n) for c in flags.categories for n in c.near_misses]
    neg += [flags.prepare(n) for n in (*flags.clinician.near_misses, *flags.clinician.examples)]
    return AnchorTexts(pos, neg)


def write_vectors(flags: RedFlags, embedder: Embedder, path: Path = VECTORS_FILE) -> int:
    """Embed the file's wordings and store them with their digest; the rows written."""
    texts = anchor_texts(flags)
    vectors = embedder.encode(texts.flat())
    np.savez(path, digest=np.array(texts.digest(embedder.stamp)), vectors=vectors)
    return len(vectors)


def _stored(path: Path, digest: str, rows: int) -> np.ndarray | None:
    try:
        with np.load(path) as held:
            if str(held["digest"]) == digest and held["vectors"].shape[0] == rows:
                return np.asarray(held["vectors"], dtype=np.float32)
    except (OSError, KeyError, ValueError):
        pass
    return None


def anchors(flags: RedFlags, embedder: Embedder, stored: Path = VECTORS_FILE) -> Anchors:
    """The file's wordings embedded: read from ``stored`` when it matches, else embedded
    once per process and file."""
    key = (id(flags), embedder.model_path)
    with _lock:
        if key not in _cache:
            texts = anchor_texts(flags)
            rows = len(texts.positives) + len(texts.negatives)
            vectors = _stored(stored, texts.digest(embedder.stamp), rows)
            if vectors is None:
                if flags.source == DATA_FILE:
                    log.warning(
                        "%s is out of date for red_flags.yaml: embedding its %d wordings now "
                        "(run `python -m assistant.safety vectors` to store them)",
                        stored.name,
                        rows,
                    )
                vectors = embedder.encode(texts.flat())
            n = len(texts.positives)
            _cache[key] = Anchors(
                positives=vectors[:n],
                categories=tuple(i for i, _ in texts.positives),
                negatives=vectors[n:],
            )
        return _cache[key]


def probe_texts(text: str, flags: RedFlags) -> list[str]:
    """The windows of ``text`` that are embedded (see MAX_WINDOWS): a fragment of fewer
    than MIN_WORDS words ("back pain.") says too little to compare, unless it is all there is."""
    parts = sentences(flags.prepare(text))
    kept = [p for p in parts if len(p.split()) >= MIN_WORDS] or parts[:1]
    both = windows(parts)
    both = kept + [w for w in both[len(parts) :]]
    return both if len(both) <= MAX_WINDOWS else kept


@dataclass(frozen=True)
class Scores:
    positive: np.ndarray  # best similarity with an example, per window
    category: np.ndarray  # which category that example belongs to
    negative: np.ndarray  # best similarity with a near-miss, per window


def score(vectors: np.ndarray, found: Anchors, *, leave_one_out: bool = False) -> Scores:
    pos = vectors @ found.positives.T
    neg = vectors @ found.negatives.T
    if leave_one_out:  # a wording is not its own evidence (calibration and tests)
        pos[pos >= SELF] = -1.0
        neg[neg >= SELF] = -1.0
    best = pos.argmax(axis=1)
    cats = np.asarray(found.categories)[best]
    return Scores(pos.max(axis=1), cats, neg.max(axis=1) if neg.size else np.zeros(len(pos)))


def flagged(scores: Scores, threshold: float, margin: float) -> np.ndarray:
    return (scores.positive >= threshold) & (scores.positive - scores.negative >= margin)


class SemanticCheck:
    """Nearest-neighbour red-flag check over the data file's wordings."""

    def __init__(
        self,
        flags: RedFlags,
        embedder: Embedder,
        threshold: float | None = None,
        margin: float | None = None,
    ) -> None:
        self.flags = flags
        self.embedder = embedder
        self.threshold = flags.semantic.get("threshold", 0.8) if threshold is None else threshold
        self.margin = flags.semantic.get("margin", 0.05) if margin is None else margin

    def warm_up(self) -> None:
        anchors(self.flags, self.embedder)

    def match(
        self,
        text: str,
        vector: Sequence[float] | np.ndarray | None = None,
        *,
        leave_one_out: bool = False,
        exclude: Callable[[str], bool] | None = None,
    ) -> Category | None:
        """The category of the first window that is a red flag, or None. Windows ``exclude``
        holds in are not looked at (nor embedded): a clinician question's own sentence."""
        texts = probe_texts(text, self.flags)
        if exclude is not None:
            kept = [t for t in texts if not exclude(t)]
            vector = vector if kept == texts else None
            texts = kept
        if not texts:
            return None
        if vector is not None and len(texts) == 1:
            vectors = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        else:
            vectors = self.embedder.encode(texts)
        return self.match_vectors(vectors, texts, leave_one_out=leave_one_out, message=text)

    def match_many(self, texts: Sequence[str]) -> list[Category | None]:
        """``match`` for several messages, their windows embedded in one batch."""
        windows_of = [probe_texts(t, self.flags) for t in texts]
        flat = [w for ws in windows_of for w in ws]
        vectors = self.embedder.encode(flat) if flat else np.zeros((0, 384), dtype=np.float32)
        found: list[Category | None] = []
        start = 0
        for t, ws in zip(texts, windows_of, strict=True):
            found.append(
                self.match_vectors(vectors[start : start + len(ws)], ws, message=t) if ws else None
            )
            start += len(ws)
        return found

    def match_vectors(
        self,
        vectors: np.ndarray,
        texts: Sequence[str],
        *,
        leave_one_out: bool = False,
        message: str | None = None,
    ) -> Category | None:
        """Like ``match``, for the windows ``texts`` already embedded as ``vectors``. A window
        that asks about a condition, is settled (by its words or a neighbour's, when the
        ``message`` they come from is given) or carries reassurance ("getting better each
        day", "always has been") is not flagged on similarity alone."""
        scores = score(vectors, anchors(self.flags, self.embedder), leave_one_out=leave_one_out)
        cats = self.flags.categories
        context = None
        if message is not None:
            context = self.flags.context(sentences(self.flags.prepare(message)))
        allowed = np.array(
            [
                not self.flags.vetoes_semantic(t, cats[int(c)], context)
                for t, c in zip(texts, scores.category, strict=True)
            ],
            dtype=bool,
        )
        hits = np.flatnonzero(flagged(scores, self.threshold, self.margin) & allowed)
        if not hits.size:
            return None
        best = hits[scores.positive[hits].argmax()]
        return self.flags.categories[int(scores.category[best])]
