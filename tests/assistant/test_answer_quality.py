"""Extractive replies: short, in the author's words, each quote cited, nothing padded."""

from __future__ import annotations

import re

import pytest

from assistant.pipeline import Assistant

STRENGTH = "Glute Bridges, Hip Thrusts, Clamshells, Deadlifts to strengthen the gluteus maximus"


def test_gluteus_maximus_exercises_is_the_one_line(assistant: Assistant) -> None:
    answer = assistant.ask("Which exercises strengthen the gluteus maximus?")
    assert answer.kind == "answer"
    assert answer.text == f"{STRENGTH} [1]."
    [citation] = answer.citations
    assert citation.text == STRENGTH
    assert citation.section == (
        "Breaking the Cycle: Strengthening & Myofascial Release > Strengthening Weak Muscles"
    )
    assert citation.title.startswith("Glute and Hip Weakness")


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("what exercises are good for my butt?", "Glute Bridges"),
        ("best excercises for week glutes", "Glute Bridges"),
        ("What exercises help the deep hip rotators?", "Monster Walks"),
        ("what is fascia?", "Fascia is a connective tissue that surrounds and supports muscles"),
        ("how does foam rolling help?", "Foam rolling/glute and piriformis release"),
        ("what is hyperlordosis?", "excessive lower back arching"),
        ("what is proprioception?", "the body's awareness of movement and position"),
    ],
)
def test_answer_quotes_the_line_that_answers(
    assistant: Assistant, question: str, expected: str
) -> None:
    answer = assistant.ask(question)
    assert answer.kind == "answer"
    first = answer.citations[0]
    assert expected in first.text
    assert len(answer.citations) <= 2  # no padding with loosely related lines


@pytest.mark.parametrize(
    "question",
    [
        "Which exercises strengthen the gluteus maximus?",
        "why are my hip flexors tight?",
        "what happens to the thigh bone when the hip rotators are weak?",
        "can tight fascia press on the sciatic nerve?",
        "what causes anterior pelvic tilt?",
    ],
)
def test_every_quote_is_the_authors_words_with_its_marker(
    assistant: Assistant, question: str
) -> None:
    answer = assistant.ask(question)
    assert answer.kind == "answer"
    assert len(answer.text) <= 600  # short: a few lines, not the article
    markers = re.findall(r"\[(\d+)\]", answer.text)
    assert markers == [str(c.n) for c in answer.citations]  # one marker per quote, in order
    for citation in answer.citations:
        # the quoted words, verbatim from a retrieved passage, right before their marker
        assert f"{citation.text.rstrip('.!?')} [{citation.n}]" in answer.text
        assert any(citation.text in p.text for p in answer.passages)
