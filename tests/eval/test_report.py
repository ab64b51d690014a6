"""The HTML report shows readers' and articles' text as text: nothing in it ever runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.types import Answer, Citation, Kind, Passage
from eval.metrics import RunReport, Unavailable, score_case
from eval.report import highlight, render_html
from eval.sets import EvalCase
from tests.browser import open_page

HOSTILE = "<script>alert('q')</script> what is <b>fascia</b>?"
PASSAGE = "Fascia is a connective tissue <img src=x onerror=alert('p')> that surrounds muscles."


def test_highlight_marks_evidence_on_normalised_text_and_escapes_the_rest() -> None:
    marked = highlight("Try Glute Bridges, Hip <Thrusts> & more", ("glute bridges hip thrusts",))
    assert marked == "Try <mark>Glute Bridges, Hip &lt;Thrusts</mark>&gt; &amp; more"


@pytest.mark.slow
def test_hostile_text_is_shown_not_run(tmp_path: Path) -> None:
    case = EvalCase(
        "hostile", HOSTILE, evidence=("connective tissue",), facts=("fascia",), tags=("<tag>",)
    )
    answer = Answer(
        kind=Kind.ANSWER,
        text=f"{PASSAGE} [1]",
        disclaimer="Not medical advice.",
        citations=[Citation(1, "a", "T", "<i>S</i>", PASSAGE, "")],
        passages=[Passage(1, "a", "T", "<i>S</i>", PASSAGE, 0.8)],
        latency_ms=12.0,
    )
    report = RunReport("x<y", "extractive", "hybrid", 5, [score_case(case, answer, 5)])
    page_file = tmp_path / "report.html"
    page_file.write_text(render_html(report, [report, Unavailable("bm25", "<not built>")]))
    with open_page(page_file.as_uri()) as (page, log):
        assert page.locator("#headline").inner_text() == "1 of 1 cases pass (100%)"
        assert HOSTILE in page.locator("#case-hostile .q").inner_text()
        assert page.locator("#case-hostile blockquote mark").first.inner_text() == (
            "connective tissue"
        )
        assert "bm25 not available: <not built>" in page.inner_text("body")
        assert page.locator("script, img, i, .q b").count() == 0
    assert log.dialogs == [] and log.errors == []
