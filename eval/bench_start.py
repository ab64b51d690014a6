"""Start-up figures: ``python app.py`` to its first answered ``/api/health`` (and first
answer), and the time to import the app, with the heaviest top-level imports named.
"""

from __future__ import annotations

import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.bench_timing import process_rss_mb

REPO = Path(__file__).resolve().parent.parent
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
}


@dataclass(frozen=True)
class StartFigures:
    cold_start_s: float  # median, python app.py -> first 200 from /api/health
    first_answer_s: float  # median, python app.py -> first answered POST /api/ask
    runs: list[float]
    app_rss_mb: float | None
    import_app_s: float
    heaviest_imports_s: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cold_start_s": round(self.cold_start_s, 3),
            "first_answer_s": round(self.first_answer_s, 3),
            "cold_start_runs_s": [round(r, 3) for r in self.runs],
            "app_rss_mb": None if self.app_rss_mb is None else round(self.app_rss_mb, 1),
            "import_app_s": round(self.import_app_s, 3),
            "heaviest_imports_s": self.heaviest_imports_s,
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _answers(url: str, body: bytes | None = None) -> bool:
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"} if body else {}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _poll(url: str, proc: subprocess.Popen[bytes], deadline: float, body: bytes | None) -> float:
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"python app.py exited with {proc.returncode} before answering")
        if _answers(url, body):
            return time.monotonic()
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer in time")


def one_cold_start(
    data_dir: Path, corpus_dir: Path, timeout: float = 120.0
) -> tuple[float, float, float | None]:
    """Seconds to the first health answer and to the first question answered; the app's RSS."""
    port = _free_port()
    env = {
        **os.environ,
        **OFFLINE_ENV,
        "SUPPLE_DATA_DIR": str(data_dir),
        "SUPPLE_CORPUS_DIR": str(corpus_dir),
        "SUPPLE_HOST": "127.0.0.1",
        "SUPPLE_PORT": str(port),
        "SUPPLE_CHROMA_HOST": "",
    }
    base = f"http://127.0.0.1:{port}"
    log = (data_dir / f"app-{port}.log").open("wb")
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "app.py")], cwd=REPO, env=env, stdout=log, stderr=log
    )
    try:
        deadline = started + timeout
        health = _poll(f"{base}/api/health", proc, deadline, None) - started
        question = json.dumps({"question": "Which exercises strengthen the gluteus maximus?"})
        answer = _poll(f"{base}/api/ask", proc, deadline, question.encode()) - started
        return health, answer, process_rss_mb(proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


_IMPORT_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")


def import_times(top: int = 8) -> tuple[float, dict[str, float]]:
    """Wall seconds of ``import app`` in a fresh interpreter, and the heaviest top-level
    packages by cumulative import time (``python -X importtime``)."""
    env = {**os.environ, **OFFLINE_ENV}
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import app"], cwd=REPO, env=env, check=True)
    wall = time.monotonic() - started
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import app"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    heaviest: dict[str, float] = {}
    for line in done.stderr.splitlines():
        match = _IMPORT_LINE.match(line)
        name = match.group(4) if match else ""
        if match and "." not in name and name != "app" and name not in sys.stdlib_module_names:
            # A package's first import, with everything it pulled in (so torch counts
            # inside sentence_transformers too: the figures overlap, they do not add up).
            heaviest[name] = max(heaviest.get(name, 0.0), int(match.group(2)) / 1e6)
    ranked = sorted(heaviest.items(), key=lambda kv: kv[1], reverse=True)[:top]
    return wall, {name: round(seconds, 3) for name, seconds in ranked}


def measure_start(data_dir: Path, corpus_dir: Path, runs: int) -> StartFigures:
    """``data_dir`` must already hold an index of ``corpus_dir`` (the usual start)."""
    results = [one_cold_start(data_dir, corpus_dir) for _ in range(runs)]
    import_s, heaviest = import_times()
    return StartFigures(
        cold_start_s=statistics.median(r[0] for r in results),
        first_answer_s=statistics.median(r[1] for r in results),
        runs=[r[0] for r in results],
        app_rss_mb=results[-1][2],
        import_app_s=import_s,
        heaviest_imports_s=heaviest,
    )
