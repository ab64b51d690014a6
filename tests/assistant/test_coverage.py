"""The evidence the not-covered decision weighs: what a which/what question asks for, and
whether the best passage holds it (English question forms only, no topic words)."""

from __future__ import annotations

import pytest

from assistant.coverage import asked_for, assess
from assistant.types import Passage


@pytest.mark.parametrize(
    ("question", "thing"),
    [
        ("Which brand of running shoe is best?", "brand"),
        ("whats the best brand of strap to buy", "brand"),
        ("what kind of pillow should I use", "pillow"),
        ("which exercises help my knee", "exercis"),
        ("what do you think?", None),
        ("how long should I hold it?", None),
    ],
)
def test_asked_for_is_the_noun_a_which_question_asks_for(question: str, thing: str | None) -> None:
    assert asked_for(question) == thing


def _passage(text: str) -> Passage:
    return Passage(
        rank=1, article="shoes", title="Shoes for runners", section="Choosing", text=text, score=0.7
    )


def test_the_thing_asked_for_missing_from_the_passage_is_evidence_against() -> None:
    passage = _passage("Pick a running shoe with a firm heel counter and a wide toe box.")
    missing = assess("which brand of running shoe is best?", [passage])
    held = assess("which heel counter should a running shoe have?", [passage])
    assert missing.asked_missing == 1.0
    assert held.asked_missing == 0.0


def test_what_should_i_verb_asks_about_the_verb() -> None:
    passage = _passage("Pick a running shoe with a firm heel counter and a wide toe box.")
    # "what should I eat": the passage says nothing of eating, however near its topic
    assert assess("what should I eat before a run?", [passage]).asked_missing == 1.0
    assert assess("what should I pick for running?", [passage]).asked_missing == 0.0
    # "what should I do" asks nothing in particular
    assert assess("what should I do about my shoes?", [passage]).asked_missing == 0.0
