"""The HTTP API in process (FastAPI's TestClient over the real Assistant, model and Chroma)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from app import create_app
from assistant.pipeline import Assistant
from assistant.settings import Settings
from tests.conftest import CORPUS, REPO, make_settings
from webapp.security import AllowedOriginsError, OriginPolicy, RateLimiter

GLUTE_QUESTION = "Which exercises strengthen the gluteus maximus?"
BLOG = "https://blog.example.com"
ANSWER_KEYS = {"kind", "text", "citations", "passages", "disclaimer", "backend", "latency_ms"}


def client_for(assistant: Assistant, **overrides: object) -> TestClient:
    # TestClient's Host is "testserver": allowed like a deployment's own host name.
    options: dict[str, object] = {
        "allowed_origins": BLOG,
        "allowed_hosts": "testserver",
        **overrides,
    }
    settings: Settings = make_settings(assistant.settings.data_dir, CORPUS, **options)
    return TestClient(create_app(settings, assistant))


@pytest.fixture(scope="module")
def client(assistant: Assistant) -> TestClient:
    return client_for(assistant, rate_per_minute=0, rate_per_day=0)


def events(body: str) -> list[tuple[str, str]]:
    """Parses a text/event-stream body into (event, data) pairs."""
    out = []
    for block in body.split("\n\n"):
        if not block.strip():
            continue
        event, data = "message", []
        for line in block.split("\n"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
        out.append((event, "\n".join(data)))
    return out


class TestHealth:
    def test_run_reports_chunks_and_backend(self, client: TestClient, assistant: Assistant) -> None:
        response = client.get("/api/health")
        assert response.status_code == 200
        assert response.json() == {
            "status": "ok",
            "chunks": assistant.chunk_count(),
            "backend": "extractive",
        }
        assert response.json()["chunks"] > 0


class TestAsk:
    def test_run_answers_with_the_cited_bridges_line(self, client: TestClient) -> None:
        response = client.post("/api/ask", json={"question": GLUTE_QUESTION, "history": []})
        assert response.status_code == 200
        answer = response.json()
        assert answer.keys() >= ANSWER_KEYS
        assert answer["kind"] == "answer"
        assert "bridges" in answer["text"].lower()
        assert "[1]" in answer["text"]
        passages = " ".join(p["text"] for p in answer["passages"])
        assert answer["citations"] and all(c["text"] in passages for c in answer["citations"])
        assert answer["disclaimer"].strip()

    def test_run_not_covered_off_topic(self, client: TestClient) -> None:
        answer = client.post("/api/ask", json={"question": "What is the capital of Australia?"})
        assert answer.status_code == 200
        assert answer.json()["kind"] == "not_covered"
        assert answer.json()["disclaimer"].strip()

    @pytest.mark.parametrize(
        ("body", "says"),
        [
            (b"not json", "JSON"),
            (b"[1, 2]", "JSON object"),
            (b"{}", "question"),
            (b'{"question": 42}', "question"),
            (b'{"question": "   "}', "Please type a question."),
            (b'{"question": "hi", "history": [{"role": "robot", "content": "x"}]}', "role"),
        ],
    )
    def test_run_bad_input_is_400_with_one_line(
        self, client: TestClient, body: bytes, says: str
    ) -> None:
        for path in ("/api/ask", "/api/ask/stream"):
            response = client.post(path, content=body, headers={"Content-Type": "application/json"})
            assert response.status_code == 400, path
            error = response.json()["error"]
            assert says in error and "\n" not in error and "Traceback" not in error

    def test_run_oversize_question_is_413(self, client: TestClient) -> None:
        for path in ("/api/ask", "/api/ask/stream"):
            response = client.post(path, json={"question": "w" * 4001})
            assert response.status_code == 413, path
            assert "limit is 4000" in response.json()["error"]

    def test_run_oversize_body_is_413(self, client: TestClient) -> None:
        history = [{"role": "user", "content": "x" * 1000}] * 300  # about 300 kB
        response = client.post("/api/ask", json={"question": "hi", "history": history})
        assert response.status_code == 413
        assert "262144-byte limit" in response.json()["error"]


class TestAskStream:
    def test_run_streams_tokens_then_the_answer(self, client: TestClient) -> None:
        response = client.post("/api/ask/stream", json={"question": GLUTE_QUESTION})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response.text)
        kinds = [event for event, _ in stream]
        assert kinds[-1] == "answer" and kinds.count("answer") == 1
        tokens = [data for event, data in stream if event == "token"]
        assert len(tokens) > 3
        answer = json.loads(stream[-1][1])
        assert answer.keys() >= ANSWER_KEYS
        assert answer["kind"] == "answer" and answer["citations"]
        assert "".join(tokens).split() == answer["text"].split()

    def test_run_urgent_question_still_ends_with_an_answer_event(self, client: TestClient) -> None:
        question = "I have back pain and suddenly can't control my bladder, what should I do?"
        stream = events(client.post("/api/ask/stream", json={"question": question}).text)
        answer = json.loads(stream[-1][1])
        assert stream[-1][0] == "answer"
        assert answer["kind"] == "urgent" and answer["disclaimer"]


class TestOrigins:
    def test_run_disallowed_browser_origin_is_403(self, client: TestClient) -> None:
        evil = {"Origin": "https://evil.example"}
        for method, path in (
            ("GET", "/api/health"),
            ("POST", "/api/ask"),
            ("POST", "/api/ask/stream"),
        ):
            response = client.request(method, path, json={"question": "hi"}, headers=evil)
            assert response.status_code == 403, path
            error = response.json()["error"]
            assert "not allowed" in error
            assert "SUPPLE_ALLOWED_ORIGINS=https://evil.example" in error
            # CORS on the refusal only, so the refused page can read why; never credentials
            assert response.headers["access-control-allow-origin"] == "https://evil.example"
            assert "access-control-allow-credentials" not in response.headers

    def test_run_allowed_origin_gets_cors_headers(self, client: TestClient) -> None:
        response = client.post(
            "/api/ask", json={"question": GLUTE_QUESTION}, headers={"Origin": BLOG}
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == BLOG
        assert "Origin" in response.headers["vary"]

    def test_run_the_apps_own_origin_and_scripts_are_allowed(self, client: TestClient) -> None:
        own = client.get("/api/health", headers={"Origin": "http://testserver"})
        assert own.status_code == 200
        assert client.get("/api/health").status_code == 200  # no Origin: curl, scripts

    def test_run_preflight(self, client: TestClient) -> None:
        ask = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        }
        allowed = client.options("/api/ask/stream", headers={"Origin": BLOG, **ask})
        assert allowed.status_code == 204
        assert allowed.headers["access-control-allow-origin"] == BLOG
        assert "POST" in allowed.headers["access-control-allow-methods"]
        refused = client.options("/api/ask", headers={"Origin": "http://evil.example", **ask})
        assert refused.status_code == 403

    def test_run_embed_may_be_framed_only_by_allowed_origins(self, client: TestClient) -> None:
        csp = client.get("/embed").headers["content-security-policy"]
        directive = next(d.strip() for d in csp.split(";") if "frame-ancestors" in d)
        assert directive == f"frame-ancestors 'self' {BLOG}"
        assert "script-src 'self'" in csp

    @pytest.mark.parametrize(
        ("setting", "origins"),
        [
            ("", set()),
            ("https://Blog.Example.com/, http://127.0.0.1:8000", {BLOG, "http://127.0.0.1:8000"}),
            ("https://blog.example.com:443", {BLOG}),
        ],
    )
    def test_run_parses_the_allowlist(self, setting: str, origins: set[str]) -> None:
        assert OriginPolicy.parse(setting).origins == origins

    @pytest.mark.parametrize(
        "setting", ["blog.example.com", "https://blog.example.com/post", "ftp://x", "https://a b"]
    )
    def test_run_rejects_what_is_not_an_origin(self, setting: str, assistant: Assistant) -> None:
        with pytest.raises(AllowedOriginsError, match="is not an origin"):
            OriginPolicy.parse(setting)
        with pytest.raises(AllowedOriginsError):
            client_for(assistant, allowed_origins=setting)

    def test_run_own_origin_is_matched_by_host_and_port(self) -> None:
        policy = OriginPolicy.parse("")
        assert policy.allows("http://127.0.0.1:7860", "127.0.0.1:7860")
        assert not policy.allows("http://127.0.0.1:9999", "127.0.0.1:7860")
        assert not policy.allows("http://127.0.0.1", "127.0.0.1:7860")
        assert policy.allows("https://blog.example.com", "blog.example.com:443")
        assert not policy.allows("null", "127.0.0.1:7860")


class TestRateLimits:
    def test_run_per_minute_cap_is_429_with_retry_after(self, assistant: Assistant) -> None:
        client = client_for(assistant, rate_per_minute=2, rate_per_day=100)
        for _ in range(2):
            ok = client.post("/api/ask", json={"question": "What do fascial adhesions do?"})
            assert ok.status_code == 200
        limited = client.post("/api/ask/stream", json={"question": "What do fascial adhesions do?"})
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert "try again in" in limited.json()["error"]
        assert client.get("/api/health").status_code == 200  # health is never limited

    def test_run_daily_cap_and_windows(self) -> None:
        now = [86400 * 100 + 3600.0]  # 01:00 UTC on some day
        limiter = RateLimiter(per_minute=3, per_day=5, clock=lambda: now[0])
        assert [limiter.check("a") for _ in range(3)] == [None, None, None]
        assert limiter.check("a") == 60  # the minute is full
        assert limiter.check("b") is None  # another client is counted apart
        now[0] += 61
        assert [limiter.check("a") for _ in range(2)] == [None, None]
        assert limiter.check("a") == 23 * 3600 - 61  # the day is full: wait until midnight UTC
        now[0] += 23 * 3600
        assert limiter.check("a") is None

    def test_run_forgets_idle_clients(self) -> None:
        now = [86400 * 100.0]
        limiter = RateLimiter(per_minute=3, per_day=5, clock=lambda: now[0])
        limiter.check("198.51.100.7")
        now[0] += 86400
        limiter.check("203.0.113.9")
        assert "198.51.100.7" not in repr(limiter)

    def test_run_zero_means_no_cap(self) -> None:
        limiter = RateLimiter(per_minute=0, per_day=0)
        assert all(limiter.check("a") is None for _ in range(200))


class TestPages:
    def test_run_gradio_does_not_shadow_the_api_docs_or_widget(self, client: TestClient) -> None:
        paths = client.get("/openapi.json").json()["paths"]
        assert {"/api/health", "/api/ask", "/api/ask/stream"} <= set(paths)
        assert "swagger" in client.get("/docs").text.lower()
        widget = client.get("/widget.js")
        assert widget.headers["content-type"].startswith("text/javascript")
        assert "attachShadow" in widget.text
        embed = client.get("/embed")
        assert 'id="supple-input"' in embed.text and 'maxlength="4000"' in embed.text
        assert "not medical advice" in embed.text
        assert client.get("/embed/static/embed.js").status_code == 200
        assert "gradio" in client.get("/").text.lower()

    def test_run_docs_page_needs_no_cdn(self, client: TestClient) -> None:
        page = client.get("/docs").text
        assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page)
        assert assets, page
        for asset in assets:
            assert asset.startswith("/"), f"/docs loads {asset} from another host"
            assert client.get(asset).status_code == 200

    def test_run_snippet_page_shows_the_one_line(self, client: TestClient) -> None:
        page = client.get("/embed/snippet").text
        assert (
            "&lt;script src=&quot;http://testserver/widget.js&quot; defer&gt;&lt;/script&gt;"
            in page
        )
        assert "SUPPLE_ALLOWED_ORIGINS" in page and BLOG in page


@pytest.mark.slow
def test_run_app_with_a_bad_allowlist_exits_2_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "SUPPLE_DATA_DIR": str(tmp_path), "SUPPLE_ALLOWED_ORIGINS": "blog.example"}
    done = subprocess.run(
        [sys.executable, "app.py"], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        "error: 'blog.example' in SUPPLE_ALLOWED_ORIGINS is not an origin like "
        "https://blog.example.com"
    )
    assert "Traceback" not in done.stderr
