"""The question log: what readers ask and how it went, for the author's gap report.

One SQLite file under the data folder. It keeps the question text, the reply's kind, the
best retrieval score, the time, an answer id, and thumbs up/down: never an IP address, a
session or anything else about who asked. Health data stays out (docs/safety.md):

- an urgent or clinician reply keeps no text at all: its kind and the day, nothing else;
- emails, phone numbers and names given as "my name is ..." / "I'm Sam" are redacted from
  any other question before it is written;
- times are rounded down to the hour (to the day for rows without text);
- rows older than the retention (``SUPPLE_QUESTION_LOG_DAYS``, 30 by default) are deleted.

Turned off with ``SUPPLE_QUESTION_LOG=false``; ``python -m eval gaps --purge`` empties it.
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import StoreError
from assistant.settings import Settings

FILE_NAME = "questions.sqlite3"
DAY = 86_400.0
HOUR = 3600.0
# Redactions before a question is stored. Names only as the reader introduces themself
# ("my name is Ana Lopez", "I'm Sam", "call me Jo"): "I'm" takes a capitalised word only.
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w.])\+?\(?\d[\d ()./-]{5,}\d(?![\w.])")
_DATE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
_NAMED = re.compile(
    r"(?i:\b(my name is|my name's|name's|call me)\s+)[A-Za-z][\w'-]*(\s+[A-Z][\w'-]*)?"
)
_IM = re.compile(r"(?i:\b(i'm|i am|im)\s+)[A-Z][a-z'-]+(\s+[A-Z][a-z'-]+)?\b(?!')")
# Capitalised words after "I'm" that are no name ("I'm Not sure", "I'm British").
_NOT_NAMES = frozenset(
    """not so very really just also still always never now here back new sure sorry tired
    fine ok okay british english american irish scottish welsh canadian australian a an the
    in on at trying going doing having getting currently pregnant vegan""".split()
)


def _phone_or_keep(match: re.Match[str]) -> str:
    found = match.group(0)
    if _DATE.fullmatch(found.strip()) or sum(ch.isdigit() for ch in found) < 7:
        return found
    return "[phone]"


def _name_or_keep(match: re.Match[str]) -> str:
    first = match.group(0)[len(match.group(1)) :].split()[0].lower()
    return match.group(0) if first in _NOT_NAMES else f"{match.group(1)} [name]"


def redact(text: str) -> str:
    """``text`` without emails, phone numbers and names the reader introduced themself by."""
    text = _PHONE.sub(_phone_or_keep, _EMAIL.sub("[email]", text))
    return _IM.sub(_name_or_keep, _NAMED.sub(r"\1 [name]", text))


def stored_time(now: float, private: bool) -> float:
    """The time kept for a row: the hour it was asked in, or the day for a private row."""
    step = DAY if private else HOUR
    return (now // step) * step


_SCHEMA = """
CREATE TABLE IF NOT EXISTS questions (
    id TEXT PRIMARY KEY,
    asked_at REAL NOT NULL,
    question TEXT NOT NULL,
    kind TEXT NOT NULL,
    top_score REAL,
    feedback INTEGER,            -- 1 thumbs up, -1 thumbs down, NULL none
    feedback_at REAL
);
CREATE INDEX IF NOT EXISTS questions_asked_at ON questions (asked_at);
CREATE INDEX IF NOT EXISTS questions_question ON questions (question);
"""


@dataclass(frozen=True)
class LoggedQuestion:
    id: str
    asked_at: float
    question: str
    kind: str
    top_score: float | None
    feedback: int | None


class QuestionLog:
    """Records questions and feedback; safe to share across threads (one connection a call)."""

    def __init__(self, path: Path, retention_days: float = 30.0) -> None:
        self.path = Path(path)
        self.retention_days = retention_days
        self._last_prune = 0.0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.executescript(_SCHEMA)
                # rows written before these rules: no urgent text, whole hours
                db.execute(
                    "UPDATE questions SET question = '' WHERE kind = 'urgent' AND question != ''"
                )
                db.execute(
                    "UPDATE questions SET asked_at = CAST(asked_at / 3600 AS INTEGER) * 3600, "
                    "feedback_at = CAST(feedback_at / 3600 AS INTEGER) * 3600 "
                    "WHERE asked_at != CAST(asked_at / 3600 AS INTEGER) * 3600"
                )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open the question log {self.path}: {exc}") from exc
        self.prune()

    @classmethod
    def from_settings(cls, settings: Settings) -> QuestionLog | None:
        """The log under the data folder, or None when logging is turned off."""
        if not settings.question_log:
            return None
        return cls(Path(settings.data_dir) / FILE_NAME, settings.question_log_days)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=10)
        try:
            with db:  # commits, or rolls back on error
                yield db
        finally:
            db.close()

    def record(
        self, question: str, kind: str, top_score: float | None, *, private: bool = False
    ) -> str:
        """Store one asked question; returns its answer id ("" when the write failed:
        logging is best effort and never stops a reader's answer). A ``private`` row (an
        urgent or clinician reply; any urgent one) keeps no text, no score and only the day."""
        answer_id = uuid.uuid4().hex
        now = time.time()
        private = private or kind == "urgent"
        text = "" if private else redact(question)
        try:
            with self._connect() as db:
                db.execute(
                    "INSERT INTO questions (id, asked_at, question, kind, top_score) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (
                        answer_id,
                        stored_time(now, private),
                        text,
                        kind,
                        None if private else top_score,
                    ),
                )
            if now - self._last_prune > 3600:
                self.prune()
        except sqlite3.Error:
            return ""
        return answer_id

    def feedback(self, answer_id: str, liked: bool) -> bool:
        """Thumbs up or down on one answer; False when the id is unknown."""
        with self._connect() as db:
            cursor = db.execute(
                "UPDATE questions SET feedback = ?, feedback_at = ? WHERE id = ?",
                (1 if liked else -1, stored_time(time.time(), False), answer_id),
            )
        return cursor.rowcount > 0

    def feedback_for_question(self, question: str, liked: bool) -> bool:
        """Thumbs on the latest answer to ``question`` (the chat knows the text, not the id)."""
        with self._connect() as db:
            row = db.execute(
                "SELECT id FROM questions WHERE question = ? AND question != '' "
                "ORDER BY asked_at DESC, rowid DESC LIMIT 1",
                (redact(question.strip()),),
            ).fetchone()
        return self.feedback(row[0], liked) if row else False

    def questions(self) -> list[LoggedQuestion]:
        """Every kept question, oldest first."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, asked_at, question, kind, top_score, feedback FROM questions "
                "ORDER BY asked_at, rowid"
            ).fetchall()
        return [LoggedQuestion(*row) for row in rows]

    def prune(self) -> int:
        """Delete questions older than the retention; returns how many went."""
        self._last_prune = time.time()
        cutoff = self._last_prune - self.retention_days * DAY
        with self._connect() as db:
            return db.execute("DELETE FROM questions WHERE asked_at < ?", (cutoff,)).rowcount

    def purge(self) -> int:
        """Delete every stored question; returns how many went."""
        with self._connect() as db:
            count = db.execute("DELETE FROM questions").rowcount
        with contextlib.closing(sqlite3.connect(self.path)) as db:
            db.execute("VACUUM")  # the deleted text must not linger in free pages
        return count
