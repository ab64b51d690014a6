"""The widget in a real browser (Debian's chromium driven by Playwright) on a sample blog page.

The blog page is served on its own 127.0.0.1 port (an origin of its own, allowed by
SUPPLE_ALLOWED_ORIGINS); the same page on another port stands for a site that is not allowed.
Screenshots go to test-output/.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.app.conftest import Site
from tests.conftest import REPO

SHOTS = REPO / "test-output"
DISCLAIMER = (REPO / "prompts" / "disclaimer.md").read_text(encoding="utf-8").strip()
INTRO = (REPO / "prompts" / "chat_intro.md").read_text(encoding="utf-8").strip()
GLUTE_QUESTION = "Which exercises strengthen the gluteus maximus?"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 375, "height": 740}

pytestmark = pytest.mark.slow


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on(
        "dialog", lambda dialog: (page.errors.append(f"dialog: {dialog.message}"), dialog.dismiss())
    )
    yield page
    context.close()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / name))


def chat_frame(page: Any) -> Any:
    """The widget's iframe (inside its shadow root): Playwright's CSS engine pierces it."""
    page.locator("iframe").wait_for(state="attached")
    frame = page.frame_locator("iframe")
    frame.locator("#supple-input").wait_for()
    return frame


def embed_frame(page: Any) -> Any:
    """The chat page's Frame object (for evaluating script in it)."""
    return next(f for f in page.frames if f.url.split("?")[0].endswith("/embed"))


def count_token_updates(page: Any) -> None:
    """Counts, in the chat frame, each time a streamed token is written into the reply."""
    embed_frame(page).evaluate(
        """() => {
        window.__tokenUpdates = 0;
        new MutationObserver((records) => {
          for (const r of records) {
            if (r.target.classList && r.target.classList.contains("text")) window.__tokenUpdates++;
          }
        }).observe(document.getElementById("supple-log"), {childList: true, subtree: true});
      }"""
    )


def ask(frame: Any, question: str) -> Any:
    frame.locator("#supple-input").fill(question)
    frame.locator("#supple-input").press("Enter")
    reply = frame.locator(".msg.bot:not(.greeting)").last
    reply.locator(".disclaimer").wait_for(timeout=60_000)
    return reply


def test_run_widget_answers_on_the_blog_page(page: Any, site: Site) -> None:
    page.goto(f"{site.blog}/article.html")
    bubble = page.locator("button.bubble")
    bubble.wait_for()
    # Options from data- attributes: colour, position; the page's CSS does not reach it.
    style = bubble.evaluate(
        "b => { const s = getComputedStyle(b), r = b.getBoundingClientRect();"
        " return {bg: s.backgroundColor, w: r.width, left: r.left}; }"
    )
    assert style["bg"] == "rgb(138, 63, 252)"  # data-color="#8a3ffc", not the page's red
    assert style["w"] == 60  # not the page's 12px buttons
    assert style["left"] < DESKTOP["width"] / 2  # data-position="bottom-left"
    assert bubble.get_attribute("aria-expanded") == "false"
    shot(page, "widget-desktop-closed.png")

    bubble.click()
    frame = chat_frame(page)
    assert page.locator("iframe").is_visible()  # the page's `iframe {display: none}` cannot hide it
    assert bubble.get_attribute("aria-expanded") == "true"
    greeting = frame.locator(".msg.greeting")
    assert "Hello from Nicole's blog!" in greeting.inner_text()
    assert DISCLAIMER[:60] in greeting.inner_text()
    expect_focus(frame, "supple-input")

    count_token_updates(page)
    reply = ask(frame, GLUTE_QUESTION)
    assert "bridges" in reply.locator(".text").first.inner_text().lower()
    assert embed_frame(page).evaluate("window.__tokenUpdates") > 3  # the reply arrived in pieces
    link = reply.locator("a.source-link").first
    assert link.inner_text().startswith("[1] Glute and Hip Weakness")
    href = link.get_attribute("href")
    assert href.startswith(f"{site.article_url}#:~:text=")
    assert link.get_attribute("target") == "_blank"
    assert "noopener" in link.get_attribute("rel")
    assert DISCLAIMER[:60] in reply.locator(".disclaimer").inner_text()
    shot(page, "widget-desktop.png")

    # Closed, the widget leaves the host page working, and it added nothing global to it.
    page.locator("button.close").click()
    page.locator("#host-button").click()
    assert page.locator("#host-count").inner_text() == "1"
    assert page.evaluate("Object.keys(window).filter(k => /supple/i.test(k))") == []
    assert page.errors == []


def expect_focus(frame: Any, element_id: str) -> None:
    from playwright.sync_api import expect

    expect(frame.locator(f"#{element_id}")).to_be_focused()


def test_run_keyboard_opens_and_escape_closes(page: Any, site: Site) -> None:
    page.goto(f"{site.blog}/article.html")
    page.locator("button.bubble").focus()
    page.keyboard.press("Enter")
    frame = chat_frame(page)
    expect_focus(frame, "supple-input")
    page.keyboard.press("Escape")
    panel = page.locator("#supple-panel")
    panel.wait_for(state="hidden")
    focused = page.evaluate(
        "document.querySelector('supple-chat').shadowRoot.activeElement?.className"
    )
    assert focused == "bubble"
    assert page.locator("button.bubble").get_attribute("aria-label").startswith("Open the chat")
    page.keyboard.press("Enter")
    panel.wait_for(state="visible")
    page.locator("button.close").click()
    panel.wait_for(state="hidden")


