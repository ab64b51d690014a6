"""Follow-up questions: form the search query from the conversation, offline.

A follow-up leaves out what it is about and means the earlier topic: "and how do I fix
it?" after "what causes plantar fasciitis?". It is read as one when it starts like one
("and ...", "what about ..."), points back ("it", "that"), or names no word the articles
use. Its query then carries the earlier turn's *topic*: that turn's words the articles use
that are rare in general English (wordfreq), with what was asked of it; a follow-up naming
a new topic ("and what about the gluteus maximus?") takes the earlier ask instead. A
follow-up that points back is answered from the earlier turn's article. No word here knows
an article.

Only the readers' own turns are read: the assistant's replies quote the article, and
carrying their words over would pull retrieval back to the passage already given. The one
exception is a question naming an item of the last reply by its place ("how do I do the
first one?"): that item's words are what it is about. With an
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
# A turn's topic: words the articles use that are rare in general English (Zipf below 4:
# "rotators", "plantar", "tilt", "stretches"; not "exercises", "strengthen", "hip" or "causes").
TOPIC_SPECIFICITY = 3.0


@dataclass(frozen=True)
class Resolved:
    """A user turn read in its conversation: the query, its topic and its other words."""

    query: str
    topic: tuple[str, ...]
    ask: tuple[str, ...]


def _content(text: str) -> list[str]:
    out: list[str] = []
    for w in words(text):
        if w in STOP_WORDS or w in _ANAPHORA or len(w) < 3 or w.isdigit() or w in out:
            continue
        out.append(w)
    return out


def _in_index(w: str, vocabulary: Vocabulary | None) -> bool:
    return vocabulary is None or w in vocabulary.words or stem(w) in vocabulary.stems


def topic_words(text: str, vocabulary: Vocabulary | None) -> tuple[str, ...]:
    """The words of ``text`` the articles use that are rare in general English."""
    return tuple(
        w
        for w in _content(text)
        if _in_index(w, vocabulary) and specificity(w) >= TOPIC_SPECIFICITY
    )


def points_back(question: str) -> bool:
    return bool(set(words(question)) & _ANAPHORA)


def is_follow_up(question: str, vocabulary: Vocabulary | None = None) -> bool:
    """Starts like a follow-up, points back, or names no topic of its own."""
    return bool(
        _OPENER.match(question) or points_back(question) or not topic_words(question, vocabulary)
    )


def resolve(question: str, previous: Resolved | None, vocabulary: Vocabulary | None) -> Resolved:
    topic = topic_words(question, vocabulary)
    ask = tuple(w for w in _content(question) if w not in topic)
    if previous is None or not is_follow_up(question, vocabulary):
        return Resolved(question, topic, ask)
    said = set(_content(question))
    if not topic or points_back(question):
        # "and how do I fix it?": it is the earlier topic; what is asked is asked now
        carried = tuple(w for w in previous.topic if w not in said) or tuple(
            w for w in previous.ask if w not in said
        )
        return Resolved(" ".join([question, *carried]), previous.topic, ask)
    # "and what about the gluteus maximus?": a new topic, the earlier ask
    carried = tuple(w for w in previous.ask if w not in said)
    return Resolved(" ".join([question, *carried]), topic, ask + carried)


# "the first one you mentioned", "the second exercise", "number 3": an item of the reply
_ORDINAL = re.compile(
    r"\b(first|second|third|fourth|fifth|last|1st|2nd|3rd|4th|5th) (one|exercise|stretch|"
    r"thing|step|option|item|test|move|drill|position)s?\b|\bnumber (\d)\b",
    re.I,
)
_ORDINALS = {"first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2}
_ORDINALS |= {"fourth": 3, "4th": 3, "fifth": 4, "5th": 4, "last": -1}
_ITEM_BREAK = re.compile(r"\s*(?:;|\n|\[\d+\][.;:]?)\s*")


def named_item(question: str, reply: str) -> str | None:
    """The item of the earlier reply a question names by its place ("the first one"):
    the reply's items are its lines, its ``;``-joined list items and its cited quotes."""
    m = _ORDINAL.search(question)
    if not m:
        return None
    items = [i for i in _ITEM_BREAK.split(reply) if len(i.split()) >= 2]
    if len(items) < 2:
        return None  # a reply in prose: which thing came first is not read from it
    index = int(m.group(3)) - 1 if m.group(3) else _ORDINALS[m.group(1).lower()]
    return items[index] if -len(items) <= index < len(items) else None


def resolve_history(
    question: str, history: list[Turn], vocabulary: Vocabulary | None = None
) -> tuple[Resolved, Resolved | None]:
    """The question read in its conversation, and the reader's turn before it so read.
    A question naming an item of the last reply by its place also carries that item's words
    (the one time a reply is read: the reader pointed at it)."""
    previous: Resolved | None = None
    reply = ""
    for turn in history:
        if turn.role == "user" and turn.content.strip():
            previous = resolve(turn.content, previous, vocabulary)
        elif turn.role == "assistant":
            reply = turn.content
    item = named_item(question, reply) if previous is not None and reply else None
    if item:
        topic = topic_words(item, vocabulary)
        return Resolved(f"{question} {item}", topic, tuple(_content(question))), previous
    return resolve(question, previous, vocabulary), previous


def search_query(question: str, history: list[Turn], vocabulary: Vocabulary | None = None) -> str:
    """The text to retrieve with: the question, completed from the reader's earlier turns
    when it is a follow-up (each earlier turn is itself read in its own context)."""
    return resolve_history(question, history, vocabulary)[0].query
