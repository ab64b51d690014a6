"""Start and stop the real servers tests need, on 127.0.0.1 only."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(url: str, timeout: float = 90.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status < 500:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")


@contextlib.contextmanager
def running_app(data_dir: Path, corpus_dir: Path | None = None, **env: str) -> Iterator[str]:
    """``python app.py`` in a subprocess; yields its base URL, e.g. http://127.0.0.1:PORT"""
    port = free_port()
    full_env = {
        **os.environ,
        "SUPPLE_DATA_DIR": str(data_dir),
        "SUPPLE_CORPUS_DIR": str(corpus_dir or REPO / "corpus"),
        "SUPPLE_HOST": "127.0.0.1",
        "SUPPLE_PORT": str(port),
        **env,
    }
    log = (data_dir.parent / f"app-{port}.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "app.py")], cwd=REPO, env=full_env, stdout=log, stderr=log
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/api/health", proc=proc)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
