"""The Supple web app: the Gradio chat and the HTTP API over one ``Assistant``.

``create_app(settings)`` builds it; ``python app.py`` serves it on SUPPLE_HOST:SUPPLE_PORT.
"""

from __future__ import annotations

import os
import sys
import threading

for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
}.items():
    os.environ.setdefault(_name, _value)

from fastapi import FastAPI  # noqa: E402
from fastapi_offline import FastAPIOffline  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from assistant.errors import SuppleError  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.prompts import load_prompt  # noqa: E402
from assistant.questionlog import QuestionLog  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from ingest.settings import exit_line  # noqa: E402
from webapp.api import install_api  # noqa: E402
from webapp.articles import install_articles  # noqa: E402
from webapp.gate import install_gate  # noqa: E402
from webapp.proxies import ProxyPolicy  # noqa: E402
from webapp.security import ApiGate, OriginPolicy, RateLimiter  # noqa: E402
from webapp.serve import serve  # noqa: E402
from webapp.startup import LateMount  # noqa: E402
from webapp.widget import install_widget, page_headers  # noqa: E402
from webapp.words import widget_copy  # noqa: E402


def create_app(
    settings: Settings, assistant: Assistant | None = None, *, chat: bool = True
) -> FastAPI:
    """The FastAPI app: the HTTP API, and the Gradio chat mounted at ``/`` (``chat=False``:
    the API alone, the chat mounted later by ``mount_chat``). Every route, the chat's too,
    passes the gate (webapp/gate.py)."""
    assistant = assistant or Assistant(settings, question_log=QuestionLog.from_settings(settings))
    # FastAPIOffline serves the /docs page's Swagger UI files itself: no CDN, like the rest.
    api = FastAPIOffline(
        title="Supple", description="Answers readers' questions from the blog's articles."
    )
    # The API and widget routes go before Gradio's mount at "/", so it cannot shadow them.
    policy = OriginPolicy.parse(settings.allowed_origins)
    api.add_middleware(ApiGate, policy=policy, max_body_bytes=settings.max_body_bytes)
    api.state.rate_limiter = RateLimiter(settings.rate_per_minute, settings.rate_per_day)
    install_api(api, assistant, max_body_bytes=settings.max_body_bytes)
    install_widget(
        api,
        policy,
        disclaimer=load_prompt(settings.prompts_dir, "disclaimer"),
        max_question_chars=settings.max_question_chars,
        **widget_copy(settings),
    )

    install_articles(api, settings, page_headers(policy))
    if chat:
        mount_chat(api, assistant)
    # outermost, and before serving starts (Starlette takes no middleware after): every
    # route passes it, the chat mounted later included (webapp/gate.py)
    install_gate(api, settings, policy)
    return api


def mount_chat(api: FastAPI, assistant: Assistant) -> FastAPI:
    """The Gradio chat at ``/``, after the API's routes so it cannot shadow them."""
    # Gradio is imported here, not at the top: python app.py serves the API before it is in.
    import gradio as gr

    from webapp.chat import CSS, SCROLL_JS, build_chat

    chat = build_chat(assistant, api.state.rate_limiter, api.state.feedback_limiter)
    # No file inputs: uploads are refused by the gate, and capped here anyway.
    return gr.mount_gradio_app(
        api,
        chat,
        path="/",
        footer_links=["api"],
        css=CSS.read_text(encoding="utf-8"),
        js=SCROLL_JS.read_text(encoding="utf-8"),
        max_file_size="1kb",
        show_error=False,
    )


def _warm_up(assistant: Assistant, answered: threading.Event) -> None:
    """Load the model before the first reader asks; a failure here is one line, not fatal."""
    try:
        assistant.warm_up(answered.set)
    except SuppleError as error:
        print(f"warm-up skipped: {error}", file=sys.stderr, flush=True)
    finally:
        answered.set()


def _load_model() -> None:
    from assistant.pipeline import preload_model

    try:
        preload_model()
    except Exception as error:  # the warm-up after start-up reports it properly, or the ask
        print(f"model pre-load skipped: {error}", file=sys.stderr, flush=True)


def _mount_chat_later(
    api: FastAPI, assistant: Assistant, answered: threading.Event, settings: Settings
) -> None:
    # The first answer first (the model, the index, the red-flag vectors): on 2 cores
    # importing Gradio beside it only slowed it, by ~3 s of the cold start (docs/benchmarks.md)
    answered.wait()
    mount_chat(api, assistant)
    print(f"Supple is serving the chat on http://{settings.host}:{settings.port}", flush=True)


def main() -> int:
    from ingest.run import run_ingest, status

    try:
        settings = Settings()
        OriginPolicy.parse(settings.allowed_origins)  # a bad allowlist stops here, before indexing
        ProxyPolicy.parse(settings.trusted_proxies)
        # Load the model (import torch, read the weights: ~5 s) while the index is checked and
        # the chat is built, so the first answer is not 5 s behind the first health check.
        model = threading.Thread(target=_load_model, daemon=True)
        model.start()
        if status(settings).stale:
            print("The index is missing or out of date: indexing the corpus first.", flush=True)
            report = run_ingest(settings, progress=True)
            print(f"indexed {report.articles} articles, {report.chunks} chunks", flush=True)
        import torch

        # Questions are embedded one at a time, several at once: one thread each measured
        # faster than two threads fighting for 2 cores (docs/benchmarks.md).
        torch.set_num_threads(settings.query_threads)
        assistant = Assistant(settings, question_log=QuestionLog.from_settings(settings))
        # The API first; the chat (import gradio: ~4 s) once the first answer is in, while the API
        # already answers (webapp/startup.py; docs/benchmarks.md, cold start).
        api = create_app(settings, assistant, chat=False)
        answered = threading.Event()
        app = LateMount(api, lambda api: _mount_chat_later(api, assistant, answered, settings))
    except (ValidationError, SuppleError) as error:
        return exit_line(error)
    threading.Thread(target=_warm_up, args=(assistant, answered), daemon=True).start()
    print(f"Supple is serving the API on http://{settings.host}:{settings.port}", flush=True)
    serve(app, settings)  # uvicorn with timeouts and limits (webapp/serve.py)
    return 0


if __name__ == "__main__":
    sys.exit(main())
