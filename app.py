"""The Supple web app: the Gradio chat and the HTTP API over one ``Assistant``.

``create_app(settings)`` builds it; ``python app.py`` serves it on SUPPLE_HOST:SUPPLE_PORT.
"""

from __future__ import annotations

import html
import os
import sys
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

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
from assistant.types import Answer, Citation, Kind  # noqa: E402
from ingest.settings import settings_error_line  # noqa: E402
from webapp.api import install_api  # noqa: E402
from webapp.security import ApiGate, OriginPolicy, RateLimiter  # noqa: E402
from webapp.startup import LateMount  # noqa: E402
from webapp.widget import install_widget  # noqa: E402

if TYPE_CHECKING:  # imported where the chat is built: python app.py serves the API first
    import gradio as gr

TITLE = "Supple — ask the articles"
# Chat replies served at once (Gradio's default is 1: readers queue one behind another).
# Measured with 50 readers on 2 cores, docs/reliability.md.
CHAT_CONCURRENCY = 4


def _escape_md(text: str) -> str:
    """Reader- or article-supplied text shown as text, never run as HTML."""
    return html.escape(text, quote=False)


def source_card(citation: Citation) -> str:
    link = f" · [open the passage]({citation.url})" if citation.url else ""
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
    parts.append(f"<sub>{_escape_md(answer.disclaimer)}</sub>")
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


def build_chat(assistant: Assistant, limiter: RateLimiter | None = None) -> gr.Blocks:
    # Imported here, not at the top: python app.py serves the API before Gradio is in. Global,
    # because Gradio reads the handlers' annotations (gr.Request, gr.LikeData) from this module.
    global gr
    import gradio as gr

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

    def record_feedback(messages: list[Any], data: gr.LikeData) -> None:
        """Thumbs up/down on a reply: stored against the question before it (no identity)."""
        index = data.index[0] if isinstance(data.index, tuple | list) else data.index
        asked = [t for t in _history(messages[: int(index)]) if t["role"] == "user"]
        if assistant.question_log is not None and asked and isinstance(data.liked, bool):
            assistant.question_log.feedback_for_question(asked[-1]["content"], data.liked)

    with gr.Blocks(title=TITLE) as chat:
        gr.Markdown(
            f"## {TITLE}\nAnswers come from the blog's articles, quoted and cited. "
            "[Embed this chat on your blog](/embed/snippet) · [HTTP API](/docs)"
        )
        chatbot = gr.Chatbot(label="Supple", feedback_options=("Like", "Dislike"))
        chatbot.like(record_feedback, [chatbot], None, api_name="feedback")
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


def create_app(
    settings: Settings, assistant: Assistant | None = None, *, chat: bool = True
) -> FastAPI:
    """The FastAPI app: the HTTP API, and the Gradio chat mounted at ``/`` (with
    ``chat=False``, later by ``mount_chat``)."""
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
    return mount_chat(api, assistant) if chat else api


def mount_chat(api: FastAPI, assistant: Assistant) -> FastAPI:
    """The Gradio chat at ``/``, after the API's routes so it cannot shadow them."""
    import gradio as gr

    chat = build_chat(assistant, api.state.rate_limiter)
    return gr.mount_gradio_app(api, chat, path="/", footer_links=["api"])


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


def _mount_chat_later(
    api: FastAPI, assistant: Assistant, model: threading.Thread, settings: Settings
) -> None:
    model.join()  # the model first: on 2 cores the two imports would only slow each other
    mount_chat(api, assistant)
    print(f"Supple is serving the chat on http://{settings.host}:{settings.port}", flush=True)


def main() -> int:
    import uvicorn

    from ingest.run import run_ingest, status

    try:
        settings = Settings()
        OriginPolicy.parse(settings.allowed_origins)  # a bad allowlist stops here, before indexing
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
        # The API first; the chat (import gradio: ~4 s) once the model is in, while the API
        # already answers (webapp/startup.py; docs/benchmarks.md, cold start).
        api = create_app(settings, assistant, chat=False)
        app = LateMount(api, lambda api: _mount_chat_later(api, assistant, model, settings))
    except ValidationError as error:
        print(f"error: {settings_error_line(error)}", file=sys.stderr)
        return 2
    except SuppleError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    threading.Thread(target=_warm_up, args=(assistant,), daemon=True).start()
    print(f"Supple is serving the API on http://{settings.host}:{settings.port}", flush=True)
    # Open streams (the chat's heartbeat) would otherwise hold a shutdown for a long time.
    # No access log: it would write every reader's address to the output.
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        timeout_graceful_shutdown=3,
        access_log=False,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
