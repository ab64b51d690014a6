"""The Supple web app: the Gradio chat and the HTTP API over one ``Assistant``.

``create_app(settings)`` builds it; ``python app.py`` serves it on SUPPLE_HOST:SUPPLE_PORT.
"""

from __future__ import annotations

import html
import os
import sys
from collections.abc import Iterator
from typing import Any

for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
}.items():
    os.environ.setdefault(_name, _value)

import gradio as gr  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi_offline import FastAPIOffline  # noqa: E402
from pydantic import ValidationError  # noqa: E402

from assistant.errors import SuppleError  # noqa: E402
from assistant.pipeline import Assistant  # noqa: E402
from assistant.prompts import load_prompt  # noqa: E402
from assistant.questionlog import QuestionLog  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.types import Answer, Citation, Kind  # noqa: E402
from ingest.settings import settings_error_line  # noqa: E402
from webapp.api import install_api  # noqa: E402
from webapp.chat_votes import answer_marker, record_chat_vote  # noqa: E402
from webapp.gate import install_gate  # noqa: E402
from webapp.proxies import ProxyPolicy  # noqa: E402
from webapp.security import ApiGate, OriginPolicy, RateLimiter, markdown_link_url  # noqa: E402
from webapp.serve import serve  # noqa: E402
from webapp.widget import install_widget  # noqa: E402

TITLE = "Supple — ask the articles"
# Chat replies served at once (Gradio's default is 1: readers queue one behind another).
# Measured with 50 readers on 2 cores, docs/reliability.md.
CHAT_CONCURRENCY = 4


def _escape_md(text: str) -> str:
    """Reader- or article-supplied text shown as text, never run as HTML."""
    return html.escape(text, quote=False)


def source_card(citation: Citation) -> str:
    url = markdown_link_url(citation.url)
    link = f" · [open the passage]({url})" if url else ""
    return (
        f"> **[{citation.n}] {_escape_md(citation.title)}** — {_escape_md(citation.section)}{link}\n"
        f"> “{_escape_md(citation.text)}”"
    )


def render_answer(answer: Answer) -> str:
    """The chat message: the reply, the source cards, the disclaimer."""
    parts = [_escape_md(answer.text)]
    if answer.kind == Kind.URGENT:
        parts[0] = f"⚠️ **{parts[0]}**"
    if answer.note:
        parts.append(f"_{_escape_md(answer.note)}_")
    if answer.citations:
        parts.append("**Sources**\n\n" + "\n\n".join(source_card(c) for c in answer.citations))
    parts.append(f"<sub>{_escape_md(answer.disclaimer)}</sub>{answer_marker(answer.id)}")
    return "\n\n".join(parts)


def _history(messages: list[Any]) -> list[dict[str, str]]:
    turns = []
    for m in messages or []:
        role = m.get("role") if isinstance(m, dict) else getattr(m, "role", None)
        content = m.get("content") if isinstance(m, dict) else getattr(m, "content", None)
        if isinstance(content, list):  # Gradio 6: a list of content parts
            content = " ".join(
                str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content
            )
        if role in ("user", "assistant") and isinstance(content, str):
            turns.append({"role": role, "content": content})
    return turns


