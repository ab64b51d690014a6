"""The Gradio chat as a reader sees it, in real Chromium at a laptop's and a phone's size.

Against the session's ``python app.py`` (tests/app/conftest.py): the answer is visible
without scrolling the page, the start of the reply shows in the conversation (on a phone
with its keyboard up too, where the reply is taller than the chat), the question box stays on screen, nothing covers the reader's
bubble, the disclaimer shows once, the source links to the quoted words, a reader's markup
stays text. Then an app over an article with no ``url`` (as corpus/ ships): each example
question's citations open the app's article page at the quoted words. Screenshots go to
test-output/.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from app import create_app
from assistant.pipeline import Assistant
from ingest.embed import Embedder
from ingest.run import run_ingest
from tests.app.conftest import Site
from tests.app.test_chat import served_in_process
from tests.conftest import ARTICLE, REPO, make_settings

SHOTS = REPO / "test-output"
DISCLAIMER = (REPO / "prompts" / "disclaimer.md").read_text(encoding="utf-8").strip()
GLUTE_QUESTION = "Which exercises strengthen the gluteus maximus?"
SIZES = {
    "desktop": {"width": 1280, "height": 800},
    "narrow": {"width": 900, "height": 700},  # where the toolbar once sat on the bubble
    "phone": {"width": 390, "height": 844},
    # the phone with its keyboard up: the reply is taller than the chat pane
    "phone-keyboard": {"width": 390, "height": 560},
}

pytestmark = pytest.mark.slow


def new_page(browser: Any, size: str) -> tuple[Any, Any]:
    context = browser.new_context(viewport=SIZES[size], is_mobile=size == "phone")
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("dialog", lambda d: (page.errors.append(f"dialog: {d.message}"), d.dismiss()))
    return context, page


def ask(page: Any, question: str | None = None, example: Any = None) -> Any:
    """Types ``question`` (or clicks ``example``), waits for the whole reply (its
    disclaimer); returns the reply."""
    before = page.locator("#supple-chat .message-row.bot-row").count()
    if example is not None:
        example.click()
    else:
        box = page.locator("textarea").first
        box.fill(question)
        box.press("Enter")
    reply = page.locator("#supple-chat .message-row.bot-row").nth(before)
    reply.locator("sub").wait_for(timeout=60_000)
    return reply


def in_viewport(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return (
        box is not None
        and box["y"] >= 0
        and box["x"] >= 0
        and box["y"] + box["height"] <= size["height"]
        and box["x"] + box["width"] <= size["width"]
    )


def chat_box(page: Any) -> Any:
    """Where the conversation shows, inside the chat (it scrolls within it)."""
    return page.locator("#supple-chat .bubble-wrap").bounding_box()


def in_chat(page: Any, locator: Any) -> bool:
    """Whole in the conversation's view: not scrolled out of it, above or below."""
    box, pane = locator.bounding_box(), chat_box(page)
    return (
        box is not None
        and pane is not None
        and box["y"] >= pane["y"]
        and box["y"] + box["height"] <= pane["y"] + pane["height"]
    )


COVERED_POINTS = """el => {
  // Points across the element: the topmost element at each must be the element or inside it.
  const r = el.getBoundingClientRect();
  const xs = [r.left + 3, (r.left + r.right) / 2, r.right - 3];
  const ys = [r.top + 3, (r.top + r.bottom) / 2, r.bottom - 3];
  const out = [];
  for (const x of xs) for (const y of ys) {
    const top = document.elementFromPoint(x, y);
    if (top && !el.contains(top)) out.push(`${top.tagName}.${top.className} at ${x|0},${y|0}`);
  }
  return out;
}"""


@pytest.mark.parametrize("size", SIZES)
def test_run_answer_fits_the_window_and_nothing_covers_the_question(
    browser: Any, site: Site, size: str
) -> None:
    context, page = new_page(browser, size)
    try:
        page.goto(site.app)
        page.locator("textarea").first.wait_for()
        reply = ask(page, GLUTE_QUESTION)
        answer = reply.locator("p").first
        assert "Bridges" in answer.inner_text()
        # The page itself does not scroll: the answer and the question box are on screen.
        assert page.evaluate("document.scrollingElement.scrollHeight") <= SIZES[size]["height"]
        assert in_viewport(page, answer), answer.bounding_box()
        # and in the conversation's view: the start of the reply, not its end
        assert in_chat(page, answer), (answer.bounding_box(), chat_box(page))
        assert in_viewport(page, page.locator("textarea").first)
        # The reader's bubble: no toolbar or label drawn over it.
        bubble = page.locator("#supple-chat .message-row.user-row .message").first
        assert bubble.inner_text().strip() == GLUTE_QUESTION
        assert in_chat(page, bubble), (bubble.bounding_box(), chat_box(page))
        assert bubble.evaluate(COVERED_POINTS) == []
        # The source cards are folded under the answer and open with a click.
        assert not reply.locator("blockquote").first.is_visible()
        reply.locator("summary").click()
        assert reply.locator("blockquote").first.is_visible()
        # The source: a link to the article at the quoted words, in a new tab.
        link = reply.locator("a[href*=':~:text=']").first
        href = link.get_attribute("href")
        assert href.startswith(f"{site.article_url}#:~:text=")
        assert link.get_attribute("target") == "_blank"
        quote = unquote(href.split(":~:text=", 1)[1]).split(",")[0]
        assert quote in reply.locator("blockquote").first.inner_text()
        # The disclaimer: once on screen (the reply's), not the page's as well.
        reply.locator("sub").last.evaluate("e => e.scrollIntoView({block: 'end'})")
        page.wait_for_timeout(200)
        shown = page.get_by_text(DISCLAIMER[:60])
        visible = [i for i in range(shown.count()) if in_viewport(page, shown.nth(i))]
        assert len(visible) == 1, visible
        page.screenshot(path=str(shots() / f"chat-{size}.png"))
        assert page.errors == []
    finally:
        context.close()


