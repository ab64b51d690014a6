"""The embeddable widget: /widget.js, the framed chat page /embed, /embed/snippet and
/embed/check.

Only origins the ``OriginPolicy`` allows may frame /embed (CSP ``frame-ancestors``). On a page
from another origin, widget.js shows no bubble and says in the console which setting to change
(it reads the API's 403); /embed/check?origin=... tells the snippet page's "test a page" form.
The pages load their script and style from this app only; they insert every reader or
article text with ``textContent``.
"""

from __future__ import annotations

import html
from pathlib import Path
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from webapp.security import AllowedOriginsError, OriginPolicy, normalize_origin

STATIC = Path(__file__).resolve().parent / "static"


def page_csp(policy: OriginPolicy) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            f"frame-ancestors {policy.frame_ancestors()}",
        ]
    )


def page_headers(policy: OriginPolicy) -> dict[str, str]:
    """The security headers of this app's own HTML pages (/embed, /embed/snippet, /articles)."""
    return {
        "Content-Security-Policy": page_csp(policy),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }


def allowlist_line(policy: OriginPolicy, origin: str) -> str:
    """The setting that would let ``origin`` in, keeping the origins allowed now."""
    return "SUPPLE_ALLOWED_ORIGINS=" + ",".join(sorted(policy.origins | {origin}))


def origin_check(policy: OriginPolicy, page: str, host: str) -> dict[str, object]:
    """Whether a page (its URL or origin) may show the widget, and what to set if not."""
    parts = urlsplit(page.strip())
    origin = normalize_origin(f"{parts.scheme}://{parts.netloc}")  # raises on a non-URL
    allowed = policy.allows(origin, host)
    return {
        "origin": origin,
        "allowed": allowed,
        "allowed_origins": ["*"] if policy.any_origin else sorted(policy.origins),
        "setting": "" if allowed else allowlist_line(policy, origin),
    }


def snippet(base_url: str) -> str:
    return f'<script src="{base_url.rstrip("/")}/widget.js" defer></script>'


def install_widget(
    app: FastAPI,
    policy: OriginPolicy,
    *,
    disclaimer: str,
    max_question_chars: int,
    greeting: str = "",
    help_label: str = "",
    placeholder: str = "",
) -> None:
    """Adds /widget.js, /embed, /embed/snippet, /embed/check and /embed/static/* to ``app``.
    ``greeting``, ``help_label`` and ``placeholder``: the chat's words (webapp.chat.widget_copy)."""
    embed_page = (
        (STATIC / "embed.html")
        .read_text(encoding="utf-8")
        .replace("{{DISCLAIMER}}", html.escape(disclaimer))
        .replace("{{MAX_CHARS}}", str(max_question_chars))
        .replace("{{GREETING}}", html.escape(greeting))
        .replace("{{HELP}}", html.escape(help_label or "What I can help with"))
        .replace("{{PLACEHOLDER}}", html.escape(placeholder, quote=True))
    )
    origins = ", ".join(sorted(policy.origins)) or "only this app's own pages"
    if policy.any_origin:
        origins = "any site (*)"
    security = page_headers(policy)

    @app.get("/widget.js", include_in_schema=False)
    def widget_js() -> FileResponse:
        return FileResponse(
            STATIC / "widget.js",
            media_type="text/javascript; charset=utf-8",
            headers={
                "Cache-Control": "public, max-age=300",
                "Cross-Origin-Resource-Policy": "cross-origin",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @app.get("/embed", include_in_schema=False)
    def embed() -> HTMLResponse:
        return HTMLResponse(embed_page, headers=security)

    @app.get("/embed/snippet", include_in_schema=False)
    def embed_snippet(request: Request) -> HTMLResponse:
        page = (STATIC / "snippet.html").read_text(encoding="utf-8")
        page = page.replace("{{SNIPPET}}", html.escape(snippet(str(request.base_url))))
        page = page.replace("{{ORIGINS}}", html.escape(origins))
        return HTMLResponse(page, headers=security)

    @app.get("/embed/check", include_in_schema=False)
    def embed_check(request: Request, page: str = "") -> JSONResponse:
        """The snippet page's "test a page" form: may ``page`` show the widget?"""
        try:
            return JSONResponse(origin_check(policy, page, request.headers.get("host", "")))
        except AllowedOriginsError:
            return JSONResponse(
                {"error": f"'{page[:200]}' is not a page address like https://blog.example.com/"},
                status_code=400,
            )

    app.mount("/embed/static", StaticFiles(directory=STATIC), name="embed-static")
