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
