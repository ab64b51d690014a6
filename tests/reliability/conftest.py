"""Fixtures for the reliability suite (helpers in helpers.py). Everything on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from assistant.settings import Settings
from tests.reliability.helpers import NO_RATE_LIMIT, indexed_copy
from tests.servers import ServedApp, serve_app

WARM_UP = "Which exercises strengthen the gluteus maximus?"


@pytest.fixture(scope="package")
def served(
    tmp_path_factory: pytest.TempPathFactory, indexed_settings: Settings
) -> Iterator[ServedApp]:
    """One app for the suite's load, HTTP-fuzz and privacy tests: the real corpus, the
    question log on, rate limits off. Warmed up before it is handed out."""
    data_dir = indexed_copy(indexed_settings, tmp_path_factory.mktemp("served") / "data")
    with serve_app(data_dir, NO_RATE_LIMIT) as app:
        httpx.post(
            f"{app.base}/api/ask", json={"question": WARM_UP}, timeout=120
        ).raise_for_status()
        yield app
