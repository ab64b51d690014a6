"""Every entry point says a bad setting in one line, exit 2, naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    [
        ["-m", "ingest", "--status"],
        ["-m", "assistant", "ask", "What does fascia do?"],
        ["-m", "eval", "gaps"],
        ["app.py"],
    ],
    ids=["ingest", "assistant", "eval", "app"],
)
def test_a_bad_setting_is_one_line_exit_2(command: list[str], tmp_path: Path) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin"),
        "HF_HUB_OFFLINE": "1",
        "SUPPLE_DATA_DIR": str(tmp_path),
        "SUPPLE_CHROMA_PORT": "not-a-port",
        "SUPPLE_K": "many",
    }
    result = subprocess.run(
        [sys.executable, *command], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "SUPPLE_CHROMA_PORT" in result.stderr or "SUPPLE_K" in result.stderr
