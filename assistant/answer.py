"""Answerers turn retrieved passages into a reply with ``[n]`` markers.

The extractive answerer is the offline default: it quotes the sentences and list items of
the passages that best answer the question, in the author's words, and cites each.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from assistant.cite import Draft
from assistant.text import stems
from assistant.types import Passage, Turn
from ingest.embed import Embedder

_POINTS_BACK = re.compile(r"^(this|these|it|they|that)\b|\b(this|these) (muscle|muscles)\b", re.I)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"“])")


TokenSink = Callable[[str], None]


class Answerer(Protocol):
    """Turns retrieved passages into a reply with ``[n]`` markers (``assistant/llm.py``
    chooses one by ``Settings.backend``)."""

    name: str
    streams: bool  # True when ``draft`` hands tokens to ``on_token`` as they are written

    def draft(
        self,
        question: str,
        passages: list[Passage],
        query_vector: list[float],
        key: list[str],
        *,
        query: str | None = None,
        on_token: TokenSink | None = None,
    ) -> Draft: ...

    def condense(self, question: str, turns: Sequence[Turn]) -> str | None:
        """The follow-up as a standalone search query, or None to keep the offline one."""
        ...


def units(text: str) -> list[str]:
    """A passage's quotable units: list items (lines), then sentences."""
    out: list[str] = []
    for line in text.splitlines():
        out.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return out


class UnitVectors:
    """Embeddings of passage units, computed once per passage and kept (bounded)."""

    def __init__(self, embedder: Embedder, capacity: int = 20_000) -> None:
        self.embedder = embedder
        self.capacity = capacity
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, passage: Passage, texts: list[str]) -> np.ndarray:
        key = passage.chunk_id or passage.text
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
        vectors = self.embedder.encode(texts)
        with self._lock:
            self._cache[key] = vectors
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
        return vectors

    def prefill(self, passages: list[tuple[str, str]]) -> int:
        """Encode the units of many passages, given as (chunk id, text), in one batch.

        Run at start-up so a reader's first question costs what later ones do. Returns the
        number of passages added.
        """
        with self._lock:
            todo = [(key, units(text)) for key, text in passages if key not in self._cache]
        todo = [(key, texts) for key, texts in todo[: self.capacity] if texts]
        if not todo:
            return 0
        vectors = self.embedder.encode([t for _, texts in todo for t in texts])
        with self._lock:
            start = 0
            for key, texts in todo:
                self._cache[key] = vectors[start : start + len(texts)]
                start += len(texts)
        return len(todo)


class ExtractiveAnswerer:
    """Quote the best units of the best passages; no language model.

    A unit's score is its cosine similarity to the question plus how much of the question's
    key terms it holds, each term weighted by how rare it is among the candidate units
    ("pelvic instability" counts for more than "glutes"). The best unit is quoted; another
    only when it scores close to the best *and* holds a key term the quotes so far lack, so
    a reply is not padded with loosely related lines.
    """

    name = "extractive"
    streams = False

    def __init__(
        self,
        embedder: Embedder,
        max_quotes: int = 3,
        passages_considered: int = 3,
        min_ratio: float = 0.85,
        lexical_weight: float = 0.5,
    ):
        self.vectors = UnitVectors(embedder)
        self.max_quotes = max_quotes
        self.passages_considered = passages_considered
        self.min_ratio = min_ratio
        self.lexical_weight = lexical_weight

    def _candidates(
        self, passages: list[Passage], q: np.ndarray, key: set[str]
    ) -> list[tuple[float, Passage, str, frozenset[str]]]:
        found: list[tuple[float, int, Passage, str, frozenset[str]]] = []
        for order, passage in enumerate(passages[: self.passages_considered]):
            texts = units(passage.text)
            if not texts:
                continue
            sims = self.vectors.get(passage, texts) @ q
            # a line under "Releasing Tight Fascia" is about releasing tight fascia
            heading = frozenset(stems(passage.section.rsplit(" > ", 1)[-1])) & key
            before: frozenset[str] = frozenset()
            for text, sim in zip(texts, sims, strict=True):
                own = frozenset(stems(text)) & key
                # "Weakness in this muscle ..." is about the muscle the line before names
                held = own | heading | (before if _POINTS_BACK.search(text) else frozenset())
                found.append((float(sim), order, passage, text, held))
                before = own
        df = {t: sum(t in c[4] for c in found) for t in key}
        weight = {t: math.log(1 + len(found) / (1 + df[t])) for t in key}
        total = sum(weight.values())
        scored = [
            # earlier passages ranked better by the retriever: a small preference
            (
                sim + self.lexical_weight * sum(weight[t] for t in held) / total - 0.03 * order,
                p,
                text,
                held,
            )
            if total
            else (sim - 0.03 * order, p, text, held)
            for sim, order, p, text, held in found
        ]
        return sorted(scored, key=lambda c: c[0], reverse=True)

    def condense(self, question: str, turns: Sequence[Turn]) -> str | None:
        return None  # offline: assistant/followup.py forms the query

    def draft(
        self,
        question: str,
        passages: list[Passage],
        query_vector: list[float],
        key: list[str],
        *,
        query: str | None = None,
        on_token: TokenSink | None = None,
    ) -> Draft:
        candidates = self._candidates(
            passages, np.asarray(query_vector, dtype=np.float32), set(key)
        )
        if not candidates:
            return Draft("")
        best = candidates[0][0]
        chosen: list[tuple[Passage, str]] = [(candidates[0][1], candidates[0][2])]
        covered = set(candidates[0][3])
        for score, passage, text, held in candidates[1:]:
            if len(chosen) >= self.max_quotes or score < self.min_ratio * best:
                break
            if not held - covered or any(text == t for _, t in chosen):
                continue  # adds nothing the question asked about
            chosen.append((passage, text))
            covered |= held
        parts: list[str] = []
        quotes: dict[int, tuple[Passage, str]] = {}
        for n, (passage, text) in enumerate(chosen, 1):
            quotes[n] = (passage, text)
            sentence = text.rstrip()
            end = "" if sentence[-1:] in ".!?" else "."
            parts.append(f"{sentence.rstrip('.!?')} [{n}]{end if end else sentence[-1]}")
        return Draft(" ".join(parts), quotes)
