"""The Gradio chat at ``/``: how a reply reads, and the page around the conversation.

A reply is Markdown (Gradio renders it and sanitizes any HTML): the answer first, an urgent
reply marked as such, then the sources as compact cards in a collapsible block (title,
section, the quote, a link that opens the article at the quoted words), then the disclaimer.
A question the articles do not cover ends with links to the 2-3 closest articles.
Every reader or article text is escaped first, so it shows as text and never runs as HTML.

The page fills the window (the conversation grows, the question box stays at the bottom);
the greeting, the example questions and "what I can help with" come from the indexed
articles (``assistant.catalog``) and the files in ``prompts/``, read when the chat is built.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.catalog import SECTION_SEPARATOR, ArticleInfo, article_href
from assistant.errors import SuppleError
from assistant.pipeline import Assistant
from assistant.prompts import load_prompt
from assistant.types import Answer, Citation, Kind, Passage
from webapp.chat_votes import answer_marker, record_chat_vote
from webapp.security import RateLimiter, markdown_link_url
from webapp.words import example_questions, read_catalog_or_empty, widget_copy

TITLE = "Supple — ask the articles"
# Chat replies served at once (Gradio's default is 1: readers queue one behind another).
# Measured with 50 readers on 2 cores, docs/reliability.md.
CHAT_CONCURRENCY = 4
CSS = Path(__file__).resolve().parent / "static" / "chat.css"
# Scrolls a new question to the top of the conversation, its reply growing below it.
SCROLL_JS = Path(__file__).resolve().parent / "static" / "chat.js"
CLOSEST_ARTICLES = 3  # links under a "not covered" reply


def _escape_md(text: str) -> str:
    """Reader- or article-supplied text shown as text, never run as HTML."""
    return html.escape(text, quote=False)


def _link(text: str, href: str) -> str:
    """A Markdown link whose text cannot close it early and whose URL cannot break out."""
    label = re.sub(r"([\[\]\\])", r"\\\1", _escape_md(text))
    return f"[{label}](<{href.replace('<', '%3C').replace('>', '%3E')}>)"


def source_card(citation: Citation) -> str:
    """One source, compact: its number, the article's title as a link to the quoted words,
    the section it stands in (its innermost heading), the quote."""
    # only http(s) and the app's own /articles links (a javascript: url gives no link)
    href = citation.url if citation.url.startswith("/") else markdown_link_url(citation.url)
    name = _link(citation.title, href) if href else _escape_md(citation.title)
    section = citation.section.split(SECTION_SEPARATOR)[-1] if citation.section else ""
    where = f" · _{_escape_md(section)}_" if section else ""
    return f"**[{citation.n}]** {name}{where}\n> “{_escape_md(citation.text)}”"


def closest_articles(passages: list[Passage], public_url: str = "") -> list[tuple[str, str]]:
    """(title, href) of the distinct articles of the retrieved passages, best first."""
    seen: dict[str, tuple[str, str]] = {}
    for p in passages:
        if p.article and p.article not in seen:
            seen[p.article] = (p.title or p.article, article_href(p.article, p.url, public_url))
    return list(seen.values())[:CLOSEST_ARTICLES]


def render_answer(answer: Answer, public_url: str = "", help_label: str = "") -> str:
    """The chat message: the reply, the source cards, the disclaimer."""
    text = _escape_md(answer.text)
    if answer.kind == Kind.URGENT:  # first, and unlike any other reply (chat.css)
        text = f'<div class="supple-urgent">\n\n⚠️ **{text}**\n\n</div>'
    parts = [text]
    if answer.note:
        parts.append(f"_{_escape_md(answer.note)}_")
    if answer.citations:
        cards = "\n\n".join(source_card(c) for c in answer.citations)
        parts.append(
            f'<details class="supple-sources">\n<summary>Sources ({len(answer.citations)})'
            f"</summary>\n\n{cards}\n\n</details>"
        )
    if answer.kind == Kind.NOT_COVERED:
        closest = closest_articles(answer.passages, public_url)
        if closest:
            links = "\n".join(f"- {_link(title, href)}" for title, href in closest)
            parts.append(f"**{_escape_md(help_label or 'What I can help with')}**\n\n{links}")
    # the answer id, invisible, so a thumbs up/down names its answer (webapp/chat_votes.py)
    parts.append(f"<sub>{_escape_md(answer.disclaimer)}</sub>{answer_marker(answer.id)}")
    return "\n\n".join(parts)


def intro(catalog: list[ArticleInfo], greeting: str, help_label: str, public_url: str) -> str:
    """What the empty chat shows: the greeting and the indexed articles, as links."""
    lines = [_escape_md(greeting)]
    if catalog:
        listed = "\n".join(
            f"- {_link(a.title, article_href(a.slug, a.url, public_url))}" for a in catalog[:8]
        )
        more = f"\n- … and {len(catalog) - 8} more" if len(catalog) > 8 else ""
        lines.append(f"{_escape_md(help_label)}:\n\n{listed}{more}")
    return "\n\n".join(lines)


_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")


def as_typed(text: str) -> str:
    """A reader's message for the Markdown renderer, so it shows exactly as typed: HTML
    escaped, Markdown punctuation backslash-escaped, so nothing in it becomes markup."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", _escape_md(text))


def answered_examples(assistant: Assistant, candidates: list[str], n: int = 3) -> list[str]:
    """The first ``n`` candidate examples the assistant answers with a citation: an example
    a reader clicks must not come back "not covered" (a few asks at start-up, unlogged)."""
    out: list[str] = []
    for question in candidates:
        try:
            answer = assistant.ask(question, log=False)
        except SuppleError:
            continue
        if answer.kind == Kind.ANSWER and answer.citations:
            out.append(question)
        if len(out) == n:
            break
    return out or candidates[:n]


