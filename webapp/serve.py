"""``python app.py``'s server: uvicorn with the limits an open port needs.

- no proxy-header handling of uvicorn's own (the gate's ``ProxyPolicy`` decides whom to
  believe; uvicorn would trust 127.0.0.1's X-Forwarded-For with no setting);
- a deadline for a request's headers (SUPPLE_HEADER_TIMEOUT): uvicorn has a keep-alive
  timeout between requests but none for a client that connects and sends headers slowly,
  so its HTTP protocol class is extended here by one timer;
- at most SUPPLE_MAX_CONNECTIONS connections and requests at once (uvicorn answers 503 above);
- no access log (it would write every reader's address).
"""

from __future__ import annotations

import asyncio
from typing import Any

import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol

from assistant.settings import Settings


def protocol_with_header_timeout(seconds: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol, closing a connection with no complete request headers
    ``seconds`` after it opened or after its last response ended."""
    base: Any = AutoHTTPProtocol

    class HeaderDeadline(base):
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)
            self._arm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            super().connection_lost(exc)

        def _arm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            self._deadline = self.loop.call_later(seconds, self._expire)

        def _expire(self) -> None:
            cycle = getattr(self, "cycle", None)
            waiting = cycle is None or cycle.response_complete
            if waiting and not self.transport.is_closing():
                self.transport.close()

    return HeaderDeadline


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The keyword arguments ``uvicorn.run`` gets (tests read them too)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "http": protocol_with_header_timeout(settings.header_timeout),
        "proxy_headers": False,
        "limit_concurrency": settings.max_connections,
        "timeout_keep_alive": 5,
        # Open streams (the chat's heartbeat) would otherwise hold a shutdown for a long time.
        "timeout_graceful_shutdown": 3,
        "access_log": False,
    }


def serve(app: Any, settings: Settings) -> None:
    uvicorn.run(app, **uvicorn_options(settings))
