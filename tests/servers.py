"""Start and stop the real servers tests need, on 127.0.0.1 only: the app and Chroma."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# The app is started the same way as the bench starts it (one implementation, in eval).
from eval.bench.app_process import REPO, ServedApp, free_port, stop, wait_for
from eval.bench.app_process import serve_app as _serve_app

# Tests serve the frozen fixture blog, never the live corpus/ the author edits.
BLOG = REPO / "tests" / "fixtures" / "blog"


def serve_app(
    data_dir: Path, env: dict[str, str], corpus_dir: Path | None = None, timeout: float = 120
) -> contextlib.AbstractContextManager[ServedApp]:
    """``python app.py`` over ``corpus_dir`` (default: the fixture blog)."""
    return _serve_app(data_dir, env, corpus_dir or BLOG, timeout=timeout)


CHROMA = Path(sys.executable).with_name("chroma")

__all__ = [
    "REPO",
    "ChromaServer",
    "ServedApp",
    "free_port",
    "running_app",
    "running_chroma",
    "serve_app",
    "served_in_process",
    "stop",
    "wait_for",
]


@contextlib.contextmanager
def served_in_process(app: Any) -> Iterator[str]:
    """An ASGI ``app`` under uvicorn on 127.0.0.1 in a thread of this process; its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(f"http://127.0.0.1:{port}/api/health", timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextlib.contextmanager
def running_app(data_dir: Path, corpus_dir: Path | None = None, **env: str) -> Iterator[str]:
    """``python app.py`` in a subprocess; yields its base URL, e.g. http://127.0.0.1:PORT"""
    with serve_app(data_dir, env, corpus_dir, timeout=90) as app:
        yield app.base


class ChromaServer:
    """``chroma run`` on 127.0.0.1 over ``path``, on one port across stops and starts."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        command = [CHROMA, "run", "--host", "127.0.0.1", "--port", str(self.port)]
        with (self.path.parent / f"chroma-{self.port}.log").open("ab") as log:
            self.proc = subprocess.Popen(
                [*map(str, command), "--path", str(self.path)],
                stdout=log,
                stderr=log,
                env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
            )
        wait_for(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=60, proc=self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)
            self.proc = None


@contextlib.contextmanager
def running_chroma(path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(path)
    server.start()
    try:
        yield server
    finally:
        server.stop()
