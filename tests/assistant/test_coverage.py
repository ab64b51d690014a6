"""The evidence the not-covered decision weighs: what a which/what question asks for,
whether the best passage holds it (English question forms only, no topic words), and the
question's length; the last test asks the fixture blog through the fitted decision."""

from __future__ import annotations

import pytest

from assistant.coverage import asked_for, assess
from assistant.pipeline import Assistant
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


def test_length_counts_the_words_up_to_twice_the_long_mark() -> None:
    passage = _passage("Pick a running shoe with a firm heel counter and a wide toe box.")
    assert assess("which shoe?", [passage]).length == pytest.approx(2 / 30)
    assert assess("word " * 45, [passage]).length == pytest.approx(1.5)
    assert assess("word " * 300, [passage]).length == 2.0


def test_a_long_story_around_a_covered_question_is_answered(assistant: Assistant) -> None:
    # the chatter is words no passage holds; the question in it is one the blog answers
    question = (
        "So I've been getting back into running after a winter off, mostly 5k loops around "
        "the park with my sister, and on Sundays we try a longer one by the canal. After the "
        "long runs my legs feel like bricks and a guy at the club told me to buy a foam "
        "roller, so I got one last week but honestly I have no idea what I'm doing with it. "
        "After a run, how long should I roll each area for?"
    )
    answer = assistant.ask(question, log=False)
    assert answer.kind == "answer", answer.text
    assert "60-90 seconds" in answer.text