def build_chat(
    assistant: Assistant,
    limiter: RateLimiter | None = None,
    vote_limiter: RateLimiter | None = None,
) -> gr.Blocks:
    """The chat page. Wired by hand on ``gr.Chatbot`` (not ``gr.ChatInterface``, which shows
    the reader's message as Markdown with HTML: an ``<img>`` typed by a reader vanished from
    the bubble) so the question shows exactly as typed, and the conversation the assistant
    sees is the plain turns (questions, answers' text), kept beside the rendered messages."""
    settings = assistant.settings
    public_url = settings.public_url
    catalog = read_catalog_or_empty(settings)
    help_label = load_prompt(settings.prompts_dir, "chat_help")
    greeting = load_prompt(settings.prompts_dir, "chat_intro")
    disclaimer = load_prompt(settings.prompts_dir, "disclaimer")

    def respond(
        message: str, turns: list[dict[str, str]], request: gr.Request | None
    ) -> Iterator[tuple[str, str]]:
        """(the reply as Markdown, its plain text for the history), as the reply grows."""
        client = getattr(getattr(request, "client", None), "host", None)
        wait = limiter.check(client) if limiter and client else None
        if wait is not None:  # the same per-reader caps as the HTTP API
            line = f"⚠️ Too many questions from your address; please try again in {wait} seconds."
            yield line, line
            return
        try:
            text = ""
            for part in assistant.stream(message, turns):
                if isinstance(part, Answer):
                    yield render_answer(part, public_url, help_label), part.text
                else:
                    text += part
                    yield _escape_md(text), text
        except SuppleError as error:
            yield f"⚠️ {_escape_md(str(error))}", str(error)

    def take_question(message: str) -> tuple[str, str]:
        return "", message  # empties the box; the question goes on to ``add_question``

    def add_question(
        question: str, messages: list[Any], turns: list[dict[str, str]]
    ) -> tuple[list[Any], list[dict[str, str]]]:
        shown = {"role": "user", "content": as_typed(question)}
        return [*messages, shown], [*turns, {"role": "user", "content": question}]

    def answer(
        question: str, messages: list[Any], turns: list[dict[str, str]], request: gr.Request
    ) -> Iterator[tuple[list[Any], list[dict[str, str]]]]:
        earlier = turns[:-1]  # the question itself is the last turn
        for shown, plain in respond(question, earlier, request):
            reply = {"role": "assistant", "content": shown}
            yield [*messages, reply], [*turns, {"role": "assistant", "content": plain}]

    def chat_api(message: str, request: gr.Request) -> Iterator[str]:
        """One question, no history: the reply as the chat shows it (Markdown), as it grows."""
        for shown, _ in respond(message, [], request):
            yield shown

    def example(data: gr.SelectData) -> str:
        value = data.value
        return str(value.get("text", "") if isinstance(value, dict) else value)

    def record_feedback(data: gr.LikeData, request: gr.Request) -> None:
        """Thumbs up/down on a reply, by the answer id it carries, rate-limited per reader."""
        client = getattr(getattr(request, "client", None), "host", None)
        record_chat_vote(assistant.question_log, vote_limiter, client, data.value, data.liked)

    placeholder = intro(catalog, greeting, help_label, public_url)
    placeholder += f"\n\n<sub>{_escape_md(disclaimer)}</sub>"  # the page's one disclaimer
    examples = answered_examples(
        assistant,
        example_questions(catalog, load_prompt(settings.prompts_dir, "chat_example"), n=12),
    )
    with gr.Blocks(title=TITLE, fill_height=True) as chat:
        with gr.Row(elem_id="supple-header", equal_height=True):
            gr.Markdown(
                f'**{TITLE}** <span class="supple-owner">· [Embed this chat on your blog]'
                "(/embed/snippet) · [HTTP API](/docs)</span>",
                elem_id="supple-title",
            )
            new_chat = gr.Button(
                "New conversation", size="sm", variant="secondary", scale=0, min_width=150
            )
        chatbot = gr.Chatbot(
            show_label=False,
            feedback_options=("Like", "Dislike"),
            placeholder=placeholder,
            examples=[{"text": q} for q in examples] or None,
            height="100%",
            scale=1,
            autoscroll=False,  # static/chat.js: the view shows the start of a reply, not its end
            buttons=["copy"],
            elem_id="supple-chat",
        )
        box = gr.Textbox(
            show_label=False,
            placeholder=widget_copy(settings, catalog)["placeholder"] or None,
            submit_btn=True,
            autofocus=True,
            lines=1,
            max_lines=6,
            elem_id="supple-input",
        )
        turns = gr.State([])  # the plain conversation: what the assistant is handed
        question = gr.State("")
        ask = {"fn": answer, "inputs": [question, chatbot, turns], "outputs": [chatbot, turns]}
        for event in (
            box.submit(take_question, [box], [box, question], queue=False),
            chatbot.example_select(example, None, [question], queue=False),
        ):
            event.then(
                add_question, [question, chatbot, turns], [chatbot, turns], queue=False
            ).then(**ask, concurrency_limit=CHAT_CONCURRENCY, api_visibility="private")
        chatbot.like(record_feedback, None, None, api_name="feedback")
        chatbot.clear(lambda: [], None, [turns], queue=False, api_visibility="private")
        new_chat.click(lambda: ([], []), None, [chatbot, turns], queue=False)
        new_chat.click(
            None, None, None, js="() => document.querySelector('#supple-input textarea')?.focus()"
        )
        gr.api(chat_api, api_name="chat", concurrency_limit=CHAT_CONCURRENCY)
    return chat
