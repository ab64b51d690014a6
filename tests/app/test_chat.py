"""The Gradio chat of the running app (``python app.py``), driven by gradio_client."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from gradio_client import Client

from app import create_app
from assistant.pipeline import Assistant
from tests.app.conftest import Site
from tests.conftest import CORPUS, REPO, make_settings
from tests.servers import served_in_process

DISCLAIMER = (REPO / "prompts" / "disclaimer.md").read_text(encoding="utf-8").strip()
NOT_COVERED = (REPO / "prompts" / "not_covered.md").read_text(encoding="utf-8").strip()

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chat(site: Site) -> Iterator[Client]:
    client = Client(site.app, verbose=False)
    yield client
    client.close()


def reply(chat: Client, message: str) -> str:
    result = chat.predict(message, api_name="/chat")
    return str(result)


def test_run_answers_glute_question_with_cited_bridges_line(chat: Client, site: Site) -> None:
    text = reply(chat, "Which exercises strengthen the gluteus maximus?")
    assert "bridges" in text.lower()
    assert "[1]" in text
    assert "Sources (" in text
    assert "Glute and Hip Weakness" in text
    assert f"(<{site.article_url}#:~:text=" in text  # the citation links to the article page
    assert text.count(DISCLAIMER.split(".")[0]) == 1  # once per reply


def test_run_off_topic_is_not_covered(chat: Client, site: Site) -> None:
    text = reply(chat, "What is the capital of Australia?")
    assert NOT_COVERED.split(".")[0] in text
    assert "Sources" not in text
    # what it can help with: the closest article, linked
    assert f"[Glute and Hip Weakness: A Major Cause of Low Back Pain](<{site.article_url}>)" in text
    assert DISCLAIMER.split(".")[0] in text


def test_run_empty_message_gets_one_clear_line(chat: Client) -> None:
    text = reply(chat, "   ")
    assert "Please type a question." in text
    assert "\n" not in text.strip() and "Traceback" not in text


def test_run_article_markup_is_shown_as_text(chat: Client) -> None:
    text = reply(chat, "How long should I hold a calf stretch?")
    assert "thirty seconds" in text
    assert "<script>" not in text  # escaped for the Markdown renderer
    assert "&lt;script&gt;" in text


def test_run_chat_shares_the_api_rate_limit(assistant: Assistant) -> None:
    settings = make_settings(assistant.settings.data_dir, CORPUS, rate_per_minute=2)
    with served_in_process(create_app(settings, assistant)) as base:
        http = httpx.Client(base_url=base)
        assert http.post("/api/ask", json={"question": "What is fascia?"}).status_code == 200
        chat = Client(base, verbose=False)
        try:
            assert "fascia" in reply(chat, "What is fascia?").lower()
            limited = reply(chat, "What is fascia?")
        finally:
            chat.close()
        assert limited.startswith("⚠️ Too many questions") and "try again in" in limited
        assert http.post("/api/ask", json={"question": "What is fascia?"}).status_code == 429
