"""The chat's and the widget's words, from the indexed articles and ``prompts/``.

Nothing here knows what the articles are about: the example questions come from the
articles' own headings and tags, the greeting from ``prompts/chat_intro.md`` and the titles,
the input's placeholder from ``prompts/chat_placeholder.md`` and the commonest tags. No
Gradio here, so the app can build the widget's page before the chat.
"""

from __future__ import annotations

import re

from assistant.catalog import ArticleInfo, read_catalog
from assistant.errors import SuppleError
from assistant.prompts import load_prompt
from assistant.settings import Settings

EXAMPLES = 3
_QUESTION_WORD = re.compile(r"\b(How|Why|What|When|Which|Who|Can|Does|Do|Is|Are|Should)\b .+")


def example_questions(catalog: list[ArticleInfo], template: str, n: int = EXAMPLES) -> list[str]:
    """Questions from the articles themselves: a heading that asks one ("...: How weak X
    cause Y") first, then the template filled with each article's tags; one article after
    another, newest first, so every article gets a turn."""
    per_article: list[list[str]] = []
    for article in catalog:
        asked = [
            m.group(0).rstrip(" ?.") + "?"
            for h in article.sections
            if (m := _QUESTION_WORD.search(h))
        ]
        tags = [template.replace("{topic}", tag) for tag in article.tags]
        per_article.append(asked + tags)
    out: list[str] = []
    for row in range(max((len(q) for q in per_article), default=0)):
        for questions in per_article:
            if row < len(questions) and questions[row] not in out:
                out.append(questions[row])
    return out[:n]


def topics(catalog: list[ArticleInfo], n: int = 4) -> list[str]:
    """The tags most articles carry (ties: in catalog order), at most ``n``."""
    counts: dict[str, int] = {}
    for article in catalog:
        for tag in article.tags:
            counts[tag] = counts.get(tag, 0) + 1
    return sorted(counts, key=lambda t: -counts[t])[:n]


def widget_copy(settings: Settings, catalog: list[ArticleInfo] | None = None) -> dict[str, str]:
    """The widget's words from the indexed articles and prompts/: its greeting (what the
    chat is, then the articles' titles), the "what I can help with" label, the input's
    placeholder (the commonest tags)."""
    if catalog is None:
        catalog = read_catalog_or_empty(settings)
    help_label = load_prompt(settings.prompts_dir, "chat_help")
    greeting = load_prompt(settings.prompts_dir, "chat_intro")
    if catalog:
        titles = "; ".join(a.title for a in catalog[:5])
        greeting += f" {help_label}: {titles}{' …' if len(catalog) > 5 else ''}."
    tags = topics(catalog)
    placeholder = (
        load_prompt(settings.prompts_dir, "chat_placeholder").replace("{topics}", ", ".join(tags))
        if tags
        else ""
    )
    return {"greeting": greeting, "help_label": help_label, "placeholder": placeholder}


def read_catalog_or_empty(settings: Settings) -> list[ArticleInfo]:
    try:
        return read_catalog(settings)
    except SuppleError:  # no index yet, or the store is away: the chat still opens
        return []
