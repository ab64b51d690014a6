"""The extractive answerer's line choice, on passages written for the test (real model)."""

from __future__ import annotations

from assistant.answer import ExtractiveAnswerer
from assistant.types import Passage
from ingest.embed import Embedder

TILT = (
    "Your head weighs about 5 kg, roughly the same as a bowling ball. Tip it forward to look "
    "at a phone and the muscles at the back of the neck have to hold it up. At 15 degrees of "
    "forward tilt they work as if the head weighed about 12 kg. At 45 degrees that rises to "
    "about 22 kg, and at 60 degrees to about 27 kg. None of this means looking down is "
    "dangerous: necks are built to bend. The trouble is time. Most adults spend three to four "
    "hours a day on their phone, usually in one slumped position, and muscles that hold a load "
    "without a break get tired, sore and stiff."
)


def _passage(text: str) -> Passage:
    return Passage(
        rank=1,
        article="phones",
        title="Phones and necks",
        section="Why looking down adds up",
        text=text,
        score=0.8,
        chunk_id="phones-1",
    )


def _draft(embedder: Embedder, question: str) -> str:
    answerer = ExtractiveAnswerer(embedder)
    vector = embedder.embed_query(question)
    return answerer.draft(question, [_passage(TILT)], vector, []).text


def test_the_line_holding_the_questions_own_number_is_quoted(embedder: Embedder) -> None:
    assert len(TILT.split()) > 80  # longer than an answer: one line is chosen
    at_45 = _draft(embedder, "how much does my head weigh when I tilt it 45 degrees?")
    assert "22 kg" in at_45 and "12 kg" not in at_45
    at_15 = _draft(embedder, "how much does my head weigh when I tilt it 15 degrees?")
    assert "12 kg" in at_15


def test_how_fast_asks_for_a_rate_and_is_is_not_a_plural() -> None:
    from assistant.intent import quantity_fit

    assert quantity_fit("how fast should I roll?", "Make slow passes of an inch per second.") == 1.0
    assert quantity_fit("how fast should I roll?", "Roll each area for 60 seconds.") < 1.0
    # "2 is" holds no noun the question asked for, though the question says "I"
    assert quantity_fit("how big a heel lift should I use?", "On day 2 is too soon.") < 1.0


SORE = (
    "Starting something new is the point where most people either give up or overdo it, so "
    "it helps to know what to expect in the first few weeks of a programme like this one. "
    "Some muscle soreness after a new exercise is normal, and it is not a sign of damage. "
    "If it lasts more than 48 hours, you did too much, so drop a set next time. "
    "Gently squeeze the cushion between your knees for 5 seconds, then relax. Repeat 10 times. "
    "Keep breathing the whole way through, and stop if anything sharp or pinching turns up."
)


def _draft_from(embedder: Embedder, question: str, text: str) -> str:
    answerer = ExtractiveAnswerer(embedder)
    vector = embedder.embed_query(question)
    return answerer.draft(question, [_passage(text)], vector, []).text


def test_a_quantity_answer_quotes_the_line_with_the_number_not_its_lead_in(
    embedder: Embedder,
) -> None:
    assert len(SORE.split()) > 80  # longer than an answer: lines are chosen
    sore = _draft_from(embedder, "how long is it normal to be sore after a new exercise", SORE)
    assert "48 hours" in sore
    # the numbers that follow the one that fits are part of the same instruction
    squeeze = _draft_from(
        embedder, "the cushion between the knees one, how long do I hold it and how many?", SORE
    )
    assert "5 seconds" in squeeze and "10 times" in squeeze
    assert len(squeeze.split()) <= 45
