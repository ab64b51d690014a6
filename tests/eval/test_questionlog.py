"""The question log: what it keeps, for how long, and that it can be turned off."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

import pytest

from assistant.pipeline import Assistant
from assistant.questionlog import FILE_NAME, QuestionLog
from assistant.settings import Settings
from ingest.embed import Embedder
from tests.conftest import make_settings


@pytest.mark.slow
def test_each_ask_records_question_kind_and_top_score(
    indexed_settings: Settings, embedder: Embedder, tmp_path: Path
) -> None:
    log = QuestionLog(tmp_path / FILE_NAME)
    assistant = Assistant(indexed_settings, embedder=embedder, question_log=log)
    assistant.warm_up()  # not a reader's question: not logged
    answer = assistant.ask("  What is fascia?  ")
    assistant.ask("my back hurts and I can't control my bladder")
    rows = log.questions()
    assert [(r.question, r.kind) for r in rows] == [
        ("What is fascia?", str(answer.kind)),
        ("my back hurts and I can't control my bladder", "urgent"),
    ]
    assert rows[0].top_score == max(p.score for p in answer.passages)
    assert rows[1].top_score is None and rows[0].feedback is None


def test_feedback_goes_to_the_latest_answer_to_that_question(tmp_path: Path) -> None:
    log = QuestionLog(tmp_path / FILE_NAME)
    first = log.record("What is fascia?", "answer", 0.5)
    second = log.record("What is fascia?", "answer", 0.5)
    assert log.feedback_for_question("What is fascia? ", liked=False)
    assert not log.feedback_for_question("never asked", liked=True)
    assert {r.id: r.feedback for r in log.questions()} == {first: None, second: -1}
    assert log.feedback(first, liked=True)
    assert not log.feedback("no-such-id", liked=True)


def test_questions_older_than_the_retention_are_deleted(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    QuestionLog(path).record("old question", "not_covered", 0.2)
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute("UPDATE questions SET asked_at = ?", (time.time() - 8 * 86_400,))
    log = QuestionLog(path, retention_days=7)  # opening prunes
    log.record("new question", "not_covered", 0.2)
    assert [r.question for r in log.questions()] == ["new question"]


def test_logging_turned_off_gives_no_log(tmp_path: Path) -> None:
    assert QuestionLog.from_settings(make_settings(tmp_path, question_log=False)) is None
    log = QuestionLog.from_settings(make_settings(tmp_path, question_log_days=3))
    assert log is not None and log.path == tmp_path / FILE_NAME and log.retention_days == 3


def test_purge_empties_the_file(tmp_path: Path) -> None:
    log = QuestionLog(tmp_path / FILE_NAME)
    log.record("secret question text", "not_covered", 0.1)
    assert log.purge() == 1 and log.questions() == []
    assert b"secret question text" not in (tmp_path / FILE_NAME).read_bytes()
