"""Headless Chromium (Debian's, driven by Playwright) for the widget and report tests.

Skipped with a one-line reason when missing, except under CI, where a missing browser is a
failure (.ci/run installs it)."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@dataclass
class PageLog:
    """What the page said went wrong: console errors, uncaught errors, dialogs opened."""

    errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)


def require_chromium() -> None:
    missing = not shutil.which(CHROMIUM)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = True
    if missing:
        if os.environ.get("CI", "").lower() in ("true", "1"):
            pytest.fail(f"Chromium ({CHROMIUM}) and playwright are required on CI")
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium) or no playwright")


@contextlib.contextmanager
def open_page(url: str) -> Iterator[tuple[Any, PageLog]]:
    """The page at ``url`` in headless Chromium, with its errors and dialogs recorded."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    log = PageLog()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda m: log.errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: log.errors.append(str(e)))

            def on_dialog(dialog: Any) -> None:
                log.dialogs.append(dialog.message)
                dialog.dismiss()

            page.on("dialog", on_dialog)
            page.goto(url)
            yield page, log
        finally:
            browser.close()
