"""A scripted OpenAI-compatible chat-completions server on 127.0.0.1, for the LLM backend tests.

It also answers Ollama's native ``/api/chat`` (newline-delimited JSON), for ``ollama:MODEL``.

It stands in for the hosted model (the one part that cannot run here). Tests script each
reply: a normal answer (JSON, or streamed as server-sent events when the client asks for
``stream``), a hang, an HTTP error, or nothing. Every request body is kept for assertions.
A reply's text may be a function of the request, to quote the passages the model was sent.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.servers import free_port

Body = dict[str, Any]


@dataclass
class Reply:
    """One scripted reply. ``mode``: ok | hang | error | empty."""

    text: str | Callable[[Body], str] = ""
    mode: str = "ok"
    chunk: int = 0  # stream in pieces of this many characters; 0 = word by word
    delay: float = 0.0  # seconds between streamed pieces


def passage_text(body: Body, n: int) -> str:
    """The text of passage ``[n]`` as the model was sent it."""
    prompt = body["messages"][-1]["content"]
    found = re.search(
        rf"^\[{n}\] [^\n]*\n(.*?)(?=\n\n\[\d+\] |\n\nReader's question)", prompt, re.S | re.M
    )
    if not found:
        raise AssertionError(f"passage [{n}] not in the prompt")
    return found.group(1).strip()


def first_sentence(body: Body, n: int) -> str:
    """Passage n's first sentence or list item, as a model quoting it would write it."""
    text = passage_text(body, n).splitlines()[0]
    text = re.sub(r"^[-*\d.)\s]+|\*\*", "", text)
    return re.split(r"(?<=[.!?])\s", text)[0].rstrip(".!?")


def is_condense(body: Body) -> bool:
    return "Standalone query:" in body["messages"][-1]["content"]


class LLMStub:
    """``with LLMStub() as stub: stub.script(Reply(...)); ... stub.url``"""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.replies: deque[Reply] = deque()
        self.condense_reply = Reply("")
        self.requests: list[Body] = []
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        # serve_forever checks for shutdown every poll_interval: its 0.5 s default added
        # about 0.45 s to every test's teardown.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def script(self, *replies: Reply) -> None:
        """Replies to the next answer requests, in order (the last one repeats)."""
        self.replies.extend(replies)

    def answer_requests(self) -> list[Body]:
        return [b for b in self.requests if not is_condense(b)]

    def __enter__(self) -> LLMStub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def _next(self, body: Body) -> Reply:
        if is_condense(body):
            return self.condense_reply
        if len(self.replies) > 1:
            return self.replies.popleft()
        return self.replies[0] if self.replies else Reply("")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                stub.requests.append(body)
                reply = stub._next(body)
                if reply.mode == "hang":
                    stub._stop.wait(60)
                    return
                if reply.mode == "error":
                    self._send(500, "application/json", b'{"error": {"message": "boom"}}')
                    return
                text = reply.text(body) if callable(reply.text) else reply.text
                if reply.mode == "empty":
                    text = ""
                if self.path.rstrip("/").endswith("/api/chat"):
                    self._ollama(text, reply, stream=body.get("stream", True))
                elif body.get("stream"):
                    self._stream(text, reply)
                else:
                    self._send(200, "application/json", json.dumps(_completion(text)).encode())

            def _send(self, status: int, kind: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _ollama(self, text: str, reply: Reply, stream: bool) -> None:
                pieces = list(_pieces(text, reply.chunk)) if stream else [text]
                lines = [_ollama_line(p, done=False) for p in pieces] + [
                    _ollama_line("", done=True)
                ]
                if not stream:
                    lines = [_ollama_line(text, done=True)]
                self.send_response(200)
                self.send_header("Content-Type", "application/x-ndjson")
                self.send_header("Connection", "close")
                self.end_headers()
                for line in lines:
                    self.wfile.write(json.dumps(line).encode() + b"\n")
                    self.wfile.flush()
                    if reply.delay:
                        time.sleep(reply.delay)
                self.close_connection = True

            def _stream(self, text: str, reply: Reply) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                for piece in _pieces(text, reply.chunk):
                    self.wfile.write(f"data: {json.dumps(_chunk(piece))}\n\n".encode())
                    self.wfile.flush()
                    if reply.delay:
                        time.sleep(reply.delay)
                self.wfile.write(f"data: {json.dumps(_chunk(None))}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        return Handler


def _pieces(text: str, size: int) -> Iterator[str]:
    if size:
        yield from (text[i : i + size] for i in range(0, len(text), size))
    else:
        yield from re.findall(r"\S+\s*|\s+", text)


def _chunk(piece: str | None) -> Body:
    delta = {"role": "assistant", "content": piece} if piece is not None else {}
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "stub",
        "choices": [
            {"index": 0, "delta": delta, "finish_reason": None if piece is not None else "stop"}
        ],
    }


def _completion(text: str) -> Body:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": "stub",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _ollama_line(piece: str, *, done: bool) -> Body:
    line: Body = {
        "model": "stub",
        "created_at": "2026-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": piece},
        "done": done,
    }
    if done:
        line.update(done_reason="stop", total_duration=1, eval_count=1, prompt_eval_count=1)
    return line
