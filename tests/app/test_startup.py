"""``python app.py`` serves the API before the chat is built (webapp/startup.py), for real:
uvicorn on 127.0.0.1, a mounted app whose lifespan must run, and ``import app`` in a fresh
interpreter."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import REPO
from tests.servers import served_in_process, wait_for
from webapp.startup import LateMount


class Late:
    """A build that waits to be released, then mounts an app whose lifespan is recorded."""

    def __init__(self, fail: bool = False) -> None:
        self.release = threading.Event()
        self.fail = fail
        self.lifespan: list[str] = []

    def build(self, api: FastAPI) -> None:
        self.release.wait(30)
        if self.fail:
            raise RuntimeError("no chat today")

        @contextlib.asynccontextmanager
        async def lifespan(app: FastAPI) -> AsyncIterator[None]:
            self.lifespan.append("started")
            yield
            self.lifespan.append("stopped")

        chat = FastAPI()
        chat.get("/")(lambda: {"chat": True})
        api.router.lifespan_context = lifespan  # as gr.mount_gradio_app does
        api.mount("/", chat)


@contextlib.contextmanager
def served(app: LateMount) -> Iterator[httpx.Client]:
    with served_in_process(app) as base:
        yield httpx.Client(base_url=base, timeout=10)


def api() -> FastAPI:
    app = FastAPI()
    app.get("/api/health")(lambda: {"status": "ok"})
    return app


def test_run_api_answers_while_the_chat_is_built_then_the_chat_and_its_lifespan() -> None:
    late = Late()
    with served(LateMount(api(), late.build)) as http:
        starting = http.get("/")
        assert starting.status_code == 503 and starting.headers["retry-after"] == "1"
        assert "starting" in starting.text and http.get("/api/health").status_code == 200
        assert late.lifespan == []

        late.release.set()
        wait_for(str(http.base_url), timeout=10)
        assert http.get("/").json() == {"chat": True}
        assert late.lifespan == ["started"]
    assert late.lifespan == ["started", "stopped"]


def test_run_a_chat_that_cannot_be_built_leaves_the_api_and_says_why(
    capfd: pytest.CaptureFixture[str],
) -> None:
    late = Late(fail=True)
    late.release.set()
    with served(LateMount(api(), late.build)) as http:
        wait_for(str(http.base_url) + "/api/health", timeout=10)
        for _ in range(100):
            if "could not be started" in capfd.readouterr().err:
                break
            threading.Event().wait(0.05)
        else:
            pytest.fail("no line about the chat")
        assert http.get("/api/health").status_code == 200
        assert http.get("/").status_code == 404  # no chat, and no "starting" page either


@pytest.mark.slow  # a fresh interpreter imports the app: 4 s
def test_run_importing_the_app_leaves_gradio_for_later() -> None:
    """The chat's import is what python app.py defers: ``import app`` must not pull it in."""
    done = subprocess.run(
        [sys.executable, "-c", "import sys, app; print('gradio' in sys.modules)"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_the_chat_is_built_only_after_the_first_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """On 2 cores importing Gradio beside the first answer slowed it by ~3 s: the chat waits
    for the warm-up's answer, and a warm-up that fails still lets the chat be built."""
    import app
    from assistant.errors import SuppleError

    mounted = threading.Event()
    monkeypatch.setattr(app, "mount_chat", lambda api, assistant: mounted.set())
    answered = threading.Event()
    late = threading.Thread(
        target=app._mount_chat_later, args=(FastAPI(), None, answered, app.Settings())
    )
    late.start()
    assert not mounted.wait(0.3)  # no answer yet: no chat

    class Failing:
        def warm_up(self, answered: object = None) -> None:
            raise SuppleError("the index is empty")

    app._warm_up(Failing(), answered)  # type: ignore[arg-type]
    late.join(10)
    assert mounted.is_set()
