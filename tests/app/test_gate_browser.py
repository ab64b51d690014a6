"""In real Chromium (issue 14, findings 2 and 4): a page on a site not in
SUPPLE_ALLOWED_ORIGINS frames the chat, its framed page and the raw HTML file behind it; and a
reader's thumbs in the Gradio chat still land on their answer, now named by its id."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from assistant.questionlog import FILE_NAME, QuestionLog
from tests.app.conftest import Site
from tests.browser import open_page

pytestmark = pytest.mark.slow

NOTICE = "Official notice: call 555-0100 for a paid consult"


@contextlib.contextmanager
def attacker_page(body: str) -> Iterator[str]:
    """One HTML page on 127.0.0.1 (another origin than the app and the blog)."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def shown(frame: Any) -> str:
    """What a frame shows its reader ("" when the browser refused to show it)."""
    if frame.url.startswith("chrome-error:"):
        return ""
    try:
        return str(frame.evaluate("document.body ? document.body.innerText : ''"))
    except Exception:  # a frame torn down while we read it
        return ""


def test_run_another_site_cannot_frame_the_chat_or_the_raw_embed_page(site: Site) -> None:
    query = "?greeting=" + NOTICE.replace(" ", "%20")
    frames = "".join(
        f'<iframe src="{site.app}{path}" width="400" height="300"></iframe>'
        for path in ("/embed/static/embed.html" + query, "/embed" + query, "/")
    )
    page_html = f"<!doctype html><title>Deals</title>{frames}"
    with attacker_page(page_html) as url, open_page(url) as (page, _log):
        page.wait_for_timeout(3000)  # embed.js and Gradio's page would be up by now
        children = [f for f in page.frames if f != page.main_frame]
        texts = [shown(f) for f in children]
        inputs = [f.locator("textarea, input[type=text]").count() for f in children]
    assert len(children) == 3
    for text in texts:
        assert "555-0100" not in text
        assert "{{DISCLAIMER}}" not in text
        assert "ask the articles" not in text
    assert inputs == [0, 0, 0]


def test_run_thumbs_in_the_gradio_chat_vote_on_that_answer_by_its_id(site: Site) -> None:
    question = "What do fascial adhesions do?"
    log = QuestionLog(site.data_dir / FILE_NAME)
    with open_page(site.app + "/") as (page, page_log):
        box = page.get_by_role("textbox").first
        box.fill(question)
        box.press("Enter")
        like = page.get_by_role("button", name="Like", exact=True).last
        like.wait_for(timeout=60_000)
        page.wait_for_timeout(1000)  # the reply has finished streaming
        assert "supple-answer" not in page.locator("body").inner_text()
        like.click()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            votes = [q.feedback for q in log.questions() if q.question == question]
            if votes and votes[-1] == 1:
                break
            time.sleep(0.2)
    assert votes[-1] == 1, votes
    assert page_log.errors == []
