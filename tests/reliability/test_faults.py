"""Faults: the parts around the assistant fail, and the reader still gets one clear line,
nothing is lost, and service comes back by itself.

Covered elsewhere and referenced here (docs/reliability.md):
- ingest killed with SIGKILL mid-write, then re-run: tests/ingest/test_crash_safety.py;
- LLM down, hanging or dripping past its deadline, in process: tests/assistant/test_llm_backend.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from gradio_client import Client

from assistant.llm import FALLBACK_NOTE
from assistant.retrieve import STORE_UNAVAILABLE
from assistant.settings import Settings
from ingest.embed import Embedder
from ingest.run import run_ingest, status
from ingest.store import ingest_lock
from tests.conftest import CORPUS, REPO, make_settings
from tests.ingest.test_crash_safety import stored_chunks
from tests.reliability.helpers import NO_RATE_LIMIT, answer_problems, indexed_copy
from tests.servers import ChromaServer, free_port, serve_app

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

QUESTION = "Which exercises strengthen the gluteus maximus?"


def ask(base: str, question: str = QUESTION, timeout: float = 60) -> httpx.Response:
    return httpx.post(f"{base}/api/ask", json={"question": question}, timeout=timeout)


def ingest_cli(
    data_dir: Path,
    *args: str,
    preexec: Callable[[], None] | None = None,
    wrap: list[str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``python -m ingest ARGS`` on the real corpus into ``data_dir``."""
    env = {**os.environ, "SUPPLE_DATA_DIR": str(data_dir), "SUPPLE_CORPUS_DIR": str(CORPUS)}
    return subprocess.run(
        [*(wrap or []), sys.executable, "-m", "ingest", *args],
        cwd=REPO,
        env=env,
        preexec_fn=preexec,
        capture_output=True,
        text=True,
        timeout=300,
    )


