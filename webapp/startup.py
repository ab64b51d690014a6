"""Serve the HTTP API at once, and mount the slow part (the Gradio chat) when it is built.

``import gradio`` and building the chat take 4 to 5 s of CPU, and the embedding model as
long again; on 2 cores in one process (one GIL) they cannot overlap. A reader's first
``/api/ask`` needs only the model, so ``python app.py`` serves the API as soon as the
Assistant exists and builds the chat in a thread afterwards (docs/benchmarks.md, cold start).

uvicorn runs an app's lifespan (Gradio's queue starts there) only when it starts serving, so
``LateMount`` answers the server's lifespan itself and enters the app's own lifespan once
``build`` has mounted the chat (and leaves it at shutdown). Until then ``GET /`` is a 503
page that reloads itself; every other route is the app's. If the build fails, the API goes
on answering and the reason is one line on stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Callable

from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

STARTING_PAGE = (
    b"<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=1>"
    b"<title>Supple</title><p>Supple is starting; this page reloads in a moment.</p>"
)


class LateMount:
    """ASGI app: ``app``, with ``build(app)`` run in a thread once the server is up."""

    def __init__(self, app: FastAPI, build: Callable[[FastAPI], object]) -> None:
        self.app = app
        self.build = build
        self.ready = False
        self._stack = contextlib.AsyncExitStack()
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif not self.ready and scope["type"] == "http" and scope["path"] == "/":
            await _starting(send)
        else:
            await self.app(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        await receive()  # lifespan.startup
        self._task = asyncio.get_running_loop().create_task(self._finish())
        await send({"type": "lifespan.startup.complete"})
        await receive()  # lifespan.shutdown
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._stack.aclose()
        await send({"type": "lifespan.shutdown.complete"})

    async def _finish(self) -> None:
        try:
            await asyncio.to_thread(self.build, self.app)
            # The lifespan as it is now: FastAPI's own, wrapped by the one the mount added.
            await self._stack.enter_async_context(self.app.router.lifespan_context(self.app))
        except Exception as error:  # the API keeps answering; say why the chat is missing
            print(f"the chat could not be started: {error}", file=sys.stderr, flush=True)
        self.ready = True  # built or not: no more "starting" page


async def _starting(send: Send) -> None:
    headers = [(b"content-type", b"text/html; charset=utf-8"), (b"retry-after", b"1")]
    await send({"type": "http.response.start", "status": 503, "headers": headers})
    await send({"type": "http.response.body", "body": STARTING_PAGE})
