"""Follow-up questions: form the search query from the conversation, offline."""

from __future__ import annotations

from assistant.types import Turn


def search_query(question: str, history: list[Turn]) -> str:
    """The text to retrieve with. For now the question alone (history not yet used)."""
    return question
