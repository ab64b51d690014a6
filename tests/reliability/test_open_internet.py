"""``python app.py`` on an open port (issue 14, findings 3, 8, 9, 10): started with the
command line and environment the container image uses (Dockerfile CMD, ENV and HEALTHCHECK),
on 127.0.0.1, and attacked the way a stranger on the internet would.

No container runs here (docs/deploy.md says why): the image's entry command is run as is.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from assistant.settings import Settings
from tests.conftest import REPO
from tests.reliability.helpers import indexed_copy
from tests.servers import ServedApp, free_port, serve_app, wait_for

pytestmark = [pytest.mark.reliability, pytest.mark.slow]

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")


def instruction(name: str) -> str:
    """One Dockerfile instruction with its continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    found = [line for line in text.splitlines() if line.startswith(name + " ")]
    assert found, f"no {name} in the Dockerfile"
    return found[-1][len(name) + 1 :].strip()


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for line in re.sub(r"\\\n\s*", " ", DOCKERFILE).splitlines():
        if line.startswith("ENV "):
            env.update(dict(pair.split("=", 1) for pair in shlex.split(line[4:])))
    return env


def exec_form(text: str) -> list[str]:
    """``["python", "app.py"]`` -> argv, with ``python`` as this interpreter."""
    argv = json.loads(text)
    return [sys.executable if argv[0] == "python" else argv[0], *argv[1:]]


@pytest.fixture(scope="module")
def image_app(
    tmp_path_factory: pytest.TempPathFactory, indexed_settings: Settings
) -> Iterator[ServedApp]:
    """The image's CMD with its ENV; only the paths, the port and (loopback only here) the
    bind address differ. Rate limits low, to see whose bucket a request lands in."""
    assert exec_form(instruction("CMD"))[1:] == ["app.py"]
    data_dir = indexed_copy(indexed_settings, tmp_path_factory.mktemp("image") / "data")
    env = {
        **image_env(),
        "SUPPLE_HOST": "127.0.0.1",
        "SUPPLE_CORPUS_DIR": str(REPO / "corpus"),
        "SUPPLE_RATE_PER_MINUTE": "3",
    }
    for own in ("SUPPLE_DATA_DIR", "SUPPLE_PORT"):  # serve_app picks these
        env.pop(own)
    with serve_app(data_dir, env) as app:
        yield app


def test_run_the_images_healthcheck_passes_while_up_and_fails_when_down(
    image_app: ServedApp, tmp_path: Path
) -> None:
    check = instruction("HEALTHCHECK")
    assert "--start-period=" in check
    argv = exec_form(check.split(" CMD ", 1)[1])
    port = image_app.base.rsplit(":", 1)[1]
    up = subprocess.run(argv, env={"SUPPLE_PORT": port}, capture_output=True, timeout=30)
    assert up.returncode == 0, up.stderr
    down = subprocess.run(
        argv, env={"SUPPLE_PORT": str(free_port())}, capture_output=True, timeout=30
    )
    assert down.returncode != 0


def test_run_the_image_is_cpu_torch_pinned_non_root_with_the_model_inside() -> None:
    assert "torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" in DOCKERFILE
    user = instruction("USER")
    assert user not in ("root", "0")
    assert 'python -c "from ingest.embed import Embedder; Embedder().warm_up()"' in DOCKERFILE
    assert image_env()["HF_HUB_OFFLINE"] == "1" and image_env()["SUPPLE_HOST"] == "0.0.0.0"


def test_run_compose_has_the_app_a_chroma_server_and_a_proxy_trusted_by_address() -> None:
    compose = yaml.safe_load((REPO / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"app", "chroma", "caddy"}
    app = services["app"]
    assert app["environment"]["SUPPLE_CHROMA_HOST"] == "chroma"
    assert "ports" not in app and "ports" not in services["chroma"]  # only Caddy is published
    caddy_ip = services["caddy"]["networks"]["supple"]["ipv4_address"]
    assert app["environment"]["SUPPLE_TRUSTED_PROXIES"] == caddy_ip
    caddyfile = (REPO / "deploy" / "Caddyfile").read_text(encoding="utf-8")
    assert "{$SUPPLE_PUBLIC_HOST} {" in caddyfile and "reverse_proxy app:7860" in caddyfile
    assert "header_up X-Forwarded-For {remote_host}" in caddyfile


def test_run_rotating_x_forwarded_for_does_not_escape_the_rate_limit(
    image_app: ServedApp,
) -> None:
    codes = [
        httpx.post(
            f"{image_app.base}/api/ask",
            json={"question": "What is fascia?"},
            headers={"X-Forwarded-For": f"198.51.100.{n}"},
            timeout=60,
        ).status_code
        for n in range(5)
    ]
    assert codes == [200, 200, 200, 429, 429]


def test_run_made_up_gradio_sessions_log_one_line_each(image_app: ServedApp) -> None:
    before = image_app.log().count("\n")
    for n in range(60):
        with httpx.stream(
            "GET", f"{image_app.base}/gradio_api/queue/data?session_hash=made-up-{n}", timeout=30
        ) as response:
            assert "Traceback" not in response.read().decode()
    time.sleep(0.5)
    log = image_app.log()
    assert "Traceback" not in log
    assert log.count("\n") - before <= 60


def test_run_a_100_mb_body_to_the_chat_costs_the_app_no_memory(image_app: ServedApp) -> None:
    before = image_app.rss_mb()
    response = httpx.post(
        f"{image_app.base}/gradio_api/call/chat",
        content=b'{"data": ["' + b"x" * 100_000_000 + b'", []]}',
        headers={"Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 413 and list(response.json()) == ["error"]
    wait_for(f"{image_app.base}/api/health")
    assert image_app.rss_mb() - before < 50


def test_run_docs_tell_owners_the_settings_app_py_reads() -> None:
    widget = (REPO / "docs" / "widget.md").read_text(encoding="utf-8")
    assert "--forwarded-allow-ips" not in widget and "--proxy-headers" not in widget
    assert "SUPPLE_TRUSTED_PROXIES" in widget
    deploy = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    for name in ("SUPPLE_ALLOWED_HOSTS", "SUPPLE_TRUSTED_PROXIES", "SUPPLE_HOST", "readers"):
        assert name in deploy
