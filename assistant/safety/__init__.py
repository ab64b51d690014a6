"""The safety layer, run before retrieval: red flags, clinician-only questions, hostile requests.

Red flags are reviewed data (red_flags.yaml: categories, sources, replies, patterns, the
wordings each must catch and the near-misses it must not); ``rules`` is the engine that reads
it and ``semantic`` the embedding check beside the patterns. They run on the reader's words,
never on retrieved text. ``Safety`` is built once per ``Assistant``; the module-level
``check_question`` and ``red_flag`` are the pattern-only checks for callers without a model.
docs/safety.md lists the categories, their sources and the measured figures.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.prompts import load_prompt
from assistant.safety.hostile import _CONTENT, hostile_reasons, scrub_reply, strip_hostile
from assistant.safety.rules import Category, RedFlags, default, normalise
from assistant.safety.semantic import SemanticCheck
from assistant.settings import Settings
from assistant.types import Answer, Kind, Turn
from ingest.embed import Embedder

__all__ = [
    "Safety",
    "Verdict",
    "check_question",
    "correct_typos",
    "hostile_reasons",
    "normalise",
    "red_flag",
    "scrub_reply",
    "strip_hostile",
]

CLINICIAN = "clinician"
# Earlier user turns looked at for an unresolved red flag: the last ten (a history of
# thousands of turns must not cost thousands of checks).
HISTORY_USER_TURNS = 10


@dataclass(frozen=True)
class Verdict:
    kind: Kind
    reason: str
    prompt: str  # the prompt file holding the reply
    category: str = ""  # the red-flag category id, or "clinician"


class Safety:
    """The checks one ``Assistant`` runs: patterns, and the semantic check when it has a model."""

    def __init__(
        self,
        settings: Settings | None = None,
        embedder: Embedder | None = None,
        flags: RedFlags | None = None,
    ) -> None:
        self.settings = settings
        self.flags = flags or default()
        use_semantic = embedder is not None and (settings is None or settings.red_flag_semantic)
        self.semantic = SemanticCheck(self.flags, embedder) if use_semantic and embedder else None
        self._seen: OrderedDict[str, Category | None] = OrderedDict()  # earlier turns' verdicts
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        if self.semantic is not None:
            self.semantic.warm_up()

    def red_flag(
        self, text: str, vector: Sequence[float] | np.ndarray | None = None
    ) -> Category | None:
        """The red flag ``text`` describes: patterns first, then the semantic check."""
        found = self.flags.match(text)
        if found is None and self.semantic is not None:
            found = self.semantic.match(text, vector)
        return found

    def _earlier(self, text: str) -> Category | None:
        return self._earlier_many([text])[0]

    def _earlier_many(self, texts: Sequence[str]) -> list[Category | None]:
        """``red_flag`` of earlier turns, remembered (a conversation re-sends its history);
        the semantic check embeds all new turns in one batch."""
        with self._lock:
            new = [t for t in dict.fromkeys(texts) if t not in self._seen]
        found = {t: self.flags.match(t) for t in new}
        unmatched = [t for t in new if found[t] is None]
        if unmatched and self.semantic is not None:
            found.update(zip(unmatched, self.semantic.match_many(unmatched), strict=True))
        with self._lock:
            self._seen.update(found)
            for t in texts:
                if t in self._seen:
                    self._seen.move_to_end(t)
            result = [self._seen.get(t) for t in texts]
            while len(self._seen) > 2048:
                self._seen.popitem(last=False)
        return result

    def check(
        self,
        question: str,
        turns: Sequence[Turn] = (),
        question_vector: Sequence[float] | np.ndarray | None = None,
        *,
        semantic: bool = True,
    ) -> Verdict | None:
        """``urgent`` for red flags (prompt ``urgent`` or ``emergency``), ``not_covered`` with
        the clinician reply for doses, drug choices, own diagnosis and injection or surgery
        decisions, ``not_covered`` for a message that is nothing but a hostile request; None
        to go on. A follow-up that refers back ("what exercises help with that?") to a red
        flag in the reader's previous message is urgent too. ``semantic=False`` leaves the
        semantic check to a later ``check_meaning`` (the pipeline runs it on the vector
        retrieval embeds anyway)."""
        found = self.flags.match(question)
        # a role-play clause ("pretend you are my surgeon") is stripped, not taken as the topic
        cleaned = self.flags.prepare(strip_hostile(question))
        clinician = self.flags.clinician.matches(cleaned)
        if found is None and self.semantic is not None:
            if clinician:
                # similarity does not override the clinician question itself (that reply
                # also sends the reader to a clinician), but the message's other sentences
                # are still looked at: "my leg is weaker every day ... is this normal for
                # sciatica?" is a red flag told beside a diagnosis question. Run here even
                # when ``semantic`` is False: check_meaning is never reached after a verdict.
                found = self.semantic.match(question, exclude=self._clinician_window)
            elif semantic:
                found = self.semantic.match(question, question_vector)
        reason = ""
        if found is None and self.flags.refers_back.search(normalise(question)):
            earlier = [t.content for t in turns if t.role == "user"][-1:]
            if earlier and (found := self._earlier(earlier[0])) is not None:
                reason = " (earlier message)"
        if found is not None:
            return Verdict(Kind.URGENT, found.name + reason, found.reply, found.id)
        if clinician:
            return Verdict(Kind.NOT_COVERED, "needs a clinician", CLINICIAN, CLINICIAN)
        if hostile_reasons(question) and not _CONTENT.search(strip_hostile(question)):
            return Verdict(Kind.NOT_COVERED, "hostile request only", "not_covered")
        return None

    def _clinician_window(self, window: str) -> bool:
        return self.flags.clinician.matches(window)

    def check_meaning(
        self, question: str, vector: Sequence[float] | np.ndarray | None = None
    ) -> Verdict | None:
        """The semantic check alone, for a question ``check(..., semantic=False)`` let pass.
        ``vector`` stands for the question when it is one sentence (the pipeline hands in its
        search query's vector: the question lower-cased, typo-corrected, readers' words
        mapped, which the uncased model embeds alike); longer ones embed their windows."""
        if self.semantic is None:
            return None
        found = self.semantic.match(question, vector)
        return Verdict(Kind.URGENT, found.name, found.reply, found.id) if found else None

    def unresolved(self, question: str, turns: Sequence[Turn]) -> Category | None:
        """A red flag in an earlier user turn that no later user message (nor this question)
        says has been seen to ("I went to A&E", "the doctor said it's muscular"); the last
        HISTORY_USER_TURNS user turns are looked at."""
        users = [t.content for t in turns if t.role == "user"][-HISTORY_USER_TURNS:]
        verdicts = self._earlier_many(users)
        for i in range(len(users) - 1, -1, -1):
            found = verdicts[i]
            if found is not None:
                later = [*users[i + 1 :], question]
                return None if any(self.flags.is_resolved(t) for t in later) else found
        return None

    def remind(self, answer: Answer, question: str, turns: Sequence[Turn]) -> None:
        """Puts a one-line reminder above a non-urgent reply when an earlier red flag is
        unresolved (docs/safety.md): the urgent advice stays visible in the conversation."""
        if answer.kind == Kind.URGENT or not turns or self.settings is None:
            return
        found = self.unresolved(question, turns)
        if found is None:
            return
        line = load_prompt(self.settings.prompts_dir, "urgent_reminder")
        answer.reminder = found.id
        answer.text = f"{line}\n\n{answer.text}"


_patterns_only = Safety()


def correct_typos(text: str) -> str:
    """``text`` with misspellings of red-flag words corrected (see red_flags.yaml ``typos``)."""
    return _patterns_only.flags.correct_typos(text)


def red_flag(text: str) -> str | None:
    """The name of the red flag ``text`` describes (patterns only), or None."""
    found = _patterns_only.flags.match(text)
    return found.name if found else None


def check_question(question: str, history: Sequence[Turn] = ()) -> Verdict | None:
    """``Safety.check`` with patterns only (no model loaded)."""
    return _patterns_only.check(question, history)
