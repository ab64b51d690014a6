"""Thumbs up/down over HTTP: POST /api/feedback stores the vote in the real SQLite question log.

In process (FastAPI's TestClient over the real Assistant, model, Chroma and question log), and
once over the wire against ``python app.py`` (the served site of tests/app/conftest.py).
"""

from __future__ import annotations

import json
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import create_app
from assistant.pipeline import Assistant
from assistant.questionlog import FILE_NAME, QuestionLog
from assistant.settings import Settings
from tests.app.conftest import Site
from tests.conftest import CORPUS, make_settings

GLUTE_QUESTION = "Which exercises strengthen the gluteus maximus?"
FASCIA_QUESTION = "What do fascial adhesions do?"
BLOG = "https://blog.example.com"
UNKNOWN_ID = "0123456789abcdef0123456789abcdef"


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
def question_log(tmp_path_factory: pytest.TempPathFactory) -> QuestionLog:
    return QuestionLog(tmp_path_factory.mktemp("feedback") / FILE_NAME)


@pytest.fixture(scope="module")
def logging_assistant(assistant: Assistant, question_log: QuestionLog) -> Assistant:
    """The session's assistant (same model and index), with a question log of its own."""
    return Assistant(
        assistant.settings,
        embedder=assistant.embedder,
        retriever=assistant.retriever,
        answerer=assistant.answerer,
        question_log=question_log,
    )


@pytest.fixture(scope="module")
def client(logging_assistant: Assistant) -> TestClient:
    return client_for(logging_assistant, rate_per_minute=0, rate_per_day=0)


def stored_feedback(path: Path, answer_id: str) -> tuple[str, int | None, float | None]:
    """(question, feedback, feedback_at) of one row, read straight from the SQLite file."""
    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT question, feedback, feedback_at FROM questions WHERE id = ?", (answer_id,)
        ).fetchone()
    assert row is not None, f"no row {answer_id} in {path}"
    return row[0], row[1], row[2]


def answer_event(body: str) -> dict[str, Any]:
    """The ``event: answer`` payload of a text/event-stream body."""
    block = next(b for b in body.split("\n\n") if b.startswith("event: answer"))
    data = [line[len("data: ") :] for line in block.split("\n") if line.startswith("data: ")]
    answer: dict[str, Any] = json.loads("\n".join(data))
    return answer


def assert_one_line(response: Any, status: int, says: str) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert says in error, error
    assert "\n" not in error and "Traceback" not in error


class TestVotes:
    def test_run_thumbs_up_on_an_asked_answer_is_stored(
        self, client: TestClient, question_log: QuestionLog
    ) -> None:
        answer = client.post("/api/ask", json={"question": GLUTE_QUESTION}).json()
        assert answer["kind"] == "answer"
        answer_id = answer["id"]
        assert len(answer_id) == 32
        assert stored_feedback(question_log.path, answer_id)[1] is None  # asked, not yet rated

        response = client.post("/api/feedback", json={"answer_id": answer_id, "liked": True})
        assert response.status_code == 200
        assert response.json() == {"answer_id": answer_id, "liked": True}
        question, feedback, feedback_at = stored_feedback(question_log.path, answer_id)
        assert (question, feedback) == (GLUTE_QUESTION, 1)
        assert feedback_at is not None
        logged = {q.id: q for q in QuestionLog(question_log.path).questions()}
        assert logged[answer_id].feedback == 1

    def test_run_thumbs_down_on_a_streamed_answer_is_stored(
        self, client: TestClient, question_log: QuestionLog
    ) -> None:
        streamed = client.post("/api/ask/stream", json={"question": FASCIA_QUESTION})
        answer_id = answer_event(streamed.text)["id"]
        response = client.post("/api/feedback", json={"answer_id": answer_id, "liked": False})
        assert response.status_code == 200
        assert stored_feedback(question_log.path, answer_id)[:2] == (FASCIA_QUESTION, -1)

    def test_run_a_later_vote_replaces_the_earlier(
        self, client: TestClient, question_log: QuestionLog
    ) -> None:
        answer_id = client.post("/api/ask", json={"question": GLUTE_QUESTION}).json()["id"]
        for liked, stored in ((False, -1), (True, 1)):
            client.post("/api/feedback", json={"answer_id": answer_id, "liked": liked})
            assert stored_feedback(question_log.path, answer_id)[1] == stored

    def test_run_every_kind_of_reply_has_an_id(self, client: TestClient) -> None:
        for question in ("What is the capital of Australia?", "I have crushing chest pain now"):
            answer = client.post("/api/ask", json={"question": question}).json()
            assert answer["kind"] in ("not_covered", "urgent")
            assert len(answer["id"]) == 32


