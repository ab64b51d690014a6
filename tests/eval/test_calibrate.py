"""The not-covered fit, and its figures for a blog it was not fitted on (leave one blog out)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.coverage import Evidence
from assistant.errors import SuppleError
from eval.calibrate import Labelled, fit_decision, held_out_probabilities


def case(blog: str, n: int, covered: bool, rng: np.random.Generator, shift: float) -> Labelled:
    """A case whose cosine and share say covered or not, with a per-blog shift of the
    cosine: on another writer's blog every cosine sits a little lower."""
    base = 0.62 if covered else 0.42
    cos = base + shift + rng.normal(0, 0.06)
    share = (0.7 if covered else 0.35) + rng.normal(0, 0.1)
    evidence = Evidence(
        top_cosine=cos,
        best_share=share,
        best_cosine=cos,
        article_share=share,
        missing_specificity=1 - share,
        margin=0.05,
        quantity_unanswered=0.0,
    )
    return Labelled(f"{blog}-set", f"{blog}-{n}", evidence, covered, blog)


def cases(shifts: dict[str, float], seed: int = 0) -> list[Labelled]:
    rng = np.random.default_rng(seed)
    return [
        case(blog, n, n % 4 != 0, rng, shift) for blog, shift in shifts.items() for n in range(60)
    ]


def test_every_case_is_scored_by_a_model_that_never_saw_its_blog() -> None:
    labelled = cases({"a": 0.0, "b": 0.0, "c": 0.0})
    x = np.array([c.evidence.vector() for c in labelled])
    y = np.array([c.covered for c in labelled], dtype=int)
    blogs = np.array([c.blog for c in labelled])
    p = held_out_probabilities(x, y, blogs)
    # flipping blog c's labels changes no probability of c's own cases
    flipped = np.where(blogs == "c", 1 - y, y)
    q = held_out_probabilities(x, flipped, blogs)
    assert np.allclose(p[blogs == "c"], q[blogs == "c"])
    assert not np.allclose(p[blogs == "a"], q[blogs == "a"])


def test_the_fit_records_its_figures_per_left_out_blog() -> None:
    fit = fit_decision(cases({"a": 0.0, "b": -0.05, "c": 0.03})).fit
    held_out = fit["leave_one_blog_out"]
    assert set(held_out["accuracy_by_blog"]) == {"a", "b", "c"}
    assert held_out["accuracy"] > 0.8  # the classes are separable on these features
    assert 0.1 <= held_out["best_threshold"] <= 0.8
    assert fit["cv_accuracy"] > 0.8


def test_a_single_blog_has_no_left_out_figures() -> None:
    fit = fit_decision(cases({"only": 0.0})).fit
    assert "leave_one_blog_out" not in fit
    assert fit["cv_accuracy"] > 0.8


def test_one_class_only_is_one_clear_error() -> None:
    labelled = [c for c in cases({"a": 0.0, "b": 0.0}) if c.covered]
    with pytest.raises(SuppleError, match="both 'answer' and 'not_covered'"):
        fit_decision(labelled)
