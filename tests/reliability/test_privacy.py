"""Privacy: after real calls through the app, with a forwarded address, a user agent and a
cookie, nothing under SUPPLE_DATA_DIR holds an IP address or any identifier of who asked;
the question log's table has no column for one; ``python -m eval gaps --purge`` empties it.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from assistant.questionlog import FILE_NAME
from tests.conftest import REPO
from tests.servers import ServedApp

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

FORWARDED_IP = "203.0.113.77"  # TEST-NET-3: appears nowhere unless the app writes it down
USER_AGENT = "ReliabilityProbe/9.9 (tracking-id 5f1e2d)"
COOKIE = "reader_session=c00k1e-1d-424242"
IP_PATTERN = re.compile(rb"\b(?:\d{1,3}\.){3}\d{1,3}\b|\b127\.0\.0\.1\b|::1\b")
IDENTITY_COLUMNS = re.compile(
    r"ip|addr|host|client|user|agent|session|cookie|email|device|fingerprint", re.I
)
ALLOWED_COLUMNS = {"id", "asked_at", "question", "kind", "top_score", "feedback", "feedback_at"}


def data_files(data_dir: Path) -> list[Path]:
    return [p for p in sorted(data_dir.rglob("*")) if p.is_file()]


def test_no_address_or_identifier_is_stored(served: ServedApp) -> None:
    marker = "privacy probe: which exercises strengthen the gluteus maximus?"
    headers = {"X-Forwarded-For": FORWARDED_IP, "User-Agent": USER_AGENT, "Cookie": COOKIE}
    with httpx.Client(base_url=served.base, timeout=60, headers=headers) as http:
        assert http.post("/api/ask", json={"question": marker}).status_code == 200
        assert http.post("/api/ask/stream", json={"question": marker}).status_code == 200
    chat = Client(served.base + "/", verbose=False, headers=headers, httpx_kwargs={"timeout": 60})
    try:
        chat.predict(marker, api_name="/chat")
    finally:
        chat.close()

    log = sqlite3.connect(served.data_dir / FILE_NAME)
    try:
        tables = [r[0] for r in log.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = {r[1] for r in log.execute(f"PRAGMA table_info({table})")}
            assert not [c for c in columns if IDENTITY_COLUMNS.search(c)], (table, columns)
        assert {r[1] for r in log.execute("PRAGMA table_info(questions)")} <= ALLOWED_COLUMNS
        rows = log.execute(
            "SELECT * FROM questions WHERE question LIKE 'privacy probe%'"
        ).fetchall()
    finally:
        log.close()
    assert len(rows) >= 2, "the calls were not logged at all: the test would prove nothing"

    # Every byte of every file the app keeps: no address, no agent, no cookie.
    for path in data_files(served.data_dir):
        content = path.read_bytes()
        assert FORWARDED_IP.encode() not in content, path
        assert b"ReliabilityProbe" not in content and b"c00k1e-1d" not in content, path
        found = {m.group().decode() for m in IP_PATTERN.finditer(content)}
        assert not found, (path, sorted(found)[:5])
    # Nor does the app's own output (uvicorn's access log would print "ADDR:PORT - "POST ...").
    output = served.log()
    assert FORWARDED_IP not in output and "ReliabilityProbe" not in output
    assert not re.search(r'\d+\.\d+\.\d+\.\d+:\d+ - "', output), "an access log line"


def test_purge_deletes_every_stored_question(served: ServedApp) -> None:
    httpx.post(
        f"{served.base}/api/ask", json={"question": "What do fascial adhesions do?"}, timeout=60
    ).raise_for_status()
    env = {**os.environ, "SUPPLE_DATA_DIR": str(served.data_dir)}
    done = subprocess.run(
        [sys.executable, "-m", "eval", "gaps", "--purge"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with sqlite3.connect(served.data_dir / FILE_NAME) as log:
        assert log.execute("SELECT count(*) FROM questions").fetchone() == (0,)
    content = (served.data_dir / FILE_NAME).read_bytes()
    assert b"fascial adhesions" not in content  # vacuumed, not just unlinked from the table