def one_clear_line(result: subprocess.CompletedProcess[str]) -> str:
    """A refused run: exit 2, one ``error:`` line on stderr, no traceback."""
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def file_digests(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


# ---------------------------------------------------------------- the Chroma server goes away


def test_chroma_server_stopped_mid_session_then_back(tmp_path: Path, embedder: Embedder) -> None:
    """Stop the Chroma server under a running app: the API answers 503 with one line, the
    chat shows that line, health says 503; start it again: answers come back, no restart."""
    chroma = ChromaServer(tmp_path / "chroma")
    chroma.start()
    try:
        settings = make_settings(
            tmp_path / "data", chroma_host="127.0.0.1", chroma_port=chroma.port
        )
        run_ingest(settings, embedder=embedder)
        env = {
            **NO_RATE_LIMIT,
            "SUPPLE_CHROMA_HOST": "127.0.0.1",
            "SUPPLE_CHROMA_PORT": str(chroma.port),
        }
        with serve_app(tmp_path / "data", env) as app:
            before = ask(app.base)
            assert before.status_code == 200 and before.json()["kind"] == "answer"
            chat = Client(app.base + "/", verbose=False, httpx_kwargs={"timeout": 60})

            chroma.stop()
            down = ask(app.base)
            assert down.status_code == 503
            assert down.json() == {"error": STORE_UNAVAILABLE}
            assert f"⚠️ {STORE_UNAVAILABLE}" in str(chat.predict(QUESTION, api_name="/chat"))
            health = httpx.get(f"{app.base}/api/health", timeout=30)
            assert health.status_code == 503 and set(health.json()) == {"error"}

            chroma.start()
            after = ask(app.base)
            assert after.status_code == 200, after.text
            assert answer_problems(after.json()) == []
            assert after.json()["citations"] == before.json()["citations"]  # nothing lost
            assert httpx.get(f"{app.base}/api/health", timeout=30).json()["status"] == "ok"
            chat.close()
            assert "Traceback" not in app.log()  # (a shutdown may cancel a stream: not counted)
    finally:
        chroma.stop()


# ---------------------------------------------------------------- the LLM backend is down


def test_llm_backend_silent_then_gone_gives_the_extractive_answer_over_http(
    tmp_path: Path, indexed_settings: Settings
) -> None:
    """SUPPLE_BACKEND names a model whose server first takes the connection and says nothing,
    then is not there at all: each time the reader gets the extractive answer with the
    fallback note, within the timeouts, never an error or a hang."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    env = {
        **NO_RATE_LIMIT,
        "SUPPLE_BACKEND": "openai:gpt-4o-mini",
        "SUPPLE_LLM_BASE_URL": f"http://127.0.0.1:{silent.getsockname()[1]}/v1",
        "OPENAI_API_KEY": "test-key-not-used",
        "SUPPLE_LLM_TIMEOUT": "2",
        "SUPPLE_LLM_MAX_SECONDS": "5",
    }
    try:
        with serve_app(indexed_copy(indexed_settings, tmp_path / "data"), env) as app:
            ask(app.base)  # the first reply after start also warms the process up: not timed
            timings = {}
            for state in ("silent", "closed"):
                if state == "closed":
                    silent.close()
                started = time.monotonic()
                response = ask(app.base)
                timings[state] = time.monotonic() - started
                assert response.status_code == 200, response.text
                answer = response.json()
                assert answer_problems(answer) == []
                assert answer["kind"] == "answer" and answer["note"] == FALLBACK_NOTE
    finally:
        silent.close()
    print(f"\nLLM fallback seconds: {timings}")
    assert timings["silent"] < 20 and timings["closed"] < 15, timings


# ---------------------------------------------------------------- the data folder


def run_read_only(data: Path, command: list[str]) -> subprocess.CompletedProcess[str]:
    """``python COMMAND`` with SUPPLE_DATA_DIR=data made read-only for it."""
    env = {**os.environ, "SUPPLE_DATA_DIR": str(data), "SUPPLE_CORPUS_DIR": str(CORPUS)}
    env["SUPPLE_PORT"] = str(free_port())
    wrap: list[str] = []
    if os.geteuid() == 0:  # root writes through file modes: mount the folder read-only
        if shutil.which("unshare") is None:
            pytest.skip("running as root without unshare: cannot make a folder read-only")
        wrap = [
            "unshare",
            "-m",
            "sh",
            "-c",
            f'mount --bind -o ro "{data}" "{data}" && exec "$@"',
            "sh",
        ]
    else:
        for path in [data, *data.rglob("*")]:
            path.chmod(path.stat().st_mode & ~0o222)
    try:
        result = subprocess.run(
            [*wrap, sys.executable, *command],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
    finally:
        if not wrap:
            for path in [data, *data.rglob("*")]:
                path.chmod(path.stat().st_mode | 0o200)
    if wrap and "mount" in result.stderr and result.returncode != 2:
        pytest.skip(f"cannot mount read-only here: {result.stderr[-200:]}")
    return result


@pytest.mark.parametrize(
    "command",
    [["-m", "ingest", "--rebuild", "--json"], ["app.py"]],
    ids=["ingest --rebuild", "app.py"],
)
def test_a_read_only_data_folder_gives_one_clear_line_and_changes_nothing(
    tmp_path: Path, indexed_settings: Settings, embedder: Embedder, command: list[str]
) -> None:
    data = indexed_copy(indexed_settings, tmp_path / "data")
    before = file_digests(data)
    line = one_clear_line(run_read_only(data, command))
    assert "data folder" in line or "index" in line, line
    assert file_digests(data) == before  # not a byte changed, even with --rebuild
    assert status(make_settings(data), embedder).stale is False


def test_ingest_on_a_full_disk_refuses_then_a_rerun_builds_the_whole_index(
    tmp_path: Path, indexed_settings: Settings, embedder: Embedder
) -> None:
    """No file may grow past 150 kB (RLIMIT_FSIZE: how a full disk looks to a writer)."""

    def full_disk() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, 150_000))

    data = tmp_path / "data"
    one_clear_line(ingest_cli(data, "--json", preexec=full_disk))
    run_ingest(make_settings(data), embedder=embedder)  # space is back: the same folder, again
    expected = status(indexed_settings, embedder)  # a clean build of the same corpus
    got = status(make_settings(data), embedder)
    assert got.stale is False
    assert (got.articles, got.chunks) == (expected.articles, expected.chunks)


# ---------------------------------------------------------------- two ingests at once


def test_two_ingests_at_once_one_refuses_or_waits_and_the_index_is_right(
    tmp_path: Path, embedder: Embedder
) -> None:
    data = tmp_path / "data"
    # While another ingest holds the lock, a second refuses at once with one line...
    with ingest_lock(data):
        line = one_clear_line(ingest_cli(data, "--json"))
        assert "another ingest" in line
        # ...or, asked to wait, waits for it to end.
        waiting = subprocess.Popen(
            [sys.executable, "-m", "ingest", "--json", "--wait", "240"],
            cwd=REPO,
            env={**os.environ, "SUPPLE_DATA_DIR": str(data), "SUPPLE_CORPUS_DIR": str(CORPUS)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(3)
        assert waiting.poll() is None, "it did not wait for the lock"
    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err[-2000:]
    first = json.loads(out)
    # Two started together: each ends with success or the one clear refusal, never harm.
    racers = [
        subprocess.Popen(
            [sys.executable, "-m", "ingest", "--json"],
            cwd=REPO,
            env={**os.environ, "SUPPLE_DATA_DIR": str(data), "SUPPLE_CORPUS_DIR": str(CORPUS)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for racer in racers:
        out, err = racer.communicate(timeout=300)
        assert "Traceback" not in err
        if racer.returncode == 0:
            assert json.loads(out)["embedded"] == 0  # nothing changed: nothing re-embedded
        else:
            assert racer.returncode == 2 and "another ingest" in err
    got = status(make_settings(data), embedder)
    assert got.stale is False
    assert (got.articles, got.chunks) == (first["articles"], first["chunks"])


# ---------------------------------------------------------------- ingest killed mid-write


def test_ingest_killed_mid_write_then_the_app_heals_the_index_and_answers(
    tmp_path: Path,
) -> None:
    """kill -9 an ingest partway (the index holds some chunks, not all), then start the app
    on that folder: it sees the index is stale, re-indexes, and answers completely.
    (Rerun-equals-clean-build is proved in tests/ingest/test_crash_safety.py.)"""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    for n in range(100):  # 200 more passages, embedded 64 at a time: the kill lands mid-write
        (corpus / f"note-{n:03d}.md").write_text(
            f"---\ntitle: Hip note {n}\n---\n\n## Side-lying drill {n}\n\nLie on your side and "
            f"lift the top leg a hand's width for {n % 9 + 2} slow breaths, pelvis still.\n\n"
            f"## Why it helps {n}\n\nThe gluteus medius steadies the pelvis when you walk; "
            f"note {n} of the series.\n"
        )
    data = tmp_path / "data"
    env = {
        **os.environ,
        "SUPPLE_DATA_DIR": str(data),
        "SUPPLE_CORPUS_DIR": str(corpus),
        "SUPPLE_EMBED_GROUP": "64",
    }
    child = subprocess.Popen([sys.executable, "-m", "ingest", "--json"], cwd=REPO, env=env)
    try:
        deadline = time.monotonic() + 300
        while stored_chunks(data) == 0:
            assert child.poll() is None, "ingest ended before it was killed"
            assert time.monotonic() < deadline, "ingest wrote nothing in 300 s"
            time.sleep(0.05)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    written = stored_chunks(data)
    with serve_app(data, NO_RATE_LIMIT, corpus_dir=corpus) as app:
        health = httpx.get(f"{app.base}/api/health", timeout=30).json()
        response = ask(app.base)
        assert "indexing the corpus first" in app.log()
    assert 0 < written < health["chunks"], (written, health)
    assert response.status_code == 200 and answer_problems(response.json()) == []
    assert response.json()["kind"] == "answer"
