"""Thumbs up/down in the widget, in real Chromium on the sample blog page (tests/browser.py).

The vote goes from the framed chat page to the served app's POST /api/feedback and is read
back from the app's SQLite question log. Screenshots go to test-output/.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest

from assistant.questionlog import FILE_NAME, QuestionLog
from tests.app.conftest import Site
from tests.app.test_widget_browser import ask
from tests.browser import open_page
from tests.conftest import REPO

SHOTS = REPO / "test-output"
GLUTE_QUESTION = "Which exercises strengthen the gluteus maximus?"
BRIDGE_QUESTION = "How do glute bridges help low back pain?"

pytestmark = pytest.mark.slow


def open_chat(page: Any) -> Any:
    """Opens the widget on the blog page; returns its chat frame."""
    page.locator("button.bubble").click()
    page.locator("iframe").wait_for(state="attached")
    frame = page.frame_locator("iframe")
    frame.locator("#supple-input").wait_for()
    return frame


def refused_requests(page: Any) -> list[tuple[int, str]]:
    """Fills with (status, url) of each response of 400 or more from now on."""
    refused: list[tuple[int, str]] = []
    page.on("response", lambda r: refused.append((r.status, r.url)) if r.status >= 400 else None)
    return refused


def feedback_of(site: Site, question: str) -> list[int | None]:
    """The stored votes on ``question``, oldest first."""
    log = QuestionLog(site.data_dir / FILE_NAME)
    return [q.feedback for q in log.questions() if q.question == question]


def test_run_thumbs_up_in_the_widget_is_stored(site: Site) -> None:
    with open_page(f"{site.blog}/article.html") as (page, log):
        refused = refused_requests(page)
        frame = open_chat(page)
        assert frame.locator(".msg.greeting .vote").count() == 0  # the greeting is not rated
        reply = ask(frame, GLUTE_QUESTION)
        up = reply.get_by_role("button", name="Helpful: thumbs up")
        down = reply.get_by_role("button", name="Not helpful: thumbs down")
        # drawn icons, not emoji (no emoji font needed), and visible
        for button in (up, down):
            box = button.locator("svg").bounding_box()
            assert box is not None and box["width"] >= 12 and box["height"] >= 12
        assert up.get_attribute("aria-pressed") == "false"
        before = feedback_of(site, GLUTE_QUESTION)

        up.click()
        reply.locator(".feedback-status", has_text="Thanks").wait_for()
        assert up.get_attribute("aria-pressed") == "true"
        assert down.get_attribute("aria-pressed") == "false"
        assert down.get_attribute("aria-disabled") == "true"
        assert feedback_of(site, GLUTE_QUESTION)[-1] == 1
        assert len(feedback_of(site, GLUTE_QUESTION)) == len(before)  # a vote adds no question

        assert not down.is_enabled()  # aria-disabled: assistive tech hears it too
        down.click(force=True)  # a second vote on the same answer still does nothing
        page.wait_for_timeout(500)
        assert down.get_attribute("aria-pressed") == "false"
        assert feedback_of(site, GLUTE_QUESTION)[-1] == 1
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / "widget-feedback.png"))
        assert refused == [] and log.dialogs == []
        # a failed load is in `refused` (the blog's missing favicon.ico is not, nor an error)
        assert [e for e in log.errors if not e.startswith("Failed to load resource")] == []


def test_run_a_failed_vote_says_so_in_one_line_and_may_be_retried(site: Site) -> None:
    with open_page(f"{site.blog}/article.html") as (page, _):
        refused = refused_requests(page)
        frame = open_chat(page)
        reply = ask(frame, BRIDGE_QUESTION)
        # The answer's row is gone from the log (as after `eval gaps --purge`): the vote fails.
        with sqlite3.connect(site.data_dir / FILE_NAME) as db:
            db.execute("DELETE FROM questions WHERE question = ?", (BRIDGE_QUESTION,))
        down = reply.get_by_role("button", name="Not helpful: thumbs down")
        down.focus()
        page.keyboard.press("Space")  # keyboard works: it is a real button
        status = reply.locator(".feedback-status.failed")
        status.wait_for()
        assert status.inner_text().startswith("No answer with id ")
        assert "\n" not in status.inner_text()
        assert down.get_attribute("aria-pressed") == "false"
        assert down.get_attribute("aria-disabled") is None  # the reader may try again
        assert feedback_of(site, BRIDGE_QUESTION) == []
        assert [(s, u.split("/", 3)[-1]) for s, u in refused] == [(404, "api/feedback")]
