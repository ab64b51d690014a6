"""Answerers turn retrieved passages into a reply with ``[n]`` markers.

The extractive answerer is the offline default: it quotes the sentences and list items of
the passages that best answer the question, in the author's words, and cites each.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Protocol

import numpy as np

from assistant.cite import Draft
from assistant.text import stems
from assistant.types import Passage
from ingest.embed import Embedder

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"“])")


class Answerer(Protocol):
    name: str

    def draft(
        self, question: str, passages: list[Passage], query_vector: list[float], key: list[str]
    ) -> Draft: ...


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


class ExtractiveAnswerer:
    """Quote the best units of the best passages; no language model."""

    name = "extractive"

    def __init__(self, embedder: Embedder, max_quotes: int = 3, passages_considered: int = 3):
        self.vectors = UnitVectors(embedder)
        self.max_quotes = max_quotes
        self.passages_considered = passages_considered

    def _score(self, unit_stems: set[str], similarity: float, key: list[str]) -> float:
        overlap = len(unit_stems & set(key)) / len(key) if key else 0.0
        return float(similarity) + 0.5 * overlap

    def draft(
        self, question: str, passages: list[Passage], query_vector: list[float], key: list[str]
    ) -> Draft:
        q = np.asarray(query_vector, dtype=np.float32)
        candidates: list[tuple[float, int, Passage, str]] = []
        for order, passage in enumerate(passages[: self.passages_considered]):
            texts = units(passage.text)
            if not texts:
                continue
            sims = self.vectors.get(passage, texts) @ q
            for text, sim in zip(texts, sims, strict=True):
                score = self._score(set(stems(text)), float(sim), key)
                # earlier passages ranked better by the retriever: a small preference
                candidates.append((score - 0.03 * order, order, passage, text))
        if not candidates:
            return Draft("")
        candidates.sort(key=lambda c: c[0], reverse=True)
        best = candidates[0][0]
        chosen: list[tuple[Passage, str]] = []
        for score, _, passage, text in candidates:
            if len(chosen) >= self.max_quotes or score < 0.8 * best:
                break
            if all(text != t for _, t in chosen):
                chosen.append((passage, text))
        # Read in the article's order when quotes come from one passage.
        parts: list[str] = []
        quotes: dict[int, tuple[Passage, str]] = {}
        for n, (passage, text) in enumerate(chosen, 1):
            quotes[n] = (passage, text)
            sentence = text.rstrip()
            end = "" if sentence[-1:] in ".!?" else "."
            parts.append(f"{sentence.rstrip('.!?')} [{n}]{end if end else sentence[-1]}")
        return Draft(" ".join(parts), quotes)
