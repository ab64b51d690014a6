"""Assistant.ask end to end on the real corpus, model and Chroma index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import InputError, QuestionTooLong, StaleIndexError
from assistant.pipeline import Assistant
from assistant.settings import Settings
from assistant.types import Kind
from ingest.embed import Embedder
from tests.conftest import REPO, make_settings

BRIDGES = "Glute Bridges, Hip Thrusts, Clamshells, Deadlifts to strengthen the gluteus maximus"


def test_gluteus_maximus_exercises_are_quoted_and_cited(assistant: Assistant) -> None:
    answer = assistant.ask("Which exercises strengthen the gluteus maximus?")
    assert answer.kind == Kind.ANSWER
    assert BRIDGES in answer.text
    first = answer.citations[0]
    assert first.n == 1 and "[1]" in answer.text
    assert first.text.startswith(BRIDGES)
    assert first.section.endswith("Strengthening Weak Muscles")
    assert first.title.startswith("Glute and Hip Weakness")
    # every citation quotes words that occur in a retrieved passage
    for citation in answer.citations:
        assert any(citation.text in p.text for p in answer.passages)
        assert f"[{citation.n}]" in answer.text


def test_off_topic_question_is_not_covered(assistant: Assistant) -> None:
    answer = assistant.ask("What is the capital of Australia?")
    assert answer.kind == Kind.NOT_COVERED
    assert answer.text.startswith("The articles don't cover that")
    assert answer.citations == []


@pytest.mark.parametrize(
    "question",
    [
        "recipe for banana bread",
        "how do I fix a flat bike tyre",
        "what is the best time of day to meditate",
    ],
)
def test_near_but_unanswered_questions_are_not_covered(assistant: Assistant, question: str) -> None:
    assert assistant.ask(question).kind == Kind.NOT_COVERED


@pytest.mark.parametrize(
    ("question", "expected_kind"),
    [
        ("Which exercises strengthen the gluteus maximus?", Kind.ANSWER),
        ("What is the capital of Australia?", Kind.NOT_COVERED),
        ("I suddenly can't control my bladder and my back hurts", Kind.URGENT),
        ("What dose of ibuprofen should I take?", Kind.NOT_COVERED),
    ],
)
def test_disclaimer_on_every_kind(assistant: Assistant, question: str, expected_kind: Kind) -> None:
    answer = assistant.ask(question)
    assert answer.kind == expected_kind
    assert "not medical advice" in answer.disclaimer
    assert answer.to_dict()["disclaimer"] == answer.disclaimer


def test_answer_object_matches_the_interface(assistant: Assistant) -> None:
    data = assistant.ask("What does fascia do?").to_dict()
    assert {"kind", "text", "citations", "passages", "disclaimer", "backend", "latency_ms"} <= set(
        data
    )
    assert data["backend"] == "extractive" and data["latency_ms"] > 0
    assert set(data["citations"][0]) >= {"n", "article", "title", "section", "text", "url"}
    assert set(data["passages"][0]) >= {"rank", "article", "section", "text", "score"}
    assert [p["rank"] for p in data["passages"]] == list(range(1, len(data["passages"]) + 1))


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty_question_is_refused_clearly(assistant: Assistant, question: str) -> None:
    with pytest.raises(InputError, match="Please type a question"):
        assistant.ask(question)


def test_oversize_question_is_refused(assistant: Assistant) -> None:
    with pytest.raises(QuestionTooLong, match="limit"):
        assistant.ask("glutes " * 700)  # 4,900 characters; the limit is 4,000


def test_bad_history_is_refused(assistant: Assistant) -> None:
    with pytest.raises(InputError, match="history item 1"):
        assistant.ask("What does fascia do?", [{"role": "robot", "content": 3}])  # type: ignore[arg-type]


def test_missing_index_says_what_to_run(tmp_path: Path, embedder: Embedder) -> None:
    with pytest.raises(StaleIndexError, match="python -m ingest"):
        Assistant(make_settings(tmp_path / "empty"), embedder=embedder)


def _ask_cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "SUPPLE_DATA_DIR": str(settings.data_dir),
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
    }
    return subprocess.run(
        [sys.executable, "-m", "assistant", "ask", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.slow
def test_cli_json_answer_and_bad_input(indexed_settings: Settings, tmp_path: Path) -> None:
    result = _ask_cli(indexed_settings, "Which exercises strengthen the gluteus maximus?", "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["kind"] == "answer" and BRIDGES in data["text"] and data["disclaimer"]

    empty = _ask_cli(indexed_settings, "   ")
    assert empty.returncode == 2 and empty.stderr.strip() == "error: Please type a question."

    history = tmp_path / "history.json"
    history.write_text("{not json", encoding="utf-8")
    bad = _ask_cli(indexed_settings, "and for the glutes?", "--history", str(history))
    assert bad.returncode == 2 and str(history) in bad.stderr and "Traceback" not in bad.stderr


def test_warm_up_embeds_every_passage_once(fresh_settings: Settings, embedder: Embedder) -> None:
    from ingest.run import run_ingest

    run_ingest(fresh_settings, embedder=embedder)  # one article: the whole blog takes 6 s more
    fresh = Assistant(fresh_settings, embedder=embedder)
    fresh.warm_up()
    cache = fresh.answerer.vectors._cache  # type: ignore[attr-defined]
    assert len(cache) == fresh.chunk_count()
    encoded = embedder.encode
    calls: list[int] = []

    def counting_encode(texts: list[str], **kwargs: bool) -> np.ndarray:
        calls.append(len(texts))
        return encoded(texts, **kwargs)

    embedder.encode = counting_encode  # type: ignore[method-assign]
    try:
        fresh.ask("What does fascia do?")
    finally:
        del embedder.encode
    assert calls == [1]  # only the question is embedded; the passages' sentences were ready


def test_a_running_assistant_learns_a_new_articles_words(
    fresh_settings: Settings, corpus_copy: Path, embedder: Embedder
) -> None:
    from ingest.run import run_ingest

    run_ingest(fresh_settings, embedder=embedder)
    running = Assistant(fresh_settings, embedder=embedder)
    (corpus_copy / "si-joint.md").write_text(
        "---\ntitle: The Sacroiliac Joint\n---\n\n## What it is\n\n"
        "The sacroiliac joint links the sacrum to the pelvis and moves only a few degrees.\n",
        encoding="utf-8",
    )
    run_ingest(fresh_settings, embedder=embedder)
    # a typo of a word only the new article has is corrected without a restart
    answer = running.ask("what does the sacroilliac joint link?")
    assert answer.kind == Kind.ANSWER
    assert "sacrum to the pelvis" in answer.text
