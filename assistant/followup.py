"""Follow-up questions: form the search query from the conversation, offline.

A follow-up leaves out what it is about and means the earlier topic: "and how do I fix
it?" after "what causes plantar fasciitis?". It is read as one when it starts like one
("and ...", "what about ..."), points back ("it", "that"), or names no word the articles
use. Its query then carries the earlier turn's *topic*: that turn's words the articles use
that are specific in general English (wordfreq), so "causes" or "really" are not carried
and the new question's own ask ("fix") leads. No word here knows an article.

Only the readers' own turns are read: the assistant's replies quote the article, and
carrying their words over would pull retrieval back to the passage already given. With an
LLM backend a condense prompt may do better; this is the offline rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.text import STOP_WORDS, Vocabulary, specificity, stem, words
from assistant.types import Turn

# English grammar, not topics: how a follow-up opens, and the words that point back.
_OPENER = re.compile(
    r"^\s*(and|also|so|then|or|but|ok(ay)?|what about|how about|what if|same for|"
    r"what else|anything else)\b",
    re.I,
)
_ANAPHORA = frozenset("that it this those them these they there its his her".split())
TOPIC_SPECIFICITY = 2.0  # Zipf frequency below 5: "plantar", "glutes", "knee"; not "causes"


@dataclass(frozen=True)
class Resolved:
    """A user turn read in its conversation: the query, and its topic words."""

    query: str
    topic: tuple[str, ...]


def topic_words(text: str, vocabulary: Vocabulary | None) -> tuple[str, ...]:
    """The words of ``text`` the articles use and that are specific in general English."""
    out: list[str] = []
    for w in words(text):
        if w in STOP_WORDS or w in _ANAPHORA or len(w) < 3 or w.isdigit():
            continue
        in_index = vocabulary is None or w in vocabulary.words or stem(w) in vocabulary.stems
        if in_index and specificity(w) >= TOPIC_SPECIFICITY and w not in out:
            out.append(w)
    return tuple(out)


def is_follow_up(question: str, vocabulary: Vocabulary | None = None) -> bool:
    """Starts like a follow-up, points back, or names no topic of its own."""
    said = set(words(question))
    return bool(
        _OPENER.match(question) or said & _ANAPHORA or not topic_words(question, vocabulary)
    )


def resolve(question: str, previous: Resolved | None, vocabulary: Vocabulary | None) -> Resolved:
    topic = topic_words(question, vocabulary)
    if previous is None or not is_follow_up(question, vocabulary):
        return Resolved(question, topic)
    carried = tuple(w for w in previous.topic if w not in topic)
    return Resolved(" ".join([question, *carried]), topic + carried)


def search_query(question: str, history: list[Turn], vocabulary: Vocabulary | None = None) -> str:
    """The text to retrieve with: the question, completed from the reader's earlier turns
    when it is a follow-up (each earlier turn is itself read in its own context)."""
    previous: Resolved | None = None
    for turn in history:
        if turn.role == "user" and turn.content.strip():
            previous = resolve(turn.content, previous, vocabulary)
    return resolve(question, previous, vocabulary).query
