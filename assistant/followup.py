"""Follow-up questions: form the search query from the conversation, offline.

A reader's question has a *topic* (what it is about: "the deep hip rotators") and an
*intent* (what is asked of it: "which exercises strengthen"). A follow-up leaves one of
them out and means the earlier one:

- "And what about for the gluteus maximus?" has a topic, no intent: it takes the intent of
  the question before ("which exercises strengthen") -> retrieves for the gluteus maximus.
- "What about stretches for that?" has an intent, no topic ("that"): it takes the topic of
  the question before ("hip flexors tight").

Only the readers' own turns are read: the assistant's replies quote the article, and
carrying their words over would pull retrieval back to the passage already given. With an
LLM backend a condense prompt may do better; this is the offline rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.text import GENERIC_WORDS, STOP_WORDS, normalise
from assistant.types import Turn

# Words that say what is asked of a topic rather than what the topic is.
INTENT_WORDS = frozenset(
    """exercise exercises exercising workout workouts strengthen strengthens strengthening
    strengthen stretch stretches stretching release releasing relieve relief fix fixes
    correct correcting reduce treat treatment train training help helps cause causes
    causing prevent improve loosen activate activation work rid stop
    tips advice best""".split()
)
_OPENER = re.compile(
    r"^\s*(and|also|so|then|or|but|ok(ay)?|what about|how about|what if|same for)\b", re.I
)
_ANAPHORA = frozenset("that it this those them these they there its".split())
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class Resolved:
    """A user turn read in its conversation: the query, and its topic and intent words."""

    query: str
    topic: tuple[str, ...]
    intent: tuple[str, ...]


def _split(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(topic words, intent words) of a question, in order."""
    topic: list[str] = []
    intent: list[str] = []
    for w in _WORD.findall(normalise(text)):
        if w in INTENT_WORDS:
            intent.append(w)
        elif w not in STOP_WORDS and w not in GENERIC_WORDS and w not in _ANAPHORA and len(w) > 1:
            topic.append(w)
    return tuple(dict.fromkeys(topic)), tuple(dict.fromkeys(intent))


def is_follow_up(question: str) -> bool:
    """Starts like a follow-up ("and ...", "what about ..."), points back ("that"), or
    names no topic of its own."""
    words = set(_WORD.findall(question.lower()))
    return bool(_OPENER.match(question) or words & _ANAPHORA or not _split(question)[0])


def resolve(question: str, previous: Resolved | None) -> Resolved:
    topic, intent = _split(question)
    if previous is None or not is_follow_up(question):
        return Resolved(question, topic, intent)
    parts = [question]
    if not topic or set(_WORD.findall(question.lower())) & _ANAPHORA:
        # "how do I get rid of them": "them" is the earlier topic
        topic = tuple(dict.fromkeys((*topic, *previous.topic)))
        parts.append(" ".join(previous.topic))
    if not intent:
        intent = previous.intent
        parts.append(" ".join(intent))
    return Resolved(" ".join(p for p in parts if p), topic, intent)


def search_query(question: str, history: list[Turn]) -> str:
    """The text to retrieve with: the question, completed from the reader's earlier turns
    when it is a follow-up (each earlier turn is itself read in its own context)."""
    previous: Resolved | None = None
    for turn in history:
        if turn.role == "user" and turn.content.strip():
            previous = resolve(turn.content, previous)
    return resolve(question, previous).query
