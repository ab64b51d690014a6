"""Start and stop the real servers tests need, on 127.0.0.1 only: the app and Chroma."""

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

REPO = Path(__file__).resolve().parent.parent
CHROMA = Path(sys.executable).with_name("chroma")


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


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate, then kill if it will not go within 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@dataclass
class ServedApp:
    base: str  # e.g. http://127.0.0.1:PORT
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
    data_dir: Path, env: dict[str, str], corpus_dir: Path | None = None, timeout: float = 120
) -> Iterator[ServedApp]:
    """``python app.py`` in a subprocess on 127.0.0.1; its output goes beside data_dir."""
    port = free_port()
    full_env = {
        **os.environ,
        "SUPPLE_DATA_DIR": str(data_dir),
        "SUPPLE_CORPUS_DIR": str(corpus_dir or REPO / "tests" / "fixtures" / "blog"),
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
            wait_for(f"{base}/api/health", timeout=timeout, proc=proc)
            yield ServedApp(base, proc, data_dir, log_path)
        finally:
            stop(proc)


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
