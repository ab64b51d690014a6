"""Assistant.stream: text as it forms (str chunks), then the full Answer; the chat uses it."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any

import pytest
from gradio_client import Client

from assistant.errors import InputError
from assistant.pipeline import Assistant
from assistant.settings import Settings
from assistant.types import Answer, Kind
from ingest.embed import Embedder
from tests.conftest import REPO
from tests.llm_stub import LLMStub, Reply, first_sentence
from tests.servers import running_app

QUESTION = "Which exercises strengthen the gluteus maximus?"
DISCLAIMER = (REPO / "prompts" / "disclaimer.md").read_text(encoding="utf-8").strip()


@pytest.fixture
def stub() -> Iterator[LLMStub]:
    with LLMStub() as server:
        yield server


def llm(settings: Settings, embedder: Embedder, url: str) -> Assistant:
    update = {"backend": "openai:stub", "llm_base_url": url, "llm_timeout": 2.0}
    return Assistant(settings.model_copy(update=update), embedder=embedder)


def slow_reply(body: dict[str, Any]) -> str:
    sentence = first_sentence(body, 1)
    return f"The article lists these: {sentence} [1]. They build the glutes back up."


@pytest.mark.parametrize(
    "question",
    [QUESTION, "I peed myself and my back is killing me", "What is the capital of Peru?"],
)
def test_extractive_stream_yields_the_text_then_the_answer(
    assistant: Assistant, question: str
) -> None:
    parts = list(assistant.stream(question))
    final = parts.pop()
    assert isinstance(final, Answer) and all(isinstance(p, str) for p in parts)
    assert len(parts) > 3 and "".join(str(p) for p in parts) == final.text
    assert final.disclaimer == DISCLAIMER


def test_stream_rejects_an_empty_question_before_any_text(assistant: Assistant) -> None:
    with pytest.raises(InputError):
        next(iter(assistant.stream("   ")))


@pytest.mark.slow  # the stub writes for > 2 s by design
def test_llm_tokens_arrive_while_the_model_is_still_writing(
    indexed_settings: Settings, embedder: Embedder, stub: LLMStub
) -> None:
    stub.script(Reply(slow_reply, delay=0.15))
    assistant = llm(indexed_settings, embedder, stub.url)
    assistant.ask("warm-up: what does fascia do?")  # embeddings and the client warm
    started = time.monotonic()
    arrivals: list[float] = []
    final: Answer | None = None
    for part in assistant.stream(QUESTION):
        if isinstance(part, Answer):
            final = part
        else:
            arrivals.append(time.monotonic() - started)
    assert final is not None and final.kind == Kind.ANSWER and not final.note
    total = time.monotonic() - started
    assert total > 2.0  # the stub takes > 2 s to write the reply...
    assert arrivals[0] < total - 1.5  # ...and the first words came long before its end
    assert len(arrivals) >= 10 and final.text.startswith("The article lists these:")
    assert [c.n for c in final.citations] == [1]


def test_llm_stream_errors_on_bad_input_like_ask(
    indexed_settings: Settings, embedder: Embedder, stub: LLMStub
) -> None:
    with pytest.raises(InputError):
        list(llm(indexed_settings, embedder, stub.url).stream(""))


@pytest.mark.slow
def test_the_chat_streams_llm_tokens_and_ends_with_sources_and_disclaimer(
    indexed_settings: Settings, stub: LLMStub
) -> None:
    stub.script(Reply(slow_reply, delay=0.1))
    env = {"SUPPLE_BACKEND": "openai:stub", "SUPPLE_LLM_BASE_URL": stub.url}
    with running_app(indexed_settings.data_dir, indexed_settings.corpus_dir, **env) as base:
        client = Client(base, verbose=False)
        try:
            job = client.submit(QUESTION, api_name="/chat")
            updates = [str(u) for u in job]
        finally:
            client.close()
    partial = [u for u in updates if DISCLAIMER not in u]
    assert len(partial) >= 3  # the reader watched it being written
    assert any(len(a) < len(b) and b.startswith(a[:10]) for a, b in itertools.pairwise(partial))
    final = updates[-1]
    assert "The article lists these:" in final and "Sources (" in final and "[1]" in final
    assert DISCLAIMER in final
