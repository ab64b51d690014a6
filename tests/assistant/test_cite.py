"""Citations that cannot lie: every [n] points to retrieved words, with a deep link to them."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

import pytest

from assistant.cite import Draft, finalize, text_fragment_url
from assistant.pipeline import Assistant
from assistant.types import Passage
from ingest.load import load_markdown

URL = "https://blog.example/glute-hip-weakness"
STRENGTH = "Glute Bridges, Hip Thrusts, Clamshells, Deadlifts to strengthen the gluteus maximus"
ROTATORS = "Monster Walks, Side-Lying Hip Abduction for deep hip rotators"


def passage(text: str, url: str = URL, rank: int = 1) -> Passage:
    return Passage(
        rank=rank,
        article="glute-hip-weakness-low-back-pain",
        title="Glute and Hip Weakness: A Major Cause of Low Back Pain",
        section="Breaking the Cycle: Strengthening & Myofascial Release > Strengthening Weak Muscles",
        text=text,
        score=0.5,
        url=url,
    )


class TestFinalize:
    def test_run_keeps_a_quote_found_in_a_retrieved_passage(self) -> None:
        p = passage(f"{STRENGTH}\n{ROTATORS}")
        text, citations = finalize(Draft(f"{STRENGTH} [1].", {1: (p, STRENGTH)}), [p])
        assert text == f"{STRENGTH} [1]."
        assert [(c.n, c.text, c.section) for c in citations] == [(1, STRENGTH, p.section)]

    def test_run_drops_an_invented_marker(self) -> None:
        p = passage(STRENGTH)
        draft = Draft(f"{STRENGTH} [1]. Squats cure everything [9].", {1: (p, STRENGTH)})
        text, citations = finalize(draft, [p])
        assert "[9]" not in text
        assert text.endswith("Squats cure everything.")
        assert [c.n for c in citations] == [1]

    def test_run_drops_a_quote_no_retrieved_passage_holds(self) -> None:
        retrieved = passage(STRENGTH)
        elsewhere = passage("Squats cure everything.", rank=2)
        draft = Draft(
            f"{STRENGTH} [1]. Squats cure everything [2].",
            {1: (retrieved, STRENGTH), 2: (elsewhere, "Squats cure everything")},
        )
        text, citations = finalize(draft, [retrieved])
        assert "[2]" not in text
        assert [c.text for c in citations] == [STRENGTH]

    def test_run_renumbers_in_reading_order_and_merges_repeats(self) -> None:
        p = passage(f"{STRENGTH}\n{ROTATORS}")
        draft = Draft(f"{ROTATORS} [3] [3]. {STRENGTH} [2].", {2: (p, STRENGTH), 3: (p, ROTATORS)})
        text, citations = finalize(draft, [p])
        assert text == f"{ROTATORS} [1]. {STRENGTH} [2]."
        assert [(c.n, c.text) for c in citations] == [(1, ROTATORS), (2, STRENGTH)]

    def test_run_links_each_citation_to_its_words(self) -> None:
        p = passage(STRENGTH)
        _, [citation] = finalize(Draft(f"{STRENGTH} [1].", {1: (p, STRENGTH)}), [p])
        assert citation.url.startswith(f"{URL}#:~:text=Glute%20Bridges%2C%20Hip%20Thrusts")

    def test_run_article_without_url_links_to_the_apps_page_for_it(self) -> None:
        p = passage(STRENGTH, url="")
        draft = Draft(f"{STRENGTH} [1].", {1: (p, STRENGTH)})
        _, [relative] = finalize(draft, [p])
        assert relative.url.startswith(
            "/articles/glute-hip-weakness-low-back-pain#:~:text=Glute%20Bridges"
        )
        _, [absolute] = finalize(draft, [p], "https://ask.blog.example")
        assert absolute.url == "https://ask.blog.example" + relative.url

    def test_run_planted_script_url_links_to_the_apps_page_instead(self) -> None:
        p = passage(STRENGTH, url="javascript:alert(1)")
        _, [citation] = finalize(Draft(f"{STRENGTH} [1].", {1: (p, STRENGTH)}), [p])
        assert citation.url.startswith("/articles/glute-hip-weakness-low-back-pain#:~:text=")


class TestTextFragmentUrl:
    def test_run_encodes_dash_comma_and_ampersand(self) -> None:
        url = text_fragment_url(URL, "Side-Lying hips, knees & feet")
        fragment = url.split("#:~:text=", 1)[1]
        assert fragment == "Side%2DLying%20hips%2C%20knees%20%26%20feet"
        assert unquote(fragment) == "Side-Lying hips, knees & feet"

    def test_run_long_quote_becomes_start_and_end(self) -> None:
        url = text_fragment_url(URL, STRENGTH)
        start, end = url.split("#:~:text=", 1)[1].split(",")
        assert unquote(start) == "Glute Bridges, Hip Thrusts,"
        assert unquote(end) == "strengthen the gluteus maximus"

    def test_run_replaces_an_existing_fragment(self) -> None:
        assert text_fragment_url(f"{URL}#top", "Fascia").startswith(f"{URL}#:~:text=Fascia")

    def test_run_no_article_url_gives_no_link(self) -> None:
        assert text_fragment_url("", STRENGTH) == ""


def test_every_citation_of_a_real_answer_is_in_its_passages(assistant: Assistant) -> None:
    for question in (
        "Which exercises strengthen the gluteus maximus?",
        "what is fascia?",
        "why are my hip flexors tight?",
    ):
        answer = assistant.ask(question)
        assert answer.citations, question
        for c in answer.citations:
            assert f"[{c.n}]" in answer.text
            assert any(c.text in p.text for p in answer.passages)
            # the corpus article has no URL: the link goes to the app's own page for it
            assert c.url.startswith(f"/articles/{c.article}#:~:text="), c.url


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>", "/relative"]
)
def test_only_http_urls_become_deep_links(url: str) -> None:
    assert text_fragment_url(url, "Glute Bridges, Hip Thrusts") == ""


def test_front_matter_url_must_be_http(tmp_path: Path) -> None:
    article = tmp_path / "a.md"
    article.write_text("---\ntitle: A\nurl: javascript:alert(1)\n---\nText.\n", encoding="utf-8")
    assert load_markdown(article).url == ""
    article.write_text("---\ntitle: A\nurl: https://blog.example/a\n---\nText.\n", encoding="utf-8")
    assert load_markdown(article).url == "https://blog.example/a"
