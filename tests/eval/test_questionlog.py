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
    # the urgent row keeps only its day, so it sorts first (or in place at 00:xx UTC)
    rows = sorted(log.questions(), key=lambda r: r.kind)
    assert [(r.question, r.kind) for r in rows] == [
        ("What is fascia?", str(answer.kind)),
        ("", "urgent"),  # health data: kind and day only
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


def test_urgent_and_clinician_rows_keep_no_text_and_only_the_day(tmp_path: Path) -> None:
    log = QuestionLog(tmp_path / FILE_NAME)
    log.record("I lost bladder control and my groin is numb", "urgent", 0.4)
    log.record("how much ibuprofen can I take", "not_covered", None, private=True)
    rows = log.questions()
    assert [(r.question, r.kind, r.top_score) for r in rows] == [
        ("", "urgent", None),
        ("", "not_covered", None),
    ]
    assert all(r.asked_at % 86_400 == 0 for r in rows)
    content = (tmp_path / FILE_NAME).read_bytes()
    assert b"bladder" not in content and b"ibuprofen" not in content


def test_emails_phones_and_names_are_redacted_and_times_are_whole_hours(tmp_path: Path) -> None:
    log = QuestionLog(tmp_path / FILE_NAME)
    log.record(
        "Hi, my name is Ana Lopez (ana.lopez@example.com, +44 7700 900123). I'm Ana, "
        "I'm not sure: which glute exercises after 3 sets of 10 on 2026-11-30?",
        "not_covered",
        0.2,
    )
    (row,) = log.questions()
    assert row.question == (
        "Hi, my name is [name] ([email], [phone]). I'm [name], "
        "I'm not sure: which glute exercises after 3 sets of 10 on 2026-11-30?"
    )
    assert row.asked_at % 3600 == 0 and time.time() - row.asked_at < 3600
    assert b"Lopez" not in (tmp_path / FILE_NAME).read_bytes()


def test_rows_written_before_the_rules_are_brought_to_them(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    QuestionLog(path).record("What is fascia?", "answer", 0.5)
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "INSERT INTO questions (id, asked_at, question, kind) VALUES "
            "('old', ?, 'I peed myself and my back hurts', 'urgent')",
            (time.time() - 0.123,),
        )
    rows = {r.id: r for r in QuestionLog(path).questions()}
    assert rows["old"].question == "" and rows["old"].asked_at % 3600 == 0


def test_default_retention_is_thirty_days(tmp_path: Path) -> None:
    assert QuestionLog(tmp_path / FILE_NAME).retention_days == 30
    assert make_settings(tmp_path).question_log_days == 30
