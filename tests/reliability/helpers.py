"""Helpers for the reliability suite: a served app whose process we can watch, a Chroma
server we can stop and start, and the checks every reply must pass whatever was asked.

Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import html
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.prompts import load_prompt
from assistant.settings import PROMPTS_DIR, Settings
from tests.conftest import CORPUS
from tests.servers import REPO, free_port, wait_for

KINDS = {"answer", "not_covered", "urgent"}
DISCLAIMER = load_prompt(PROMPTS_DIR, "disclaimer")
# The load test must not be throttled by the per-address rate limiter (issue 6): it is one
# address asking hundreds of questions. The limiter itself is tested by the web layer.
NO_RATE_LIMIT = {"SUPPLE_RATE_PER_MINUTE": "0", "SUPPLE_RATE_PER_DAY": "0"}


def answer_problems(answer: dict[str, Any]) -> list[str]:
    """What is wrong with an Answer object as a reader would get it (empty = nothing)."""
    problems = []
    if answer.get("kind") not in KINDS:
        problems.append(f"kind {answer.get('kind')!r}")
    if not str(answer.get("disclaimer") or "").strip():
        problems.append("no disclaimer")
    if not str(answer.get("text") or "").strip():
        problems.append("no text")
    passages = [str(p.get("text", "")) for p in answer.get("passages") or []]
    for citation in answer.get("citations") or []:
        quoted = str(citation.get("text") or "")
        if not quoted or not any(quoted in p for p in passages):
            problems.append(f"citation [{citation.get('n')}] quotes no retrieved passage")
    if answer.get("kind") == "answer" and not answer.get("citations"):
        problems.append("an answer without citations")
    return problems


def chat_problems(message: str) -> list[str]:
    """What is wrong with a chat reply (the Gradio markdown): every reply ends in the
    disclaimer, and an error shows as one line starting with the warning sign, no traceback."""
    problems = []
    if html.escape(DISCLAIMER, quote=False) not in message:
        problems.append("no disclaimer")
    if "Traceback" in message:
        problems.append("a traceback")
    return problems


@dataclass
class ServedApp:
    base: str
    proc: subprocess.Popen[bytes]
    data_dir: Path
    log_path: Path

    def rss_mb(self) -> float:
        """Resident memory of the app process, from /proc."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def serve_app(
    data_dir: Path, env: dict[str, str], corpus_dir: Path = CORPUS
) -> Iterator[ServedApp]:
    """``python app.py`` in a subprocess on 127.0.0.1 (like tests.servers.running_app, but
    the process is kept so a test can read its memory); its output goes beside data_dir."""
    port = free_port()
    full_env = {
        **os.environ,
        "SUPPLE_DATA_DIR": str(data_dir),
        "SUPPLE_CORPUS_DIR": str(corpus_dir),
        "SUPPLE_HOST": "127.0.0.1",
        "SUPPLE_PORT": str(port),
        **env,
    }
    log_path = data_dir.parent / f"app-{port}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "app.py")], cwd=REPO, env=full_env, stdout=log, stderr=log
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for(f"{base}/api/health", timeout=120, proc=proc)
            yield ServedApp(base, proc, data_dir, log_path)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def indexed_copy(source: Settings, target: Path) -> Path:
    """A private copy of an already built index (no re-embedding), as a data folder."""
    shutil.copytree(source.data_dir / "chroma", target / "chroma")
    return target


class ChromaServer:
    """``chroma run`` on 127.0.0.1 over ``path``, on one port across stops and starts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        chroma = Path(sys.executable).with_name("chroma")
        self.path.mkdir(parents=True, exist_ok=True)
        with (self.path.parent / f"chroma-{self.port}.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [
                    chroma,
                    "run",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--path",
                    self.path,
                ],
                stdout=log,
                stderr=log,
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
            )
        wait_for(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=60, proc=self.proc)

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
