"""Answerers turn retrieved passages into a reply with ``[n]`` markers.

The extractive answerer is the offline default. It answers from ONE article: it picks the
passage that best answers (meaning, the question's specific words, and the form of answer
asked for), then quotes what the question asks of it, in the author's words:

- how long / how often / how many: the sentence holding the number;
- which / list / what are: the list's items, with their lead-in, and the sibling items of
  the same list that were retrieved;
- how do I / what should I do: the steps, whole;
- otherwise the passage, or the lines of it nearest the question when it is long.

A reply stays short (``max_words``, about 100 words before the sources).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from assistant.cite import Draft
from assistant.coverage import passage_stems
from assistant.intent import Form, quantity_fit, question_form
from assistant.text import stem, weighted_terms, words
from assistant.types import Passage, Turn
from ingest.embed import Embedder

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"“])")
_NUMBERS = re.compile(r"\d+(?:\.\d+)?")
_POINTS_BACK = re.compile(r"^(this|these|it|they|that|those|then)\b", re.I)

TokenSink = Callable[[str], None]
FITTING_NUMBER = 0.7  # intent.quantity_fit of a line holding a number of the kind asked
# A quantity's passage is quoted whole only up to this; longer, the sentence holding the number
# (a "how long" answer is a line, though the budget for other questions is 100 words)
QUANTITY_WHOLE_WORDS = 80
LIST_HEADING_SPECIFICITY = 2.0  # Zipf 5: a heading naming "couch", "mcgill", "faber"


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


@dataclass(frozen=True)
class Unit:
    """A quotable piece of a passage (a line, or a sentence of one) and where it stands."""

    start: int
    end: int
    text: str


def split_units(text: str) -> list[Unit]:
    """A passage's quotable units with their offsets: lines, then sentences."""
    out: list[Unit] = []
    offset = 0
    for line in text.split("\n"):
        pos = 0
        for piece in _SENTENCE_END.split(line):
            at = line.find(piece, pos)
            pos = at + len(piece)
            if piece.strip():
                lead = len(piece) - len(piece.lstrip())
                s = offset + at + lead
                out.append(Unit(s, s + len(piece.strip()), piece.strip()))
        offset += len(line) + 1
    return out


def units(text: str) -> list[str]:
    """A passage's quotable units: list items (lines), then sentences."""
    return [u.text for u in split_units(text)]


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
        """Encode the units of many passages, given as (chunk id, text), in one batch, so a
        reader's first question costs what later ones do. Returns the passages added."""
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


def best_line_cosine(
    vectors: UnitVectors, passages: Sequence[Passage], query_vector: Sequence[float], top: int = 3
) -> float:
    """The best cosine between the question and any one line of the ``top`` passages: a
    reader's paraphrase of one sentence scores high here when its words are not the
    author's (the coverage decision's ``best_line_cosine``)."""
    q = np.asarray(query_vector, dtype=np.float32)
    best = 0.0
    for p in passages[:top]:
        texts = units(p.text) or [p.text]
        best = max(best, float(np.max(vectors.get(p, texts) @ q)))
    return best


def _word_count(text: str) -> int:
    return len(text.split())


def _leaf(section: str) -> str:
    return section.rsplit(" > ", 1)[-1].strip()


def _parent(section: str) -> str:
    return section.rsplit(" > ", 1)[0] if " > " in section else ""


@dataclass(frozen=True)
class Scored:
    passage: Passage
    units: list[Unit]
    unit_scores: np.ndarray  # per unit: cosine to the question plus its share of the terms
    score: float
    fits: tuple[float, ...] = ()  # per unit, for a quantity question: intent.quantity_fit


