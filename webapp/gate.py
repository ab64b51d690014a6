"""One gate in front of every route: ``/``, ``/gradio_api/*``, ``/embed*``, ``/widget.js``, ``/api/*``.

In order, for each HTTP request (and each websocket handshake):
1. Host allowlist (SUPPLE_ALLOWED_HOSTS; loopback names always): Starlette's
   TrustedHostMiddleware decides, the refusal is a 400 in the API's ``{"error"}`` shape.
2. The client address: ``ProxyPolicy`` (SUPPLE_TRUSTED_PROXIES) believes forwarding headers
   from trusted proxies only.
3. A per-client cap on requests of any kind (SUPPLE_RATE_REQUESTS_PER_MINUTE): 429.
4. The origin policy: a browser ``Origin`` not allowed gets 403 on every path; outside
   ``/api`` no cross-origin read is ever granted (Gradio's own CORS headers are removed).
5. What is never served: uploads (the app has no file inputs) and the raw HTML files behind
   ``/embed/static`` (``/embed`` renders the page with its headers): 403 / 404.
6. Methods: a path our routes know with a method they do not take is 405 with ``Allow``; an
   unknown ``/api/...`` path is 404 (Gradio's mount at ``/`` would otherwise answer both).
7. The body: over the cap (by Content-Length, or counted as it arrives) 413; a body that
   stops arriving for SUPPLE_BODY_TIMEOUT seconds 408.
8. Response headers on everything: CSP ``frame-ancestors`` (the allowlist on ``/embed``,
   ``'self'`` elsewhere), ``X-Frame-Options`` outside ``/embed``, ``nosniff``, a referrer policy.
9. Gradio's errors for made-up requests (an unknown session, a body that is not its shape)
   come back as one ``{"error"}`` line, never its validation details, and log one line.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from fastapi import FastAPI
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistant.settings import Settings
from webapp.proxies import ProxyPolicy
from webapp.security import OriginPolicy, RateLimiter

log = logging.getLogger("supple.gate")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
GRADIO = "/gradio_api/"
UPLOADS = ("/gradio_api/upload", "/gradio_api/upload_progress")
STATIC_FILES = ("/embed/static/",)
STATIC_SUFFIXES = (".css", ".js")


@dataclass(frozen=True)
class GateConfig:
    policy: OriginPolicy
    proxies: ProxyPolicy
    allowed_hosts: tuple[str, ...]  # empty: loopback names only; ("*",): any
    max_body_bytes: int  # /api and everything else
    max_chat_body_bytes: int  # /gradio_api (the chat posts its whole history each turn)
    body_timeout: float
    requests_per_minute: int


def parse_hosts(text: str) -> tuple[str, ...]:
    """``chat.blog.example, *.blog.example`` -> the patterns, plus the loopback names."""
    hosts = [h.strip().lower() for h in (text or "").split(",") if h.strip()]
    return ("*",) if "*" in hosts else (*hosts, *LOOPBACK_HOSTS)


async def _send_error(send: Send, status: int, message: str, **headers: str) -> None:
    body = json.dumps({"error": message}).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"content-security-policy", b"frame-ancestors 'none'"),
        (b"x-frame-options", b"DENY"),
        *((k.lower().encode(), v.encode()) for k, v in headers.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class Gate:
    def __init__(self, app: ASGIApp, config: GateConfig, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.config = config
        self.routes = routes  # the FastAPI app's, read at request time (Gradio's mount last)
        self.limiter = RateLimiter(config.requests_per_minute, 0)

        async def host_ok(scope: Scope, receive: Receive, send: Send) -> None:
            scope["supple.host_ok"] = True

        # Starlette decides; we only answer its refusal in our shape (its reply is plain text).
        self.hosts = TrustedHostMiddleware(
            host_ok, allowed_hosts=list(config.allowed_hosts), www_redirect=False
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refusal = await self._refusal(scope)
        if refusal is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
            else:
                status, message, headers = refusal
                await _send_error(send, status, message, **headers)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        progress = {"started": False, "ended": False}

        async def tracked(message: Message) -> None:
            if message["type"] == "http.response.start":
                progress["started"] = True
            elif not message.get("more_body", False):
                progress["ended"] = True
            await send(message)

        try:
            await self._within_body(scope, receive, self._headers_added(scope, tracked))
        except Exception as exc:
            # Gradio raises HTTPException(404) inside an event stream already begun for a
            # made-up session_hash (queue/data): uvicorn would log 100 lines for each one.
            cause = exc if isinstance(exc, HTTPException) else exc.__cause__
            if not scope["path"].startswith(GRADIO) or not isinstance(cause, HTTPException):
                raise
            log.warning("gradio %s %s: %s", scope["method"], scope["path"], cause)
            if not progress["started"]:
                await _send_error(
                    send, cause.status_code, _GRADIO_ERRORS.get(cause.status_code, "Bad request.")
                )
            elif not progress["ended"]:
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _refusal(self, scope: Scope) -> tuple[int, str, dict[str, str]] | None:
        """Why this request gets no further: (status, message, headers), or None."""

        async def nothing() -> Message:
            return {"type": "http.disconnect"}

        async def discard(message: Message) -> None:
            pass

        await self.hosts(scope, nothing, discard)
        headers = Headers(scope=scope)
        if not scope.pop("supple.host_ok", False):
            host = headers.get("host", "")[:100]
            return 400, f"This app does not answer to the host name '{host}'.", {}
        self.config.proxies.apply(scope)
        headers = Headers(scope=scope)
        client = scope["client"][0] if scope.get("client") else "unknown"
        wait = self.limiter.check(client)
        if wait is not None:
            message = f"Too many requests from your address; please try again in {wait} seconds."
            return 429, message, {"Retry-After": str(wait)}
        origin = headers.get("origin")
        if origin is not None and not self.config.policy.allows(origin, headers.get("host", "")):
            # CORS on the refusal itself (no credentials), so the refused page (the widget)
            # can read why and the owner sees which setting to change
            message = (
                f"Pages from {origin[:100]} are not allowed to use this assistant: add the "
                f"origin to SUPPLE_ALLOWED_ORIGINS (SUPPLE_ALLOWED_ORIGINS={origin[:100]}) "
                "where the app runs."
            )
            readable = scope["path"].startswith("/api/")  # the widget's calls; no Gradio route
            cors = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"} if readable else {}
            return 403, message, cors
        path: str = scope["path"]
        if path.startswith(UPLOADS):
            return 403, "Uploads are turned off: this assistant takes no files.", {}
        if path.startswith(STATIC_FILES) and not path.endswith(STATIC_SUFFIXES):
            return 404, "Not found.", {}
        return self._method_refusal(scope, headers)

    def _method_refusal(
        self, scope: Scope, headers: Headers
    ) -> tuple[int, str, dict[str, str]] | None:
        if scope["type"] != "http":
            return None
        path: str = scope["path"]
        preflight = scope["method"] == "OPTIONS" and "access-control-request-method" in headers
        if preflight and path.startswith("/api/"):
            return None  # ApiGate answers the allowed origins' preflights
        allowed: set[str] = set()
        for route in _leaf_routes(self.routes):
            match, _ = route.matches(scope)
            if match == Match.FULL:
                return None
            if match == Match.PARTIAL:
                allowed |= set(getattr(route, "methods", None) or ())
        if allowed:
            methods = ", ".join(sorted(allowed))
            return 405, f"{path} takes {methods}, not {scope['method']}.", {"Allow": methods}
        if path == "/api" or path.startswith("/api/"):
            return 404, f"No such API route: {path[:100]} (see /docs).", {}
        return None

    def _headers_added(self, scope: Scope, send: Send) -> Send:
        path: str = scope["path"]
        framed = path == "/embed"
        cross_origin_ok = path.startswith("/api/")
        gradio = path.startswith(GRADIO)
        rewrite: dict[str, bool] = {"error": False}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                if not cross_origin_ok:
                    for name in [n for n in out if n.startswith("access-control-")]:
                        del out[name]
                _security_headers(out, framed, self.config.policy)
                status = message["status"]
                if gradio and status in (400, 404, 422) and "json" in out.get("content-type", ""):
                    # Gradio's validation details and "unknown session" noise: one line out.
                    rewrite["error"] = True
                    log.warning("gradio %s %s -> %s", scope["method"], path, status)
                    await _send_error(send, status, _GRADIO_ERRORS.get(status, "Bad request."))
                    return
            elif rewrite["error"]:
                return  # the original body is dropped: one clear line went out instead
            await send(message)

        return send_with_headers

    async def _within_body(self, scope: Scope, receive: Receive, send: Send) -> None:
        cap = (
            self.config.max_chat_body_bytes
            if scope["path"].startswith(GRADIO)
            else self.config.max_body_bytes
        )
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            await _send_error(send, 413, f"The request body is over the {cap}-byte limit.")
            return
        state = {"received": 0, "complete": False, "started": False, "refused": False}

        async def guarded_send(message: Message) -> None:
            if state["refused"]:
                return
            if message["type"] == "http.response.start":
                state["started"] = True
            await send(message)

        async def refuse(status: int, text: str) -> Message:
            if not state["started"]:
                await _send_error(send, status, text)
            state["refused"] = True
            return {"type": "http.disconnect"}

        async def guarded_receive() -> Message:
            if state["refused"]:
                return {"type": "http.disconnect"}
            if state["complete"]:  # afterwards apps wait here for a disconnect: no deadline
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.config.body_timeout)
            except TimeoutError:
                limit = f"{self.config.body_timeout:g}"
                return await refuse(408, f"The request body did not arrive within {limit} s.")
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > cap:
                    return await refuse(413, f"The request body is over the {cap}-byte limit.")
                state["complete"] = not message.get("more_body", False)
            return message

        await self.app(scope, guarded_receive, guarded_send)


def _leaf_routes(routes: Sequence[BaseRoute]) -> Iterator[BaseRoute]:
    """Our routes, mounts left out; FastAPI (0.16x) wraps an included router in one object
    whose own ``matches`` never says PARTIAL, so its routes are read one by one."""
    for route in routes:
        contexts = getattr(route, "effective_route_contexts", None)
        if contexts is not None:
            yield from (c.original_route for c in contexts())
        elif not isinstance(route, Mount):
            yield route


_GRADIO_ERRORS = {
    400: "The request is not valid.",
    404: "Not found (an unknown or expired chat session, or no such route).",
    422: "The request is not in the shape this route takes.",
}


def _security_headers(out: MutableHeaders, framed: bool, policy: OriginPolicy) -> None:
    out.setdefault("X-Content-Type-Options", "nosniff")
    out.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    ancestors = policy.frame_ancestors() if framed else "'self'"
    csp = out.get("content-security-policy")
    if csp is None:
        out["Content-Security-Policy"] = f"frame-ancestors {ancestors}"
    elif "frame-ancestors" not in csp:
        out["Content-Security-Policy"] = f"{csp}; frame-ancestors {ancestors}"
    if not framed:
        out.setdefault("X-Frame-Options", "SAMEORIGIN")


def install_gate(app: FastAPI, settings: Settings, policy: OriginPolicy) -> None:
    """Puts the gate in front of everything ``app`` serves (call it last: outermost)."""
    config = GateConfig(
        policy=policy,
        proxies=ProxyPolicy.parse(settings.trusted_proxies),
        allowed_hosts=parse_hosts(settings.allowed_hosts),
        max_body_bytes=settings.max_body_bytes,
        max_chat_body_bytes=settings.max_chat_body_bytes,
        body_timeout=settings.body_timeout,
        requests_per_minute=settings.rate_requests_per_minute,
    )
    app.add_middleware(Gate, config=config, routes=app.router.routes)
