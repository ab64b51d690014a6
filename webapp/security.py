"""Who may use the app from a browser, and how often.

- ``OriginPolicy``: the allowlist (SUPPLE_ALLOWED_ORIGINS) plus the app's own origin.
- ``ApiGate``: ASGI middleware for ``/api/*``: 403 for a browser Origin not allowed,
  CORS headers (and preflight answers) for the allowed ones, 413 for a body declared too big.
- ``RateLimiter``: per-client requests per minute and per UTC day, kept in memory only.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.errors import SuppleError

_DEFAULT_PORTS = {"http": "80", "https": "443"}
_HOST = re.compile(r"^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:[0-9]{1,5})?$")


class AllowedOriginsError(SuppleError):
    """SUPPLE_ALLOWED_ORIGINS holds something that is not an origin."""


def normalize_origin(text: str) -> str:
    """``https://Blog.Example:443/`` -> ``https://blog.example``; raises on anything else."""
    parts = urlsplit(text.strip().rstrip("/"))
    netloc = parts.netloc.lower()
    scheme = parts.scheme.lower()
    if (
        scheme not in _DEFAULT_PORTS
        or not _HOST.match(netloc)
        or parts.path
        or parts.query
        or parts.fragment
    ):
        raise AllowedOriginsError(
            f"'{text}' in SUPPLE_ALLOWED_ORIGINS is not an origin like https://blog.example.com"
        )
    if netloc.endswith(":" + _DEFAULT_PORTS[scheme]):
        netloc = netloc.rsplit(":", 1)[0]
    return f"{scheme}://{netloc}"


@dataclass(frozen=True)
class OriginPolicy:
    """The origins whose pages may frame ``/embed`` and call the API; the app's own always may."""

    origins: frozenset[str] = frozenset()
    any_origin: bool = False

    @classmethod
    def parse(cls, text: str) -> OriginPolicy:
        items = [item.strip() for item in (text or "").split(",") if item.strip()]
        return cls(
            origins=frozenset(normalize_origin(i) for i in items if i != "*"),
            any_origin="*" in items,
        )

    def allows(self, origin: str, host: str) -> bool:
        """``host`` is the request's Host header: an Origin naming it is the app's own."""
        if self.any_origin:
            return True
        try:
            origin = normalize_origin(origin)
        except AllowedOriginsError:
            return False  # "null" (sandboxed frames, file://) and junk
        scheme, own = origin.split("://", 1)
        host = host.lower()
        if host.endswith(":" + _DEFAULT_PORTS[scheme]):
            host = host.rsplit(":", 1)[0]
        return own == host or origin in self.origins

    def frame_ancestors(self) -> str:
        """The CSP ``frame-ancestors`` source list."""
        if self.any_origin:
            return "*"
        return " ".join(["'self'", *sorted(self.origins)])


class ApiGate:
    """On ``/api/*``: 403 for a browser Origin not allowed, CORS for those that are, and 413
    for a Content-Length over ``max_body_bytes`` (chunked bodies are capped by the router)."""

    def __init__(
        self, app: ASGIApp, policy: OriginPolicy, max_body_bytes: int, prefix: str = "/api/"
    ) -> None:
        self.app = app
        self.policy = policy
        self.max_body_bytes = max_body_bytes
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is None:  # not a cross-site browser call: scripts, curl, same-origin GETs
            await self._within_size(scope, receive, send, headers)
            return
        if not self.policy.allows(origin, headers.get("host", "")):
            # CORS on the refusal itself, so the refused page (the widget) can read why.
            refused = JSONResponse(
                {
                    "error": f"Pages from {origin[:100]} are not allowed to use this assistant: "
                    f"add the origin to SUPPLE_ALLOWED_ORIGINS (SUPPLE_ALLOWED_ORIGINS="
                    f"{origin[:100]}) where the app runs.",
                    "setting": "SUPPLE_ALLOWED_ORIGINS",
                },
                status_code=403,
                headers={"Access-Control-Allow-Origin": origin, "Vary": "Origin"},
            )
            await refused(scope, receive, send)
            return
        cors = {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": "Retry-After",
            "Vary": "Origin",
        }
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            preflight = Response(
                status_code=204,
                headers={
                    **cors,
                    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                    "Access-Control-Allow-Headers": "Content-Type",
                    "Access-Control-Max-Age": "600",
                },
            )
            await preflight(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                for name, value in cors.items():
                    out[name] = value
            await send(message)

        await self._within_size(scope, receive, send_with_cors, headers)

    async def _within_size(
        self, scope: Scope, receive: Receive, send: Send, headers: Headers
    ) -> None:
        declared = headers.get("content-length", "0")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            too_big = JSONResponse(
                {"error": f"The request body is over the {self.max_body_bytes}-byte limit."},
                status_code=413,
            )
            await too_big(scope, receive, send)
            return
        await self.app(scope, receive, send)


@dataclass
class RateLimiter:
    """Counts requests per client key; ``check`` says how long to wait, or None to go ahead.

    Kept in memory only (client addresses are never written anywhere); 0 disables a limit.
    """

    per_minute: int
    per_day: int
    clock: Callable[[], float] = time.time
    _recent: dict[str, deque[float]] = field(default_factory=dict)
    _daily: dict[str, tuple[int, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _next_sweep: float = 0.0

    def check(self, client: str) -> int | None:
        """Counts one request from ``client``; None if allowed, else seconds until it would be."""
        now = self.clock()
        day = int(now // 86400)
        with self._lock:
            counted_day, count = self._daily.get(client, (day, 0))
            if counted_day != day:
                count = 0
            if self.per_day and count >= self.per_day:
                return _seconds((day + 1) * 86400 - now)
            recent = self._recent.setdefault(client, deque())
            while recent and recent[0] <= now - 60:
                recent.popleft()
            if self.per_minute and len(recent) >= self.per_minute:
                return _seconds(recent[0] + 60 - now)
            recent.append(now)
            self._daily[client] = (day, count + 1)
            if now >= self._next_sweep:
                self._forget_idle(now, day)
            return None

    def _forget_idle(self, now: float, day: int) -> None:
        """Drops clients idle for a minute (recent) or since yesterday (daily counts)."""
        self._next_sweep = now + 60
        for key in [k for k, (d, _) in self._daily.items() if d != day]:
            del self._daily[key]
        for key in [k for k, q in self._recent.items() if not q or q[-1] <= now - 60]:
            del self._recent[key]


def _seconds(wait: float) -> int:
    return max(1, math.ceil(wait))


def markdown_link_url(url: str) -> str:
    """``url`` safe as a Markdown link target: http(s) only ("" otherwise), and every
    character that would end or break the target (space, ``()<>"`` ...) percent-encoded."""
    if urlsplit(url.strip()).scheme.lower() not in ("http", "https"):
        return ""
    return quote(url.strip(), safe="/:?#[]@!$&'*+,;=%~-._")
