"""The gate in front of every route (issue 14, findings 1, 3, 4, 8, 9): the real app under
uvicorn with ``python app.py``'s own server options (webapp/serve.py), on 127.0.0.1.

Each test is an attack that worked before the gate; it asserts what the attacker gets.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from gradio_client import Client
from markdown_it import MarkdownIt

from app import create_app
from assistant.pipeline import Assistant
from assistant.questionlog import FILE_NAME, QuestionLog
from assistant.types import Citation
from tests.conftest import CORPUS, make_settings
from tests.servers import free_port, wait_for
from webapp.chat import source_card
from webapp.serve import uvicorn_options

pytestmark = pytest.mark.slow

BLOG = "http://blog.example"
EVIL = "http://evil.example"
HOST = "chat.blog.example"  # the app's public name: Gradio's CORS answered any origin for it
QUESTION = "Which exercises strengthen the gluteus maximus?"


@contextlib.contextmanager
def served(assistant: Assistant, **overrides: object) -> Iterator[str]:
    """``create_app`` under uvicorn with the options ``python app.py`` uses."""
    port = free_port()
    options: dict[str, object] = {
        "allowed_origins": BLOG,
        "allowed_hosts": HOST,
        "host": "127.0.0.1",
        "port": port,
        **overrides,
    }
    settings = make_settings(assistant.settings.data_dir, CORPUS, **options)
    config = uvicorn.Config(create_app(settings, assistant), log_level="warning")
    for name, value in uvicorn_options(settings).items():
        setattr(config, name, value)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        wait_for(f"http://127.0.0.1:{port}/api/health", timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def question_log(tmp_path_factory: pytest.TempPathFactory) -> QuestionLog:
    return QuestionLog(tmp_path_factory.mktemp("gate") / FILE_NAME)


@pytest.fixture(scope="module")
def logging_assistant(assistant: Assistant, question_log: QuestionLog) -> Assistant:
    return Assistant(
        assistant.settings,
        embedder=assistant.embedder,
        retriever=assistant.retriever,
        answerer=assistant.answerer,
        question_log=question_log,
    )


@pytest.fixture(scope="module")
def app(logging_assistant: Assistant) -> Iterator[str]:
    with served(logging_assistant, rate_per_minute=0, rate_per_day=0) as base:
        yield base


def one_line_error(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert list(body) == ["error"] and "\n" not in body["error"], body
    assert response.headers["x-content-type-options"] == "nosniff"
    return str(body["error"])


# --- 1. Gradio's routes and the origin allowlist ------------------------------------------


def test_run_gradio_routes_refuse_other_origins_and_grant_no_cross_origin_reads(app: str) -> None:
    http = httpx.Client(base_url=app, headers={"Host": HOST}, timeout=30)
    chat = {"data": [QUESTION, []]}
    preflight = http.options(
        "/gradio_api/call/chat",
        headers={"Origin": EVIL, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert "evil.example" in one_line_error(preflight, 403)
    posted = http.post("/gradio_api/call/chat", json=chat, headers={"Origin": EVIL})
    assert "access-control-allow-origin" not in posted.headers
    one_line_error(posted, 403)
    # Even the blog's own pages get no cross-origin read of Gradio's routes (they use /api).
    from_blog = http.post("/gradio_api/call/chat", json=chat, headers={"Origin": BLOG})
    assert "access-control-allow-origin" not in from_blog.headers
    assert "access-control-allow-credentials" not in from_blog.headers
    # ... while /api keeps its CORS for the blog, and the app's own page works as before.
    api = http.post("/api/ask", json={"question": QUESTION}, headers={"Origin": BLOG})
    assert api.status_code == 200 and api.headers["access-control-allow-origin"] == BLOG
    own = http.post("/gradio_api/call/chat", json=chat, headers={"Origin": f"http://{HOST}"})
    assert own.status_code == 200 and "event_id" in own.json()


# --- 3. body cap and uploads on Gradio's routes -------------------------------------------


def test_run_oversize_bodies_and_histories_to_gradio_get_413(app: str) -> None:
    http = httpx.Client(base_url=app, timeout=60)
    declared = http.post(
        "/gradio_api/call/chat",
        content=b"{" + b" " * 100_000_000 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert "262144-byte limit" in one_line_error(declared, 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"data": ["hi", ['
        for _ in range(1000):
            yield b'{"role": "user", "content": "' + b"x" * 100_000 + b'"},'
        yield b"]]}"

    with contextlib.suppress(httpx.TransportError):  # the server may close mid-send
        streamed = http.post("/gradio_api/call/chat", content=chunks())
        one_line_error(streamed, 413)
    turns = [{"role": "user", "content": "a"}] * 20_000
    history = http.post("/gradio_api/call/chat", json={"data": ["What is fascia?", turns]})
    one_line_error(history, 413)


def test_run_uploads_are_refused_from_anywhere(app: str) -> None:
    http = httpx.Client(base_url=app, timeout=30)
    upload = {"files": ("x.txt", b"x" * 20_000_000)}
    assert "no files" in one_line_error(http.post("/gradio_api/upload", files=upload), 403)
    other = http.post("/gradio_api/upload", files=upload, headers={"Origin": EVIL})
    assert "evil.example" in one_line_error(other, 403)


# --- 4. votes through Gradio --------------------------------------------------------------


def gradio_event(base: str, api_name: str, data: list[Any], event_data: dict[str, Any]) -> str:
    """One event through Gradio's queue as a browser (or a forger) sends it: its outcome."""
    config = httpx.get(f"{base}/config", timeout=30).json()
    fn = next(d for d in config["dependencies"] if d.get("api_name") == api_name)
    session = uuid.uuid4().hex[:11]
    http = httpx.Client(base_url=base, timeout=30)
    joined = http.post(
        "/gradio_api/queue/join",
        json={
            "data": data,
            "event_data": event_data,
            "fn_index": fn["id"],
            "trigger_id": fn["targets"][0][0],
            "session_hash": session,
        },
    )
    if joined.status_code != 200:
        return f"join {joined.status_code}"
    with http.stream("GET", f"/gradio_api/queue/data?session_hash={session}") as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    return "ok" if message.get("success") else "failed"
    return "no outcome"


