"""Make the README's two screenshots: the chat and the widget, in real Chromium.

    python scripts/screenshots.py [--out docs/img] [--corpus corpus]

Indexes the corpus into a temporary data folder, starts ``python app.py`` on a free
127.0.0.1 port, serves a small blog page that embeds the widget from another port, asks one
question in each, and writes ``chat.png`` (1280x800) and ``widget.png`` (1280x800). Needs
Chromium at /usr/bin/chromium (or CHROMIUM=...) and playwright; nothing is downloaded.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
VIEWPORT = {"width": 1280, "height": 800}
BLOG_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A blog post</title>
<style>body {{ font: 18px/1.6 Georgia, serif; max-width: 680px; margin: 40px auto;
padding: 0 16px; color: #222; }}</style></head>
<body><h1>A blog post</h1><p>The widget's bubble sits in the corner of every page of the blog.
Readers click it and ask.</p><p>One script tag in the blog's template adds it.</p>
<script src="{app}/widget.js" defer></script></body></html>
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, proc: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"error: the app exited ({proc.returncode}) before it served")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"error: {url} did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def app(corpus: Path, data: Path, blog: str) -> Iterator[str]:
    port = free_port()
    env = {
        **os.environ,
        "SUPPLE_CORPUS_DIR": str(corpus),
        "SUPPLE_DATA_DIR": str(data),
        "SUPPLE_PORT": str(port),
        "SUPPLE_HOST": "127.0.0.1",
        "SUPPLE_ALLOWED_ORIGINS": blog,
        "SUPPLE_QUESTION_LOG": "false",
    }
    log = (data.parent / "app.log").open("wb")
    proc = subprocess.Popen([sys.executable, str(REPO / "app.py")], env=env, stdout=log, stderr=log)
    try:
        wait_for(f"http://127.0.0.1:{port}/api/health", proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


@contextlib.contextmanager
def blog(port: int, app_url: str) -> Iterator[str]:
    body = BLOG_PAGE.format(app=app_url).encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        server.server_close()


def shoot(app_url: str, blog_url: str, out: Path, question: str | None) -> None:
    from playwright.sync_api import sync_playwright

    chromium = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(app_url)
        box = page.get_by_role("textbox").first
        box.wait_for()
        asked = question or page.locator("#supple-chat button.example").first.inner_text()
        box.fill(asked)
        box.press("Enter")
        page.locator("#supple-chat .message-row.bot-row").last.get_by_text("Sources").wait_for()
        page.wait_for_timeout(500)
        page.screenshot(path=str(out / "chat.png"))

        page = browser.new_page(viewport=VIEWPORT)
        page.goto(blog_url)
        page.locator("supple-chat .bubble").click()
        frame = page.frame_locator("iframe")
        frame.locator("#supple-input").fill(asked)
        frame.locator("#supple-input").press("Enter")
        frame.locator(".msg.bot .sources").last.wait_for()
        page.wait_for_timeout(300)
        page.screenshot(path=str(out / "widget.png"))
        browser.close()


def main(argv: list[str] | None = None) -> int:
    args = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    args.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    args.add_argument("--corpus", type=Path, default=REPO / "corpus")
    args.add_argument("--question", help="the question to ask (default: the chat's first example)")
    opts = args.parse_args(argv)
    if not opts.corpus.is_dir():
        print(f"error: {opts.corpus}: no such folder", file=sys.stderr)
        return 2
    opts.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        blog_port = free_port()
        blog_origin = f"http://127.0.0.1:{blog_port}"
        with (
            app(opts.corpus.resolve(), Path(tmp) / "data", blog_origin) as app_url,
            blog(blog_port, app_url) as blog_url,
        ):
            shoot(app_url, blog_url, opts.out, opts.question)
    print(f"wrote {opts.out / 'chat.png'} and {opts.out / 'widget.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