def build_chat(
    assistant: Assistant,
    limiter: RateLimiter | None = None,
    vote_limiter: RateLimiter | None = None,
) -> gr.Blocks:
    def respond(message: str, history: list[Any], request: gr.Request) -> Iterator[str]:
        client = getattr(getattr(request, "client", None), "host", None)
        wait = limiter.check(client) if limiter and client else None
        if wait is not None:  # the same per-reader caps as the HTTP API
            yield f"⚠️ Too many questions from your address; please try again in {wait} seconds."
            return
        try:
            text = ""
            for part in assistant.stream(message, _history(history)):
                if isinstance(part, Answer):
                    yield render_answer(part)
                else:
                    text += part
                    yield _escape_md(text)
        except SuppleError as error:
            yield f"⚠️ {_escape_md(str(error))}"

    def record_feedback(data: gr.LikeData, request: gr.Request) -> None:
        """Thumbs up/down on a reply, by the answer id it carries (webapp/chat_votes.py)."""
        client = getattr(getattr(request, "client", None), "host", None)
        record_chat_vote(assistant.question_log, vote_limiter, client, data.value, data.liked)

    with gr.Blocks(title=TITLE) as chat:
        gr.Markdown(
            f"## {TITLE}\nAnswers come from the blog's articles, quoted and cited. "
            "[Embed this chat on your blog](/embed/snippet) · [HTTP API](/docs)"
        )
        chatbot = gr.Chatbot(label="Supple", feedback_options=("Like", "Dislike"))
        chatbot.like(record_feedback, None, None, api_name="feedback")
        gr.ChatInterface(
            respond,
            chatbot=chatbot,
            api_name="chat",
            examples=[
                "Which exercises strengthen the gluteus maximus?",
                "How do weak glutes cause low back pain?",
                "What do fascial adhesions do?",
            ],
            run_examples_on_click=True,
            cache_examples=False,
            concurrency_limit=CHAT_CONCURRENCY,
        )
        gr.Markdown(
            f"**Please note:** {assistant._prompt('disclaimer')}", elem_id="supple-disclaimer"
        )
    return chat


def create_app(settings: Settings, assistant: Assistant | None = None) -> FastAPI:
    """The FastAPI app: the HTTP API, and the Gradio chat mounted at ``/``."""
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
    )

    chat = build_chat(assistant, api.state.rate_limiter, api.state.feedback_limiter)
    # No file inputs: uploads are refused by the gate, and capped here anyway.
    app = gr.mount_gradio_app(
        api, chat, path="/", footer_links=["api"], max_file_size="1kb", show_error=False
    )
    install_gate(app, settings, policy)  # outermost: every route passes it (webapp/gate.py)
    return app


def _warm_up(assistant: Assistant) -> None:
    """Load the model before the first reader asks; a failure here is one line, not fatal."""
    try:
        assistant.warm_up()
    except SuppleError as error:
        print(f"warm-up skipped: {error}", file=sys.stderr, flush=True)


def _load_model() -> None:
    from assistant.pipeline import preload_model

    try:
        preload_model()
    except Exception as error:  # the warm-up after start-up reports it properly, or the ask
        print(f"model pre-load skipped: {error}", file=sys.stderr, flush=True)


def main() -> int:
    import threading

    from ingest.run import run_ingest, status

    try:
        settings = Settings()
        OriginPolicy.parse(settings.allowed_origins)  # a bad allowlist stops here, before indexing
        ProxyPolicy.parse(settings.trusted_proxies)
        # Load the model (import torch, read the weights: ~5 s) while the index is checked and
        # the chat is built, so the first answer is not 5 s behind the first health check.
        threading.Thread(target=_load_model, daemon=True).start()
        if status(settings).stale:
            print("The index is missing or out of date: indexing the corpus first.", flush=True)
            report = run_ingest(settings, progress=True)
            print(f"indexed {report.articles} articles, {report.chunks} chunks", flush=True)
        import torch

        # Questions are embedded one at a time, several at once: one thread each measured
        # faster than two threads fighting for 2 cores (docs/benchmarks.md).
        torch.set_num_threads(settings.query_threads)
        assistant = Assistant(settings, question_log=QuestionLog.from_settings(settings))
        app = create_app(settings, assistant)
    except ValidationError as error:
        print(f"error: {settings_error_line(error)}", file=sys.stderr)
        return 2
    except SuppleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    threading.Thread(target=_warm_up, args=(assistant,), daemon=True).start()
    print(f"Supple is serving the chat on http://{settings.host}:{settings.port}", flush=True)
    serve(app, settings)  # uvicorn with timeouts and limits (webapp/serve.py)
    return 0


if __name__ == "__main__":
    sys.exit(main())
