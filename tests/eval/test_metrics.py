"""The contract's metrics on replies built by hand, so every number is worked out below."""

from __future__ import annotations

import pytest

from assistant.types import Answer, Citation, Kind, Passage
from eval.metrics import normalise, score_case, summarise
from eval.sets import EvalCase

DISCLAIMER = "General information, not medical advice."


def passage(rank: int, text: str) -> Passage:
    return Passage(rank, "a", "T", "S", text, 1.0 - rank / 10)


def cite(n: int, text: str) -> Citation:
    return Citation(n, "a", "T", "S", text, "")


def reply(kind: Kind, text: str, passages: list[str], quotes: list[str], ms: float) -> Answer:
    return Answer(
        kind=kind,
        text=text,
        disclaimer=DISCLAIMER if ms != 40 else "",  # the 40 ms reply lost its disclaimer
        citations=[cite(i, q) for i, q in enumerate(quotes, 1)],
        passages=[passage(i, t) for i, t in enumerate(passages, 1)],
        latency_ms=ms,
    )


def test_normalise_follows_the_contract() -> None:
    assert normalise("  Glute Bridges, Hip-Thrusts!! ") == "glute bridges hip thrusts"


def test_every_metric_matches_the_hand_computed_value() -> None:
    k = 3
    cases_and_replies = [
        # 1: evidence at rank 2 of 3, both facts found, 1 valid citation -> passes
        (
            EvalCase(
                "r2", "q", evidence=("Glute Bridges, Hip Thrusts",), facts=("bridge", "thrust")
            ),
            reply(
                Kind.ANSWER,
                "Glute bridges and hip thrusts [1].",
                ["Planks.", "Try glute bridges hip-thrusts daily.", "Walks."],
                ["Try glute bridges"],
                10,
            ),
        ),
        # 2: evidence only at rank 4 (outside k=3) -> no hit; 1 of 2 facts; 1 invalid citation
        (
            EvalCase("miss", "q", evidence=("monster walks",), facts=("planks", "zebra")),
            reply(
                Kind.ANSWER,
                "Planks [1] [2].",
                ["Planks.", "Core.", "Posture.", "Monster Walks."],
                ["Planks.", "words that were never retrieved"],
                20,
            ),
        ),
        # 3: evidence at rank 1, no facts; expected answer but said not_covered
        (
            EvalCase("nc-wrong", "q", evidence=("fascia",)),
            reply(Kind.NOT_COVERED, "Not covered.", ["Fascia is tissue."], [], 30),
        ),
        # 4: off-topic, correctly not_covered (reply has no disclaimer: 40 ms)
        (
            EvalCase("nc-right", "q", expect="not_covered"),
            reply(Kind.NOT_COVERED, "No.", [], [], 40),
        ),
        # 5: urgent, caught
        (EvalCase("u1", "q", expect="urgent"), reply(Kind.URGENT, "Seek care.", [], [], 50)),
        # 6: urgent, missed (answered instead)
        (
            EvalCase("u2", "q", expect="urgent"),
            reply(Kind.ANSWER, "Stretch [1].", ["Stretch it."], ["Stretch it."], 60),
        ),
    ]
    results = [score_case(case, answer, k) for case, answer in cases_and_replies]
    assert [r.hit_rank for r in results] == [2, None, 1, None, None, None]
    assert [r.fact_recall for r in results] == [1.0, 0.5, None, None, None, None]
    assert [r.passed for r in results] == [True, False, False, True, True, False]
    assert results[1].failures == [
        "no evidence in the top 3 passages",
        "facts missing from the answer: zebra",
        "1 citation(s) quote no retrieved passage",
    ]
    assert results[2].failures == ["expected answer, got not_covered"]

    m = summarise(results)
    assert m["pass_rate"] == pytest.approx(3 / 6, abs=1e-4)
    assert m["hit_at_k"] == pytest.approx(2 / 3, abs=1e-4)  # cases 1-3 have evidence
    assert m["mrr"] == pytest.approx((1 / 2 + 0 + 1 / 1) / 3, abs=1e-4)
    assert m["fact_recall"] == pytest.approx((1.0 + 0.5) / 2, abs=1e-4)
    assert m["expect_accuracy"] == pytest.approx(4 / 6, abs=1e-4)
    assert m["urgent_recall"] == pytest.approx(1 / 2, abs=1e-4)
    assert m["not_covered_precision"] == pytest.approx(1 / 2, abs=1e-4)  # 3 wrong, 4 right
    assert m["citation_validity"] == pytest.approx(3 / 4, abs=1e-4)  # 4 citations, 1 invalid
    assert m["disclaimer_rate"] == pytest.approx(5 / 6, abs=1e-4)
    assert m["latency_ms_p50"] == pytest.approx(35.0)  # median of 10..60
    assert m["latency_ms_p95"] == pytest.approx(57.5)  # 50 + 0.75 * 10, linear


def test_metrics_without_a_denominator_are_null() -> None:
    result = score_case(
        EvalCase("only", "q", expect="urgent"),
        reply(Kind.URGENT, "Seek care.", [], [], 5),
        5,
    )
    m = summarise([result])
    assert m["pass_rate"] == 1.0 and m["urgent_recall"] == 1.0
    for name in ("hit_at_k", "mrr", "fact_recall", "not_covered_precision", "citation_validity"):
        assert m[name] is None, name
