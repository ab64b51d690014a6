"""The HTTP API: /api/health, /api/ask (JSON), /api/ask/stream (server-sent events) and
/api/feedback (thumbs up/down on a logged answer).

Every route calls the one ``Assistant`` kept on ``app.state``; errors come back as
``{"error": "one clear line"}`` with the status codes of the interfaces spec.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from typing import Any, Literal

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field, StrictBool
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from assistant.errors import InputError, QuestionTooLong, SuppleError
from assistant.pipeline import Assistant
from assistant.types import Answer
from webapp.security import RateLimiter

ANSWER_EXAMPLE: dict[str, Any] = {
    "kind": "answer",
    "text": "Section lead-in: the author's words that answer the question [1].",
    "citations": [
        {
            "n": 1,
            "article": "article-slug",
            "title": "The Article's Title",
            "section": "Heading > Sub-heading",
            "text": "the exact passage text that supports the claim",
            "url": "https://blog.example/post#:~:text=...",
        }
    ],
    "passages": [{"rank": 1, "article": "...", "section": "...", "text": "...", "score": 0.83}],
    "disclaimer": "This assistant shares general information from the blog's articles. ...",
    "backend": "extractive",
    "latency_ms": 18.2,
    "id": "3f2c9a6e0b7d4c1e8a5f6b2d9c0e7a41",
}
FEEDBACK_EXAMPLE: dict[str, Any] = {"answer_id": "3f2c9a6e0b7d4c1e8a5f6b2d9c0e7a41", "liked": True}
FEEDBACK_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "No logged answer has this id (unknown, or older than the log keeps)."},
    409: {"description": "The question log is turned off (SUPPLE_QUESTION_LOG=false)."},
}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": 'Bad input: `{"error": "..."}`'},
    403: {"description": "A browser page from an origin not in SUPPLE_ALLOWED_ORIGINS."},
    413: {"description": "The question (or the body) is over its size limit."},
    429: {"description": "Rate-limited; the Retry-After header says how many seconds to wait."},
}


class HistoryTurn(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class AskRequest(BaseModel):
    question: str = Field(description="The reader's question.")
    history: list[HistoryTurn] | None = Field(
        None, description="Earlier messages of the conversation, oldest first."
    )

    def turns(self) -> list[dict[str, str]]:
        return [t.model_dump() for t in self.history or []]


class FeedbackRequest(BaseModel):
    answer_id: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[0-9A-Za-z_-]+$",
        description="The `id` of the Answer object being rated.",
    )
    liked: StrictBool = Field(description="true for thumbs up, false for thumbs down.")


BODY_EXAMPLES = {
    "/api/feedback": '{"answer_id": "...", "liked": true}',
}
DEFAULT_BODY_EXAMPLE = '{"question": "...", "history": []}'


def error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def error_for(exc: SuppleError) -> JSONResponse:
    """What a question's failure earns: 413 too long, 400 bad input, 503 the index is away."""
    if isinstance(exc, QuestionTooLong):
        return error(413, str(exc))
    if isinstance(exc, InputError):
        return error(400, str(exc))
    return error(503, str(exc))


def client_key(request: Request) -> str:
    """The client's address (uvicorn puts the proxy's X-Forwarded-For here when trusted)."""
    return request.client.host if request.client else "unknown"


