"""Coverage gaps from real readers: questions asked through the running app (HTTP API,
Gradio client, thumbs down in the browser) land in the SQLite log; ``python -m eval gaps``
groups them into topics, most asked first, and turns them into eval cases to label."""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sqlite3
import urllib.request
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import pytest

from eval.__main__ import main
from eval.sets import load_set
from tests.browser import open_page
from tests.conftest import ARTICLE
from tests.servers import running_app

DIET = [
    "what is the best diet for back pain",
    "what is the best diet for back pain",
    "what should I eat to help my lower back",
    "best foods for back pain?",
]
SHOES = ["which running shoes are best for flat feet", "what trainers should I buy for flat feet"]
ANSWERED = "What is fascia?"
DOSE = "how much ibuprofen can I take"  # clinician reply: logged without its text
MATTRESS = "best mattress for a bad back?"  # asked in the chat, through gradio_client
THUMBED = "Which exercises strengthen the gluteus maximus?"  # answered, then thumbed down


def ask(base: str, question: str) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{base}/api/ask",
        data=json.dumps({"question": question}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return dict(json.load(response))


@contextlib.contextmanager
def author_shell(data_dir: Path, folder: Path) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        for name in list(os.environ):
            if name.startswith("SUPPLE_"):
                mp.delenv(name)
        mp.setenv("SUPPLE_DATA_DIR", str(data_dir))
        mp.chdir(folder)
        yield


def gaps(data_dir: Path, *args: str) -> tuple[int, str]:
    printed = io.StringIO()
    with author_shell(data_dir, data_dir.parent), redirect_stdout(printed):
        code = main(["gaps", *args])
    return code, printed.getvalue()


@pytest.fixture(scope="module")
def app_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The real app, asked real questions; yields its data folder while it runs."""
    from gradio_client import Client

    data = tmp_path_factory.mktemp("app") / "data"
    data.mkdir()
    # the seed article alone: diet, shoes and mattresses are what it does not cover
    corpus = data.parent / "corpus"
    corpus.mkdir()
    shutil.copy(ARTICLE, corpus / ARTICLE.name)
    with running_app(data, corpus) as base:
        kinds = {q: ask(base, q)["kind"] for q in [*DIET, *SHOES, ANSWERED, DOSE]}
        chat = Client(f"{base}/", verbose=False)
        reply = chat.predict(MATTRESS, api_name="/chat")
        yield {"base": base, "data": data, "kinds": kinds, "chat_reply": reply}


def logged(data: Path) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(data / "questions.sqlite3")) as db:
        return db.execute("SELECT * FROM questions ORDER BY asked_at").fetchall()


@pytest.mark.slow
def test_the_app_logs_question_kind_and_score_and_nothing_else(app_log: dict[str, Any]) -> None:
    assert app_log["kinds"][ANSWERED] == "answer" and app_log["kinds"][DOSE] == "not_covered"
    assert all(app_log["kinds"][q] == "not_covered" for q in DIET + SHOES)
    assert str(app_log["chat_reply"]).strip()
    rows = logged(app_log["data"])
    assert rows[-1][2:4] == (MATTRESS, "not_covered")  # the chat's question, logged too
    with contextlib.closing(sqlite3.connect(app_log["data"] / "questions.sqlite3")) as db:
        columns = [c[1] for c in db.execute("PRAGMA table_info(questions)")]
    assert columns == ["id", "asked_at", "question", "kind", "top_score", "feedback", "feedback_at"]
    questions = [r[2] for r in rows]
    # no warm-up question; the clinician row keeps no text and only its day (it sorts first,
    # or in place in the day's first hour)
    assert [q for q in questions if q] == [*DIET, *SHOES, ANSWERED, MATTRESS]
    assert questions.count("") == 1
    by_question = {r[2]: r for r in rows}
    assert by_question[ANSWERED][4] > 0.3  # the best passage's cosine similarity
    assert by_question[""][3:5] == ("not_covered", None)  # refused before retrieval


@pytest.mark.slow
def test_gaps_groups_topics_most_asked_first(app_log: dict[str, Any], tmp_path: Path) -> None:
    code, out = gaps(app_log["data"], "--html", str(tmp_path / "gaps.html"))
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "7 of 9 logged questions are gaps, in 3 topics"
    topics = [line for line in lines if line[:4].strip().rstrip(".").isdigit()]
    assert "(4 asked; not covered 4)" in topics[0]
    assert any(q in topics[0] for q in DIET)
    assert "(2 asked; not covered 2)" in topics[1] and any(q in topics[1] for q in SHOES)
    assert MATTRESS in topics[2] and "(1 asked; not covered 1)" in topics[2]
    assert ANSWERED not in out and DOSE not in out
    with open_page((tmp_path / "gaps.html").as_uri()) as (page, log):
        assert page.locator(".topic").count() == 3
        assert "4 asked" in page.locator(".topic").first.inner_text()
    assert log.errors == []


@pytest.mark.slow
def test_to_set_writes_cases_to_label_that_the_schema_accepts(
    app_log: dict[str, Any], tmp_path: Path
) -> None:
    out = tmp_path / "gaps.yaml"
    code, _ = gaps(app_log["data"], "--to-set", str(out))
    assert code == 0
    assert out.read_text().startswith("# Questions readers asked")
    labelled = load_set(out)
    assert {c.question for c in labelled.cases} == {*DIET, *SHOES, MATTRESS}
    assert all(c.expect == "not_covered" and "gap" in c.tags for c in labelled.cases)
    assert labelled.cases[0].tags == ("gap", "topic-001")


@pytest.mark.slow
def test_thumbs_down_in_the_chat_makes_an_answer_a_gap(app_log: dict[str, Any]) -> None:
    with open_page(f"{app_log['base']}/") as (page, log):
        box = page.get_by_role("textbox").first
        box.fill(THUMBED)
        box.press("Enter")
        page.locator('[data-testid="bot"]').first.wait_for()
        page.get_by_text("Sources").first.wait_for()  # the full answer is in
        page.get_by_role("button", name="Dislike").first.click()
        for _ in range(50):
            if any(r[2] == THUMBED and r[5] == -1 for r in logged(app_log["data"])):
                break
            page.wait_for_timeout(100)
    assert log.errors == []
    row = next(r for r in logged(app_log["data"]) if r[2] == THUMBED)
    assert row[3] == "answer" and row[5] == -1
    code, out = gaps(app_log["data"])
    assert code == 0 and f"{THUMBED}  (1 asked; thumbs down 1)" in out


@pytest.mark.slow
def test_purge_deletes_every_stored_question(app_log: dict[str, Any]) -> None:
    before = len(logged(app_log["data"]))
    code, out = gaps(app_log["data"], "--purge")
    assert code == 0 and out.strip().startswith(f"Deleted {before} stored questions")
    assert logged(app_log["data"]) == []
    code, out = gaps(app_log["data"])
    assert out.startswith("0 of 0 logged questions are gaps")
