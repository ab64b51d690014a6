"""The embeddable widget: /widget.js, the framed chat page /embed, and /embed/snippet.

Only origins the ``OriginPolicy`` allows may frame /embed (CSP ``frame-ancestors``).
The pages load their script and style from this app only; they insert every reader or
article text with ``textContent``.
"""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from webapp.security import OriginPolicy

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


def snippet(base_url: str) -> str:
    return f'<script src="{base_url.rstrip("/")}/widget.js" defer></script>'


def install_widget(
    app: FastAPI, policy: OriginPolicy, *, disclaimer: str, max_question_chars: int
) -> None:
    """Adds /widget.js, /embed, /embed/snippet and /embed/static/* to ``app``."""
    csp = page_csp(policy)
    embed_page = (
        (STATIC / "embed.html")
        .read_text(encoding="utf-8")
        .replace("{{DISCLAIMER}}", html.escape(disclaimer))
        .replace("{{MAX_CHARS}}", str(max_question_chars))
    )
    origins = ", ".join(sorted(policy.origins)) or "only this app's own pages"
    if policy.any_origin:
        origins = "any site (*)"
    security = {
        "Content-Security-Policy": csp,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }

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

    app.mount("/embed/static", StaticFiles(directory=STATIC), name="embed-static")