class ExtractiveAnswerer:
    """Quote the passage that answers, shaped by the form of the question; no model."""

    name = "extractive"
    streams = False

    def __init__(
        self,
        embedder: Embedder,
        max_quotes: int = 3,
        passages_considered: int = 5,
        max_words: int = 100,
        lexical_weight: float = 0.3,
        second_margin: float = 0.2,
        second_budget: float = 1.25,
        list_weight: float = 0.1,
        number_weight: float = 0.4,
    ):
        self.number_weight = number_weight
        self.second_margin = second_margin
        self.second_budget = second_budget
        self.list_weight = list_weight

        self.vectors = UnitVectors(embedder)
        self.max_quotes = max_quotes
        self.passages_considered = passages_considered
        self.max_words = max_words
        self.lexical_weight = lexical_weight

    def condense(self, question: str, turns: Sequence[Turn]) -> str | None:
        return None  # offline: assistant/followup.py forms the query

    def _score(
        self,
        p: Passage,
        rank: int,
        q: np.ndarray,
        weights: dict[str, float],
        form: Form,
        question: str,
    ) -> Scored:
        found = split_units(p.text)
        texts = [u.text for u in found] or [p.text]
        sims = self.vectors.get(p, texts) @ q
        total = sum(weights.values()) or 1.0
        held = passage_stems(p)
        share = sum(w for t, w in weights.items() if t in held) / total
        heading = {stem(w) for w in words(p.section)}
        per_unit = np.array(
            [
                sum(w for t, w in weights.items() if t in {stem(x) for x in words(u)} | heading)
                / total
                for u in texts
            ],
            dtype=np.float32,
        )
        unit_scores = sims + self.lexical_weight * per_unit
        bonus = 0.0
        asked_numbers = set(_NUMBERS.findall(question))
        if asked_numbers:
            # the question's own numbers ("at 45 degrees", "in week 3"): the line that holds
            # them answers it, not its neighbour about 15 degrees (BM25 and the terms drop digits)
            hold = np.array(
                [len(asked_numbers & set(_NUMBERS.findall(u))) for u in texts], dtype=np.float32
            ) / len(asked_numbers)
            unit_scores = unit_scores + self.number_weight * hold
            bonus += 0.5 * self.number_weight * float(hold.max())
        if form is Form.QUANTITY:
            fit = np.array([quantity_fit(question, u) for u in texts], dtype=np.float32)
            unit_scores = unit_scores + 0.3 * fit
            bonus = 0.15 * float(fit.max())
        elif form in (Form.LIST, Form.STEPS) and _parent(p.section):
            # an item of a list whose heading names what was asked ("The Big Three > ...")
            parent = {stem(w) for w in words(_parent(p.section))}
            bonus = 0.15 * sum(w for t, w in weights.items() if t in parent) / total
        if form is Form.LIST and p.text.count("\n") >= 2:
            bonus += self.list_weight  # a list answers "which ...", prose around it does not
        score = 0.6 * p.score + 0.4 * float(np.max(sims)) + self.lexical_weight * share
        fits = tuple(float(f) for f in fit) if form is Form.QUANTITY else ()
        return Scored(p, found, unit_scores, score + bonus - 0.01 * rank, fits)

    def _span(self, s: Scored, form: Form) -> tuple[int, int]:
        """The offsets of what to quote from one passage: all of it when short (and for
        lists and steps), else the best unit widened by its neighbours up to the budget."""
        text = s.passage.text
        quantity = form is Form.QUANTITY and bool(s.fits)
        whole = QUANTITY_WHOLE_WORDS if quantity else self.max_words
        if not s.units or _word_count(text) <= whole:
            return 0, len(text)
        if form in (Form.LIST, Form.STEPS) and _word_count(text) <= 1.5 * self.max_words:
            return 0, len(text)
        best = int(np.argmax(s.unit_scores))
        if quantity:
            return self._quantity_span(s, best)
        lo = hi = best
        budget = self.max_words
        count = _word_count(s.units[best].text)
        while True:
            grown = False
            for j in (hi + 1, lo - 1):
                if 0 <= j < len(s.units) and count + _word_count(s.units[j].text) <= budget:
                    count += _word_count(s.units[j].text)
                    lo, hi = min(lo, j), max(hi, j)
                    grown = True
                    break
            if not grown:
                break
        return s.units[lo].start, s.units[hi].end

    def _quantity_span(self, s: Scored, best: int) -> tuple[int, int]:
        """For "how long / how often / how many": the line holding a number of the kind
        asked, though a line without one is closer to the question (it leads in, when it is
        the line just before); then the lines right after it that hold numbers too ("Squeeze
        for 5 seconds, then relax. Repeat 10 times."), within half the word budget."""
        fits, units_ = s.fits, s.units
        top = max(fits)
        lead = best
        if fits[best] < top and top > 0:
            floor = FITTING_NUMBER if top >= FITTING_NUMBER else top
            if best + 1 < len(fits) and fits[best + 1] >= floor:
                best += 1  # the line right after the one closest to the question
            else:
                best = max(
                    (i for i, f in enumerate(fits) if f >= floor), key=lambda i: s.unit_scores[i]
                )
        lo = (
            best - 1
            if best and (lead == best - 1 or _POINTS_BACK.match(units_[best].text))
            else best
        )
        hi = best
        count = sum(_word_count(u.text) for u in units_[lo : hi + 1])
        budget = self.max_words // 2
        while hi + 1 < len(units_) and fits[hi + 1] > 0:
            more = _word_count(units_[hi + 1].text)
            if count + more > budget:
                break
            hi, count = hi + 1, count + more
        if lo < best and count > budget:  # the lead-in only while the budget allows
            lo = best
        return units_[lo].start, units_[hi].end

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
        if not passages:
            return Draft("")
        asked = query or question
        form = question_form(question)
        weights = {t: 0.25 + w for t, w in weighted_terms(asked).items()}
        q = np.asarray(query_vector, dtype=np.float32)
        scored = [
            self._score(p, r, q, weights, form, question)
            for r, p in enumerate(passages[: self.passages_considered])
        ]
        primary = max(scored, key=lambda s: s.score)
        chosen = [primary]
        seconds: list[Scored] = []
        parent = _parent(primary.passage.section)
        # a list's items: the primary's siblings, or its children when it heads the list,
        # when the list's heading names something specific the question asks about
        family = {h for h in (parent, primary.passage.section) if h and self._names(h, weights)}
        if form in (Form.LIST, Form.STEPS) and not family and self._list_retrieved(primary, scored):
            family = {parent}
        if form in (Form.LIST, Form.STEPS) and family:
            # the other items of the same list (retrieved, or added as context), in order,
            # after the list's own lead-in passage when there is one
            seen = {primary.passage.chunk_id}
            for r, p in enumerate(passages):
                if (
                    p.chunk_id not in seen
                    and p.article == primary.passage.article
                    and (_parent(p.section) in family or (parent and p.section == parent))
                ):
                    seen.add(p.chunk_id)
                    chosen.append(self._score(p, r, q, weights, form, question))
            chosen.sort(key=lambda s: s.passage.position)
        elif form is not Form.STEPS:
            seconds = self._seconds(primary, scored, form, question)
            chosen += seconds
        parts: list[str] = []
        quotes: dict[int, tuple[Passage, str]] = {}
        used = 0
        budget = self.max_words * (
            self.second_budget if seconds else 1.6 if len(chosen) > 1 else 1.0
        )
        for s in chosen:
            if s is primary:
                start, end = self._span(s, form)
            elif any(s is x for x in seconds):
                start, end = self._best(s)
            else:
                start, end = self._first(s)
            quoted = s.passage.text[start:end].strip()
            words_ = _word_count(quoted)
            if not quoted or (s is not primary and used + words_ > budget):
                continue
            used += words_
            n = len(quotes) + 1
            quotes[n] = (s.passage, quoted)
            parts.append(self._render(s.passage, quoted, n, whole=start == 0))
        return Draft(" ".join(parts), quotes)

    def _seconds(
        self, primary: Scored, scored: list[Scored], form: Form, question: str
    ) -> list[Scored]:
        """The same article's next-best passages, close behind the primary: their best
        lines fill what the budget leaves (the number asked for is often in the step beside
        the one that matched best). For a quantity, only lines holding one."""
        near = [
            s
            for s in scored
            if s is not primary
            and s.passage.article == primary.passage.article
            and s.score >= primary.score - self.second_margin
            and (
                form is not Form.QUANTITY
                or quantity_fit(question, self._best_text(s)) >= FITTING_NUMBER
            )
        ]
        return sorted(near, key=lambda s: -s.score)[: self.max_quotes - 1]

    @staticmethod
    def _best_text(s: Scored) -> str:
        """A passage's best-scoring line (the passage itself when it has none)."""
        return s.units[int(np.argmax(s.unit_scores))].text if s.units else s.passage.text

    def _best(self, s: Scored) -> tuple[int, int]:
        """A second passage's best line (for a number: the sentence holding it); a short
        passage whole."""
        if not s.units or _word_count(s.passage.text) <= self.max_words // 3:
            return 0, len(s.passage.text)
        best = int(np.argmax(s.unit_scores))
        return s.units[best].start, s.units[best].end

    @staticmethod
    def _list_retrieved(primary: Scored, scored: list[Scored]) -> bool:
        """Two or more of the question's best passages are items of the primary's list (its
        article, its parent heading): when no heading names what was asked, the list is the
        answer, not the one item that scored best."""
        parent = _parent(primary.passage.section)
        article = primary.passage.article
        items = sum(
            s.passage.article == article and _parent(s.passage.section) == parent for s in scored
        )
        return bool(parent) and items >= 2

    @staticmethod
    def _names(heading: str, weights: dict[str, float]) -> bool:
        """The heading holds one of the question's specific terms (Zipf below 4)."""
        held = {stem(w) for w in words(heading)}
        return any(w >= LIST_HEADING_SPECIFICITY + 0.25 and t in held for t, w in weights.items())

    @staticmethod
    def _first(s: Scored) -> tuple[int, int]:
        """A list item beside the best one: its first line or sentence."""
        if not s.units:
            return 0, len(s.passage.text)
        return s.units[0].start, s.units[0].end

    @staticmethod
    def _render(passage: Passage, quoted: str, n: int, whole: bool) -> str:
        """``Lead-in: line; line [n].`` A short section name leads a quote that begins its
        passage (a list item's bold lead-in is its section's last part)."""
        lines = [ln.strip().rstrip(".;:") for ln in quoted.split("\n") if ln.strip()]
        body = "; ".join(lines)
        lead = _leaf(passage.section)
        if whole and lead and _word_count(lead) <= 8 and lead.lower() not in body.lower():
            body = f"{lead.rstrip(':')}: {body}"
        end = quoted.rstrip()[-1:]
        stop = end if end in ".!?" else "."
        return f"{body.rstrip('.!?')} [{n}]{stop}"
