"""The author's glossary at question time: which of the articles' words a reader's words
stand for. It only adds search terms (BM25) and lets the coverage check count "butt" as
held by a passage about the glutes; the reader's words are never rewritten."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from assistant.text import key_terms, normalise
from ingest.schema import glossary_from_json


@dataclass(frozen=True)
class Glossary:
    entries: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _pattern: re.Pattern[str] | None = None

    @classmethod
    def from_json(cls, text: str) -> Glossary:
        entries = {k: tuple(v) for k, v in glossary_from_json(text).items()}
        if not entries:
            return cls()
        keys = sorted(entries, key=len, reverse=True)
        pattern = re.compile(r"\b(" + "|".join(re.escape(k) for k in keys) + r")\b")
        return cls(entries, pattern)

    def matches(self, text: str) -> list[tuple[str, tuple[str, ...]]]:
        """(reader's phrase, the articles' words) for each glossary phrase in ``text``."""
        if self._pattern is None:
            return []
        found = dict.fromkeys(m.group(1) for m in self._pattern.finditer(normalise(text)))
        return [(k, self.entries[k]) for k in found]

    def expansion(self, text: str) -> str:
        """The articles' words for the readers' words in ``text``, as one string."""
        return " ".join(t for _, terms in self.matches(text) for t in terms)

    def alternatives(self, text: str) -> dict[str, set[str]]:
        """For each key term (stem) of a glossary phrase in ``text``: the stems of the
        articles' words it stands for ("butt" -> {"glute"})."""
        out: dict[str, set[str]] = {}
        for phrase, terms in self.matches(text):
            targets = {s for t in terms for s in key_terms(t)}
            for s in key_terms(phrase):
                out.setdefault(s, set()).update(targets)
        return out