def test_run_votes_in_the_chat_only_by_answer_id(
    app: str, question_log: QuestionLog, logging_assistant: Assistant
) -> None:
    asked = httpx.post(f"{app}/api/ask", json={"question": QUESTION}, timeout=60).json()
    victim = asked["id"]

    def vote_of(answer_id: str) -> int | None:
        return next(q.feedback for q in question_log.questions() if q.id == answer_id)

    # The forgery that worked: a made-up history and {"index": 1, "liked": false}.
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "x"}]
    for data in ([history], []):
        gradio_event(app, "feedback", data, {"index": 1, "value": "x", "liked": False})
    assert vote_of(victim) is None
    # A reader's real vote names the answer by the id its reply carries.
    chat = Client(app, verbose=False)
    try:
        reply = str(chat.predict(QUESTION, api_name="/chat"))
    finally:
        chat.close()
    mine = next(q.id for q in reversed(question_log.questions()) if q.question == QUESTION)
    assert mine in reply and mine != victim
    assert gradio_event(app, "feedback", [], {"index": 1, "value": reply, "liked": False}) == "ok"
    assert vote_of(mine) == -1 and vote_of(victim) is None


def test_run_chat_votes_are_rate_limited(
    app: str, logging_assistant: Assistant, question_log: QuestionLog
) -> None:
    ids = [
        httpx.post(f"{app}/api/ask", json={"question": QUESTION}, timeout=60).json()["id"]
        for _ in range(3)
    ]
    with served(logging_assistant, rate_per_minute=2, rate_per_day=100) as base:
        for answer_id in ids:
            value = f"reply <!-- supple-answer:{answer_id} -->"
            gradio_event(base, "feedback", [], {"index": 1, "value": value, "liked": True})
    votes = {q.id: q.feedback for q in question_log.questions()}
    assert [votes[i] for i in ids] == [1, 1, None]  # the third in the minute is not counted


# --- 8. proxies ---------------------------------------------------------------------------


def statuses(base: str, headers: list[dict[str, str]]) -> list[int]:
    return [
        httpx.post(f"{base}/api/ask", json={"question": "hi"}, headers=h, timeout=60).status_code
        for h in headers
    ]


def test_run_forwarded_headers_are_believed_only_from_trusted_proxies(
    assistant: Assistant,
) -> None:
    rotating = [{"X-Forwarded-For": f"203.0.113.{n}"} for n in range(4)]
    with served(assistant, rate_per_minute=2) as base:  # default: no proxy trusted
        assert statuses(base, rotating) == [200, 200, 429, 429]
    with served(assistant, rate_per_minute=2, trusted_proxies="127.0.0.0/8") as base:
        # Behind a trusted proxy each reader has a bucket of their own ...
        assert statuses(base, rotating) == [200, 200, 200, 200]
        forwarded = [{"Forwarded": f'for="198.51.100.{n}";proto=https'} for n in range(3)]
        assert statuses(base, forwarded) == [200, 200, 200]
        # ... the client is the right-most untrusted address, whatever a reader prepends ...
        spoofed = [{"X-Forwarded-For": f"10.9.9.{n}, 192.0.2.77"} for n in range(3)]
        assert statuses(base, spoofed) == [200, 200, 429]
        # ... and text that is no address is no key: it falls back to the peer's bucket.
        junk = [{"X-Forwarded-For": f"not-an-ip-{n}"} for n in range(3)]
        assert statuses(base, junk) == [200, 200, 429]


