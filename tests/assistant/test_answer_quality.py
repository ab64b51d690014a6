"""Extractive replies on the fixture blog: they answer what is asked (the list's items, the
number, the steps), from one article, short, every quote the author's words with its [n]."""

from __future__ import annotations

import re

import pytest

from assistant.pipeline import Assistant
from assistant.types import Answer

SEED = "glute-hip-weakness-low-back-pain"


def one_article(answer: Answer) -> str:
    """The one article a reply quotes (never a sentence of another stitched on)."""
    articles = {c.article for c in answer.citations}
    assert len(articles) == 1, articles
    return articles.pop()


def words_before_sources(answer: Answer) -> int:
    return len(answer.text.split())


def test_a_list_question_gets_the_items_with_their_lead_in(assistant: Assistant) -> None:
    answer = assistant.ask("Which exercises strengthen the gluteus maximus?")
    assert answer.kind == "answer"
    assert one_article(answer) == SEED
    assert answer.text.startswith("Strengthening Weak Muscles: Glute Bridges, Hip Thrusts")
    assert "Monster Walks, Side-Lying Hip Abduction" in answer.text  # the item's sub-items


def test_the_items_of_a_list_come_together_in_the_articles_order(assistant: Assistant) -> None:
    answer = assistant.ask("what are the mcgill big three")
    assert one_article(answer) == "core-stability-big-three"
    text = answer.text.lower()
    positions = [text.find(item) for item in ("curl-up", "side plank", "bird dog")]
    assert -1 not in positions and positions == sorted(positions)


@pytest.mark.parametrize(
    ("question", "number"),
    [
        ("how long should i hold the hamstring stretch", "30 seconds"),
        ("how many minutes a day should i practise belly breathing", "5 minutes twice a day"),
        ("how many step downs should i do for runners knee", "3 sets of 12"),
    ],
)
def test_a_quantity_question_gets_the_sentence_with_the_number(
    assistant: Assistant, question: str, number: str
) -> None:
    answer = assistant.ask(question)
    assert answer.kind == "answer"
    assert number in answer.text
    # the quote holding the number is its sentence, not the section: the lines right after
    # it may follow while they hold numbers too, within half the answer's 100-word budget
    holding = [c.text for c in answer.citations if number in c.text]
    assert holding and len(holding[0].split()) <= 50, answer.text
    assert words_before_sources(answer) <= 75


def test_how_do_i_gets_the_steps_in_order(assistant: Assistant) -> None:
    answer = assistant.ask("how do i do the couch stretch")
    assert one_article(answer) == "anterior-pelvic-tilt-desk-workers"
    assert len(answer.citations) >= 3
    sections = [c.section.rsplit(" > ", 1)[-1] for c in answer.citations]
    assert sections[0] == "Set Up Against the Couch"  # the first step first


def test_and_how_do_i_fix_it_answers_from_the_earlier_article(assistant: Assistant) -> None:
    history = [
        {"role": "user", "content": "what causes plantar fasciitis?"},
        {"role": "assistant", "content": "The plantar fascia ... [1]."},
    ]
    answer = assistant.ask("and how do I fix it?", history)
    assert answer.kind == "answer"
    assert one_article(answer) == "plantar-fasciitis-heel-pain"
    # what is asked now (the fix), not the definition the reader already had
    assert all("What Is Plantar Fasciitis" not in c.section for c in answer.citations)


def test_the_readers_words_are_searched_as_written(assistant: Assistant) -> None:
    """No synonym map turns "extend" into "extension": the exhale is found as asked."""
    answer = assistant.ask("how do i extend my exhale")
    assert answer.kind == "answer"
    assert one_article(answer) == "diaphragmatic-breathing-core"


@pytest.mark.parametrize(
    "question",
    [
        "Which exercises strengthen the gluteus maximus?",
        "why are my hip flexors tight?",
        "do weak glutes cause knee pain?",
        "can tight fascia press on the sciatic nerve?",
        "what are the mcgill big three",
        "how do i do the couch stretch",
        "what is the windlass test?",
    ],
)
def test_every_quote_is_the_authors_words_with_its_marker(
    assistant: Assistant, question: str
) -> None:
    answer = assistant.ask(question)
    assert answer.kind == "answer"
    one_article(answer)
    assert words_before_sources(answer) <= 130  # a few quotes, not the article
    markers = re.findall(r"\[(\d+)\]", answer.text)
    assert markers == [str(c.n) for c in answer.citations]  # one marker per quote, in order
    for citation in answer.citations:
        assert any(citation.text in p.text for p in answer.passages)  # verbatim


def test_a_number_beside_the_best_step_is_quoted_too(assistant: Assistant) -> None:
    # the first walks are 10 minutes; the best-matching step is the weekly increase
    answer = assistant.ask(
        "I haven't exercised in years and my back hurts, how long should my first walks be?"
    )
    assert answer.kind == "answer"
    assert one_article(answer) == "walking-for-back-pain"
    assert "10-minute walks" in answer.text
    assert words_before_sources(answer) <= 100