def test_run_a_follow_up_on_a_phone_scrolls_its_question_to_the_top(
    browser: Any, site: Site
) -> None:
    """With a conversation above it, a new question moves up to the top of the chat and its
    reply grows below it: the reader sees the question and the start of the reply."""
    context, page = new_page(browser, "phone-keyboard")
    try:
        page.goto(site.app)
        page.locator("textarea").first.wait_for()
        ask(page, "How long should I hold a calf stretch?")
        reply = ask(page, GLUTE_QUESTION)
        bubble = page.locator("#supple-chat .message-row.user-row .message").last
        assert bubble.inner_text().strip() == GLUTE_QUESTION
        assert in_chat(page, bubble), (bubble.bounding_box(), chat_box(page))
        assert bubble.evaluate(COVERED_POINTS) == []
        answer = reply.locator("p").first
        assert "Bridges" in answer.inner_text()
        assert in_chat(page, answer), (answer.bounding_box(), chat_box(page))
        # the calf reply above it has scrolled out of the way
        calf = page.locator("#supple-chat .message-row.bot-row").first
        assert not in_chat(page, calf)
        page.screenshot(path=str(shots() / "chat-phone-follow-up.png"))
        assert page.errors == []
    finally:
        context.close()


def shots() -> Path:
    SHOTS.mkdir(exist_ok=True)
    return SHOTS


def test_run_readers_markup_stays_text_and_new_conversation_empties_the_chat(
    browser: Any, site: Site
) -> None:
    context, page = new_page(browser, "desktop")
    try:
        page.goto(site.app)
        page.locator("textarea").first.wait_for()
        question = (
            '<img src=x onerror="window.__supplePwned=1"> How long should I hold a calf stretch?'
        )
        ask(page, question)
        bubble = page.locator("#supple-chat .message-row.user-row .message").first
        assert bubble.inner_text().strip() == question  # shown exactly as typed
        assert page.locator("#supple-chat .user-row img").count() == 0
        assert page.evaluate("window.__supplePwned") is None
        # A follow-up is read with the conversation before it.
        ask(page, GLUTE_QUESTION)
        follow_up = ask(page, "And what about the hip rotators?")
        assert "rotator" in follow_up.locator("p").first.inner_text().lower()
        page.get_by_role("button", name="New conversation").click()
        page.locator("#supple-chat .message-row").first.wait_for(state="detached")
        assert page.locator("#supple-chat .placeholder").is_visible()  # greeting and articles
        assert page.errors == []
    finally:
        context.close()


@pytest.fixture(scope="module")
def app_without_urls(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[str]:
    """The app, in this process, over the article as corpus/ ships it: no ``url``."""
    root = tmp_path_factory.mktemp("no-url")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(ARTICLE, corpus / ARTICLE.name)
    settings = make_settings(root / "data", corpus, question_log=False)
    run_ingest(settings, embedder=embedder)
    with served_in_process(create_app(settings, Assistant(settings, embedder=embedder))) as base:
        yield base


def test_run_every_example_cites_a_link_that_lands_on_the_quoted_words(
    browser: Any, app_without_urls: str
) -> None:
    context, page = new_page(browser, "desktop")
    try:
        page.goto(app_without_urls)
        examples = page.locator("#supple-chat button.example")
        examples.first.wait_for()
        questions = [examples.nth(i).inner_text().strip() for i in range(examples.count())]
        assert questions  # drawn from the indexed article's headings and tags
        checked = 0
        for n, question in enumerate(questions):
            # The first by a click on its button (the examples show only in an empty chat).
            reply = ask(page, question, examples.first if n == 0 else None)
            if reply.locator("summary").count():
                reply.locator("summary").click()  # the sources, folded under the answer
            for link in reply.locator("a[href*=':~:text=']").all():
                assert link.get_attribute("href").startswith("/articles/")
                with context.expect_page() as opened:
                    link.click()
                article = opened.value
                article.wait_for_load_state()
                mark = article.locator("mark#supple-quote")
                mark.wait_for(timeout=10_000)
                quoted = reply.locator("blockquote").nth(checked_in(reply, link)).inner_text()
                assert mark.inner_text().strip() in quoted.strip("“” \n")
                article.wait_for_timeout(300)  # the browser's own scroll to the words
                assert in_viewport(article, mark), mark.bounding_box()
                article.close()
                checked += 1
        assert checked >= len(questions)
        assert page.errors == []
    finally:
        context.close()


def checked_in(reply: Any, link: Any) -> int:
    """Which source card of ``reply`` holds ``link`` (cards and quotes alternate)."""
    links = reply.locator("a[href*=':~:text=']")
    target = link.get_attribute("href")
    return next(i for i in range(links.count()) if links.nth(i).get_attribute("href") == target)
