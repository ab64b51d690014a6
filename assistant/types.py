"""The nouns of an answer: passages retrieved, citations made, the Answer returned."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    ANSWER = "answer"
    NOT_COVERED = "not_covered"
    URGENT = "urgent"


@dataclass(frozen=True)
class Turn:
    """One earlier message of the conversation."""

    role: str  # "user" or "assistant"
    content: str


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk, ranked; ``score`` is the retriever's relevance (higher is better)."""

    rank: int
    article: str
    title: str
    section: str
    text: str
    score: float
    url: str = ""
    chunk_id: str = ""
    position: int = -1  # order of the passage in its article (-1: unknown)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "article": self.article,
            "title": self.title,
            "section": self.section,
            "text": self.text,
            "score": round(self.score, 4),
            "url": self.url,
        }


@dataclass(frozen=True)
class Citation:
    """What ``[n]`` in the reply points to: the quoted words and where they stand."""

    n: int
    article: str
    title: str
    section: str
    text: str
    url: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Answer:
    kind: Kind
    text: str
    disclaimer: str
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    backend: str = "extractive"
    latency_ms: float = 0.0
    note: str = ""  # e.g. why the LLM backend fell back to extractive
    id: str = ""  # the question log's answer id (for thumbs up/down) when the ask was logged
    safety: str = ""  # the red-flag category id, or "clinician", when the safety layer replied
    reminder: str = ""  # the earlier, unresolved red flag a reminder line was added for

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": str(self.kind),
            "text": self.text,
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "disclaimer": self.disclaimer,
            "backend": self.backend,
            "latency_ms": round(self.latency_ms, 1),
        }
        if self.note:
            out["note"] = self.note
        if self.id:
            out["id"] = self.id
        if self.safety:
            out["safety"] = self.safety
        if self.reminder:
            out["reminder"] = self.reminder
        return out