# --- 9. the small ones --------------------------------------------------------------------


def test_run_half_sent_requests_are_dropped_within_the_timeouts(assistant: Assistant) -> None:
    with served(assistant, header_timeout=1.0, body_timeout=1.0) as base:
        port = int(base.rsplit(":", 1)[1])
        sockets = []
        for n in range(40):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            if n % 2:  # headers never finished
                s.sendall(b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            else:  # a body that stops after 10 of its 1000 bytes
                s.sendall(
                    b"POST /api/ask HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                    b"application/json\r\nContent-Length: 1000\r\n\r\n" + b'{"question"'
                )
            sockets.append(s)
        started = time.monotonic()
        outcomes = []
        for s in sockets:
            data = b""
            with contextlib.suppress(ConnectionResetError):
                while chunk := s.recv(65536):
                    data += chunk
            outcomes.append(data.split(b"\r\n", 1)[0])
            s.close()
        assert time.monotonic() - started < 6
    assert outcomes[0::2] == [b"HTTP/1.1 408 Request Timeout"] * 20
    assert outcomes[1::2] == [b""] * 20  # closed without a word: it never asked anything


def test_run_too_many_connections_get_503(assistant: Assistant) -> None:
    with served(assistant, max_connections=5, header_timeout=5.0) as base:
        port = int(base.rsplit(":", 1)[1])
        held = [socket.create_connection(("127.0.0.1", port)) for _ in range(6)]
        try:
            assert httpx.get(f"{base}/api/health", timeout=10).status_code == 503
        finally:
            for s in held:
                s.close()


def test_run_made_up_gradio_bodies_get_one_line_not_validation_details(app: str) -> None:
    bad = httpx.post(f"{app}/gradio_api/queue/join", json={"fn_index": "x", "data": 5})
    message = one_line_error(bad, 422)
    assert "pydantic" not in bad.text and "loc" not in bad.text and "input" not in message
    with httpx.stream("GET", f"{app}/gradio_api/queue/data?session_hash=nosuch") as stream:
        assert "Traceback" not in stream.read().decode()


def test_run_wrong_methods_and_unknown_api_routes_in_the_error_shape(app: str) -> None:
    http = httpx.Client(base_url=app, timeout=30)
    wrong = http.get("/api/ask")
    assert "takes POST" in one_line_error(wrong, 405) and wrong.headers["allow"] == "POST"
    assert "takes GET" in one_line_error(http.delete("/api/health"), 405)
    assert "takes GET" in one_line_error(http.post("/widget.js"), 405)
    assert "No such API route" in one_line_error(http.get("/api/nothing"), 404)


def test_run_other_host_names_are_refused(app: str) -> None:
    http = httpx.Client(base_url=app, timeout=30)
    for path in ("/", "/api/health", "/gradio_api/info", "/embed"):
        refused = http.get(path, headers={"Host": "rebound.attacker.example"})
        assert "rebound.attacker.example" in one_line_error(refused, 400)
    assert http.get("/api/health", headers={"Host": HOST}).status_code == 200
    assert http.get("/api/health", headers={"Host": "localhost:1"}).status_code == 200


def test_run_every_route_sends_the_security_headers(app: str) -> None:
    http = httpx.Client(base_url=app, timeout=30)
    for path in ("/", "/widget.js", "/embed", "/api/health", "/gradio_api/info", "/docs"):
        headers = http.get(path).headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin", path
        assert "frame-ancestors" in headers["content-security-policy"], path
    assert http.get("/").headers["x-frame-options"] == "SAMEORIGIN"
    embed = http.get("/embed").headers
    assert "x-frame-options" not in embed
    assert f"frame-ancestors 'self' {BLOG}" in embed["content-security-policy"]


def test_run_source_link_with_markdown_breaking_characters_stays_one_link() -> None:
    url = 'https://blog.example/a)"<b>x</b> y/#:~:text=glute'
    card = source_card(Citation(n=1, article="a", title="T", section="S", text="quoted", url=url))
    rendered = MarkdownIt("commonmark").render(card)
    assert (
        '<a href="https://blog.example/a%29%22%3Cb%3Ex%3C/b%3E%20y/#:~:text=glute">T</a>'
        in rendered
    )
    assert "&lt;b&gt;" not in rendered and "<b>" not in rendered
    hostile = Citation(n=1, article="a", title="T", section="S", text="q", url="javascript:x()")
    assert "javascript" not in MarkdownIt("commonmark").render(source_card(hostile))