def test_run_phone_width(browser: Any, site: Site) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        page.goto(f"{site.blog}/article.html")
        page.locator("button.bubble").tap()
        frame = chat_frame(page)
        box = page.locator("#supple-panel").bounding_box()
        assert box is not None
        assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, *PHONE.values())
        reply = ask(frame, GLUTE_QUESTION)
        assert reply.locator("a.source-link").count() >= 1
        assert page.locator("button.close").is_visible()
        # The answer first: its text is on screen, not scrolled away behind its sources.
        text = reply.locator(".text").first.bounding_box()
        assert text is not None and text["y"] >= 0 and text["y"] + 20 <= PHONE["height"], text
        shot(page, "widget-phone.png")
    finally:
        context.close()


def test_run_origin_not_allowed_cannot_frame_or_call(page: Any, site: Site) -> None:
    # The same page from an origin not in SUPPLE_ALLOWED_ORIGINS: CSP frame-ancestors blocks it.
    page.goto(f"{site.stranger}/frame.html")
    page.wait_for_timeout(1500)
    direct = next(f for f in page.frames if f != page.main_frame)
    assert direct.url.startswith("chrome-error://") or not direct.query_selector("#supple-input")
    outcomes = page.evaluate(CALL_API, site.app)
    # A simple request gets a 403 the page can read (it names the setting); a preflighted
    # one is refused at the preflight.
    assert outcomes == [403, "blocked"]
    # The allowed blog origin frames the very same page, and may call the API.
    page.goto(f"{site.blog}/frame.html")
    page.frame_locator("#direct").locator("#supple-input").wait_for(timeout=10_000)
    assert page.evaluate(CALL_API, site.app) == [400, 200]  # 400: the body was not sent as JSON


def test_run_widget_on_a_site_not_allowed_is_off_and_says_what_to_set(
    page: Any, site: Site
) -> None:
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
    page.goto(f"{site.stranger}/article.html")
    host = page.locator("supple-chat")
    host.wait_for(state="attached")
    page.wait_for_function("document.querySelector('supple-chat').dataset.state === 'off'")
    assert not page.locator("button.bubble").is_visible()  # no bubble, so no broken frame
    assert page.locator("iframe").count() == 0
    said = [line for line in console if "Supple chat widget is off" in line]
    assert len(said) == 1, console
    assert f"SUPPLE_ALLOWED_ORIGINS={site.stranger} " in said[0]  # the exact setting to change
    assert page.errors == []
    shot(page, "widget-not-allowed.png")


CALL_API = """async app => {
          const call = (headers) => fetch(app + '/api/ask', {method: 'POST', headers,
            body: JSON.stringify({question: 'hi'})}).then(r => r.status, () => 'blocked');
          return [await call({}), await call({'Content-Type': 'application/json'})];
        }"""


def test_run_hostile_question_and_article_run_nothing(page: Any, site: Site) -> None:
    page.goto(f"{site.blog}/article.html")
    page.locator("button.bubble").click()
    frame = chat_frame(page)
    question = "<img src=x onerror=\"window.parent.__supplePwned='q';window.__supplePwned='q'\"> calf stretch how long?"
    reply = ask(frame, question)
    user = frame.locator(".msg.user").last
    assert user.inner_text() == question  # shown as text, exactly as typed
    answer = ask(frame, "How long should I hold a calf stretch?")
    text = answer.locator(".text").first.inner_text()
    assert (
        '<script>window.__supplePwned = "article";</script>' in text
    )  # the article's markup, as text
    # The hostile article's javascript: url is never used: its citation links to the app's
    # own (escaped) page for the article instead.
    hrefs = answer.locator("a").evaluate_all("links => links.map(a => a.href)")
    assert hrefs and all(
        h.startswith(f"{site.app}/articles/calf-stretches-after-running#") for h in hrefs
    ), hrefs
    assert (
        "Calf Stretches After Running <b>bold</b>"
        in answer.locator(".source-link").first.inner_text()
    )
    embed = embed_frame(page)
    assert (
        embed.evaluate(
            "document.querySelectorAll('#supple-log img, #supple-log script, #supple-log b').length"
        )
        == 0
    )
    assert embed.evaluate("window.__supplePwned") is None
    assert page.evaluate("window.__supplePwned") is None
    assert reply.is_visible()
    assert page.errors == []
    shot(page, "widget-hostile.png")


@pytest.mark.parametrize(("viewport", "opens"), [(DESKTOP, True), (PHONE, False)])
def test_run_defaults_and_open_on_load(
    browser: Any, site: Site, viewport: dict[str, int], opens: bool
) -> None:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    try:
        page.goto(f"{site.blog}/open.html")  # includes the script twice: one widget only
        bubble = page.locator("button.bubble")
        bubble.wait_for()
        assert page.locator("supple-chat").count() == 1
        box = bubble.bounding_box()
        assert box is not None and box["x"] > viewport["width"] / 2  # bottom-right by default
        assert bubble.evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(47, 111, 94)"
        if opens:  # data-open="true" opens the chat on wide screens only
            chat_frame(page)
        page.wait_for_timeout(300)
        assert page.locator("#supple-panel").is_visible() is opens
    finally:
        context.close()


def test_run_embed_opened_alone_ignores_a_greeting_in_the_link(page: Any, site: Site) -> None:
    page.goto(f"{site.app}/embed?greeting=Call+0800+FAKE+for+a+cure")
    greeting = page.locator(".msg.greeting")
    greeting.wait_for()
    assert "FAKE" not in greeting.inner_text()
    assert INTRO in greeting.inner_text()  # prompts/chat_intro.md
    assert "Glute and Hip Weakness" in greeting.inner_text()  # the indexed articles' titles
    reply = ask(page, GLUTE_QUESTION)  # the chat page works on its own too
    assert reply.locator("a.source-link").count() >= 1
    assert page.errors == []