class TestRefusals:
    def test_run_unknown_id_is_404_with_one_line(
        self, client: TestClient, question_log: QuestionLog
    ) -> None:
        before = question_log.questions()
        response = client.post("/api/feedback", json={"answer_id": UNKNOWN_ID, "liked": True})
        assert_one_line(response, 404, f"No answer with id {UNKNOWN_ID}")
        assert response.json() == {"error": response.json()["error"]}
        assert question_log.questions() == before

    @pytest.mark.parametrize(
        ("body", "says"),
        [
            (b"not json", "The body must be JSON."),
            (b"[1, 2]", '{"answer_id": "...", "liked": true}'),
            (b"{}", "answer_id"),
            (b'{"answer_id": "abc"}', "liked"),
            (b'{"answer_id": "abc", "liked": "yes"}', "liked"),
            (b'{"answer_id": "abc", "liked": 1}', "liked"),
            (b'{"answer_id": 42, "liked": true}', "answer_id"),
            (b'{"answer_id": "", "liked": true}', "answer_id"),
            (b'{"answer_id": "a b\\nc", "liked": true}', "must be the id from an Answer"),
            (b'{"answer_id": "' + b"a" * 65 + b'", "liked": true}', "answer_id"),
        ],
    )
    def test_run_bad_body_is_400_with_one_line(
        self, client: TestClient, body: bytes, says: str
    ) -> None:
        response = client.post(
            "/api/feedback", content=body, headers={"Content-Type": "application/json"}
        )
        assert_one_line(response, 400, says)

    def test_run_oversize_body_is_413(self, client: TestClient) -> None:
        body = {"answer_id": "a", "liked": True, "padding": "x" * 270_000}
        assert_one_line(client.post("/api/feedback", json=body), 413, "262144-byte limit")

    def test_run_log_turned_off_says_so(self, assistant: Assistant) -> None:
        assert assistant.question_log is None  # the session's assistant keeps no log
        client = client_for(assistant, rate_per_minute=0, rate_per_day=0)
        answer = client.post("/api/ask", json={"question": GLUTE_QUESTION}).json()
        assert answer["kind"] == "answer" and "id" not in answer
        response = client.post("/api/feedback", json={"answer_id": UNKNOWN_ID, "liked": True})
        assert_one_line(response, 409, "Feedback is turned off")

    def test_run_disallowed_browser_origin_is_403(
        self, client: TestClient, question_log: QuestionLog
    ) -> None:
        answer_id = client.post("/api/ask", json={"question": GLUTE_QUESTION}).json()["id"]
        response = client.post(
            "/api/feedback",
            json={"answer_id": answer_id, "liked": True},
            headers={"Origin": "https://evil.example"},
        )
        assert_one_line(response, 403, "not allowed")
        # CORS on the refusal only (so the page can read why), never credentials
        assert response.headers["access-control-allow-origin"] == "https://evil.example"
        assert "access-control-allow-credentials" not in response.headers
        assert stored_feedback(question_log.path, answer_id)[1] is None

    def test_run_allowed_origin_gets_cors_and_preflight(
        self, client: TestClient, question_log: QuestionLog
    ) -> None:
        preflight = client.options(
            "/api/feedback",
            headers={
                "Origin": BLOG,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == BLOG
        answer_id = client.post("/api/ask", json={"question": GLUTE_QUESTION}).json()["id"]
        response = client.post(
            "/api/feedback", json={"answer_id": answer_id, "liked": True}, headers={"Origin": BLOG}
        )
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == BLOG
        assert stored_feedback(question_log.path, answer_id)[1] == 1

    def test_run_votes_are_rate_limited_apart_from_questions(
        self, logging_assistant: Assistant
    ) -> None:
        client = client_for(logging_assistant, rate_per_minute=2, rate_per_day=100)
        answer_id = client.post("/api/ask", json={"question": GLUTE_QUESTION}).json()["id"]
        vote = {"answer_id": answer_id, "liked": True}
        assert [client.post("/api/feedback", json=vote).status_code for _ in range(2)] == [200, 200]
        limited = client.post("/api/feedback", json=vote)
        assert_one_line(limited, 429, "Too many votes")
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        # the votes used none of the reader's questions: the second question still goes
        assert client.post("/api/ask", json={"question": FASCIA_QUESTION}).status_code == 200

    def test_run_the_route_is_in_the_api_docs(self, client: TestClient) -> None:
        paths = client.get("/openapi.json").json()["paths"]
        assert "post" in paths["/api/feedback"]


def post_json(url: str, body: dict[str, Any], origin: str) -> tuple[int, dict[str, str], Any]:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Origin": origin},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), json.load(response)
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), json.load(refused)


@pytest.mark.slow
def test_run_served_app_stores_a_vote_from_the_blog(site: Site) -> None:
    status, _, answer = post_json(f"{site.app}/api/ask", {"question": GLUTE_QUESTION}, site.blog)
    assert status == 200 and answer["kind"] == "answer"
    vote = {"answer_id": answer["id"], "liked": False}
    status, headers, body = post_json(f"{site.app}/api/feedback", vote, site.blog)
    assert status == 200 and body == vote
    assert headers["access-control-allow-origin"] == site.blog
    logged = {q.id: q for q in QuestionLog(site.data_dir / FILE_NAME).questions()}
    assert (logged[answer["id"]].question, logged[answer["id"]].feedback) == (GLUTE_QUESTION, -1)
    status, _, refused = post_json(f"{site.app}/api/feedback", vote, site.stranger)
    assert status == 403 and "not allowed" in refused["error"]
