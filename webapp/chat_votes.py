"""Thumbs up/down in the Gradio chat, by answer id only, as ``POST /api/feedback`` does.

Gradio's like event carries what the browser sends: the message and its position. Anyone can
send any of it (``queue/join`` with made-up ``event_data``), so a vote names the answer it
is for by the question log's random id, which the reply carries in an HTML comment
(invisible in the chat): only a reader who got that answer knows it. Votes are counted by
the same per-address limiter as the API's.
"""

from __future__ import annotations

import re
from typing import Any

from assistant.questionlog import QuestionLog
from webapp.security import RateLimiter

_MARKER = re.compile(r"<!-- supple-answer:([0-9A-Za-z_-]{1,64}) -->")


def answer_marker(answer_id: str) -> str:
    """What a chat reply ends with so that a vote on it can name it ("" without an id)."""
    return f"<!-- supple-answer:{answer_id} -->" if answer_id else ""


def answer_id_in(value: Any) -> str | None:
    """The answer id in a liked message as Gradio hands it over (a string, or parts)."""
    found = _MARKER.findall(str(value))
    return found[-1] if len(set(found)) == 1 else None


def record_chat_vote(
    log: QuestionLog | None,
    limiter: RateLimiter | None,
    client: str | None,
    value: Any,
    liked: object,
) -> str:
    """Stores the vote; says what happened ("stored", "no id", "rate-limited", ...)."""
    if log is None:
        return "no log"
    if not isinstance(liked, bool):
        return "not a vote"
    answer_id = answer_id_in(value)
    if answer_id is None:
        return "no id"
    if limiter is not None and limiter.check(client or "unknown") is not None:
        return "rate-limited"
    return "stored" if log.feedback(answer_id, liked) else "unknown id"