def _check_rate(limiter: RateLimiter, request: Request, what: str) -> None:
    wait = limiter.check(client_key(request))
    if wait is not None:
        raise HTTPException(
            429,
            detail=f"Too many {what} from your address; please try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )


def within_rate_limit(request: Request) -> None:
    _check_rate(request.app.state.rate_limiter, request, "questions")


def within_feedback_rate_limit(request: Request) -> None:
    """The same per-minute and per-day caps as questions, counted apart: a vote never uses
    up a reader's questions."""
    _check_rate(request.app.state.feedback_limiter, request, "votes")


def sse(event: str, data: str) -> str:
    """One server-sent event; a multi-line payload becomes several ``data:`` lines."""
    lines = re.split(r"\r\n|\r|\n", data)
    return f"event: {event}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


def _stream_events(first: str | Answer, rest: Iterator[str | Answer]) -> Iterator[str]:
    part: str | Answer | None = first
    try:
        while part is not None:
            if isinstance(part, Answer):
                yield sse("answer", json.dumps(part.to_dict(), ensure_ascii=False))
            else:
                yield sse("token", part)
            part = next(rest, None)
    except SuppleError as exc:
        yield sse("error", json.dumps({"error": str(exc)}, ensure_ascii=False))


def _assistant(request: Request) -> Assistant:
    assistant: Assistant = request.app.state.assistant
    return assistant


def make_router(max_body_bytes: int) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["api"], max_body_size=max_body_bytes)

    @router.get("/health", summary="Is the app up, how many chunks are indexed, which backend")
    def health(request: Request) -> Any:
        assistant = _assistant(request)
        try:
            chunks = assistant.chunk_count()
        except SuppleError as exc:  # e.g. the Chroma server is down: 503, one line
            return error(503, str(exc))
        return {"status": "ok", "chunks": chunks, "backend": assistant.answerer.name}

    @router.post(
        "/ask",
        summary="Answer one question: the Answer object",
        dependencies=[Depends(within_rate_limit)],
        responses={200: {"content": {"application/json": {"example": ANSWER_EXAMPLE}}}, **ERRORS},
    )
    def ask(body: AskRequest, request: Request) -> JSONResponse:
        try:
            answer = _assistant(request).ask(body.question, body.turns())
        except SuppleError as exc:
            return error_for(exc)
        return JSONResponse(answer.to_dict())

    @router.post(
        "/ask/stream",
        summary="Answer one question as server-sent events",
        description="`event: token` events carry the reply's text as it forms; then one "
        "`event: answer` carries the full Answer object as JSON. A failure after the "
        'stream began arrives as `event: error` with `{"error": ...}`.',
        dependencies=[Depends(within_rate_limit)],
        responses={200: {"content": {"text/event-stream": {}}}, **ERRORS},
    )
    async def ask_stream(body: AskRequest, request: Request) -> Any:
        parts = _assistant(request).stream(body.question, body.turns())
        try:  # the first step checks the question, so bad input still gets its status code
            first = await run_in_threadpool(next, parts)
        except SuppleError as exc:
            return error_for(exc)
        return StreamingResponse(
            _stream_events(first, parts),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @router.post(
        "/feedback",
        summary="Thumbs up or down on one answer, by the Answer object's `id`",
        description="Stored in the question log for the author's gap report; a later vote "
        "on the same answer replaces the earlier one. Answers carry an `id` only while the "
        "question log is on.",
        dependencies=[Depends(within_feedback_rate_limit)],
        responses={
            200: {"content": {"application/json": {"example": FEEDBACK_EXAMPLE}}},
            **ERRORS,
            **FEEDBACK_ERRORS,
        },
    )
    def feedback(body: FeedbackRequest, request: Request) -> JSONResponse:
        log = _assistant(request).question_log
        if log is None:
            return error(409, "Feedback is turned off: this server keeps no question log.")
        try:
            found = log.feedback(body.answer_id, body.liked)
        except sqlite3.Error as exc:
            return error(503, f"The question log cannot be written just now: {exc}")
        if not found:
            return error(
                404, f"No answer with id {body.answer_id}: it may be older than the log keeps."
            )
        return JSONResponse({"answer_id": body.answer_id, "liked": body.liked})

    return router


def _validation_message(exc: RequestValidationError, path: str) -> str:
    problems = list(exc.errors())
    if not problems:
        return "The request is not valid."
    first = problems[0]
    where = [str(p) for p in first.get("loc", ()) if p != "body"]
    if first.get("type") == "json_invalid":
        return "The body must be JSON."
    if not where:
        return (
            f"The body must be a JSON object like {BODY_EXAMPLES.get(path, DEFAULT_BODY_EXAMPLE)}."
        )
    if first.get("type") == "string_pattern_mismatch":
        return f"{'.'.join(where)}: must be the id from an Answer object (letters, digits, - or _)."
    return f"{'.'.join(where)}: {first.get('msg', 'is not valid')}"


def install_api(app: FastAPI, assistant: Assistant, *, max_body_bytes: int) -> None:
    """Adds the /api routes and their JSON error shape to ``app``."""
    app.state.assistant = assistant
    asks: RateLimiter | None = getattr(app.state, "rate_limiter", None)
    app.state.feedback_limiter = RateLimiter(
        asks.per_minute if asks else 0, asks.per_day if asks else 0
    )
    app.include_router(make_router(max_body_bytes))

    @app.exception_handler(RequestValidationError)
    async def bad_input(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error(400, _validation_message(exc, request.url.path))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = str(exc.detail)
        if exc.status_code == 413:
            message = f"The request body is over the {max_body_bytes}-byte limit."
        return error(exc.status_code, message, dict(exc.headers or {}))
