"""``python app.py`` in a subprocess on 127.0.0.1: the one way the bench and the tests start it.

``serve_app`` starts it, waits for its first answered ``/api/health`` and stops it on exit;
``ServedApp.started`` is the monotonic time of the ``Popen``, so a caller can time start-up
from the same instant (``eval.bench.start``). Its output goes to a log beside ``data_dir``.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# The model is never fetched, and nothing phones home, whoever starts the app.
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(
    url: str,
    timeout: float = 90.0,
    proc: subprocess.Popen[bytes] | None = None,
    body: bytes | None = None,
) -> float:
    """Poll ``url`` (a POST of ``body`` when given) until it answers 2xx; the monotonic time
    it did. Raises when ``proc`` exits first or ``timeout`` seconds pass."""
    headers = {"Content-Type": "application/json"} if body is not None else {}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        request = urllib.request.Request(url, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                if response.status < 300:
                    return time.monotonic()
        except OSError:  # refused while starting, or an HTTP error status: try again
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate, then kill if it will not go within 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def process_rss_mb(pid: int) -> float | None:
    """Resident memory of a process, in MiB, from /proc (None where there is none)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class ServedApp:
    base: str  # e.g. http://127.0.0.1:PORT
    proc: subprocess.Popen[bytes]
    data_dir: Path
    log_path: Path
    started: float  # time.monotonic() just before the Popen
    health_s: float  # seconds from ``started`` to the first answered /api/health

    def rss_mb(self) -> float:
        """Resident memory of the app process."""
        rss = process_rss_mb(self.proc.pid)
        if rss is None:
            raise RuntimeError(f"no resident memory for process {self.proc.pid}")
        return rss

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def serve_app(
    data_dir: Path,
    env: dict[str, str] | None = None,
    corpus_dir: Path | None = None,
    timeout: float = 120,
    *,
    chat: bool = True,
) -> Iterator[ServedApp]:
    """``python app.py`` over ``data_dir`` and ``corpus_dir`` (default: the repo's corpus),
    ``env`` added last; yields once ``/api/health`` answers and, with ``chat``, the chat at
    ``/`` (mounted a few seconds after the API: webapp/startup.py); stops it on exit."""
    port = free_port()
    full_env = {
        **os.environ,
        **OFFLINE_ENV,
        "SUPPLE_DATA_DIR": str(data_dir),
        "SUPPLE_CORPUS_DIR": str(corpus_dir or REPO / "corpus"),
        "SUPPLE_HOST": "127.0.0.1",
        "SUPPLE_PORT": str(port),
        **(env or {}),
    }
    log_path = data_dir.parent / f"app-{port}.log"
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        started = time.monotonic()
        proc = subprocess.Popen(
            [sys.executable, str(REPO / "app.py")], cwd=REPO, env=full_env, stdout=log, stderr=log
        )
        try:
            health = wait_for(f"{base}/api/health", timeout=timeout, proc=proc) - started
            if chat:
                wait_for(f"{base}/", timeout=timeout, proc=proc)
            yield ServedApp(base, proc, data_dir, log_path, started, health)
        finally:
            stop(proc)
