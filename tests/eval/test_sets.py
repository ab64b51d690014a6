"""Eval set files: what the author writes, and the one-line errors for what is wrong."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from eval.__main__ import main
from eval.sets import load_set
from tests.conftest import REPO

GOOD = """\
name: tiny
cases:
  - id: one
    question: What is fascia?
    evidence: [Fascia is a connective tissue]
    facts: connective tissue
    tags: [fascia]
  - id: two
    question: and where is it tight?
    history:
      - {role: user, content: "What is fascia?"}
      - {role: assistant, content: A connective tissue.}
    expect: not_covered
"""

MALFORMED = {
    "bad-yaml": ("name: x\ncases:\n  - id: a\n    question: [unclosed\n", ["line", "YAML"]),
    "missing-question": (
        "name: x\ncases:\n  - id: a\n    question: ok\n  - id: no-q\n    expect: answer\n",
        ["case no-q", "field 'question'"],
    ),
    "duplicate-id": (
        "name: x\ncases:\n  - {id: same, question: one}\n  - {id: same, question: two}\n",
        ["case same", "field 'id'", "duplicate"],
    ),
    "unknown-expect": (
        "name: x\ncases:\n  - {id: a, question: q, expect: maybe}\n",
        ["case a", "field 'expect'", "'maybe'", "answer, not_covered, urgent"],
    ),
    "no-cases": ("name: x\ncases: []\n", ["field 'cases'"]),
    "missing-name": ("cases:\n  - {id: a, question: q}\n", ["field 'name'"]),
    "empty-question": ("name: x\ncases:\n  - {id: blank, question: '  '}\n", ["case blank"]),
    "bad-history": (
        "name: x\ncases:\n  - {id: h, question: q, history: [{role: bot, content: hi}]}\n",
        ["case h", "field 'history'"],
    ),
    "misspelt-field": (
        "name: x\ncases:\n  - {id: t, question: q, evidance: [x]}\n",
        ["case t", "field 'evidance'"],
    ),
}


def test_load_reads_every_field(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(GOOD)
    loaded = load_set(path)
    assert loaded.name == "tiny" and loaded.k == 5
    one, two = loaded.cases
    assert one.expect == "answer" and one.facts == ("connective tissue",)
    assert one.evidence == ("Fascia is a connective tissue",) and one.tags == ("fascia",)
    assert two.expect == "not_covered" and two.history[0] == {
        "role": "user",
        "content": "What is fascia?",
    }


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_run_on_a_malformed_set_exits_2_naming_file_case_and_field(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, expected = MALFORMED[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err  # one line
    assert str(path) in err
    for part in expected:
        assert part in err
    assert "Traceback" not in err


def test_unreadable_set_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml: cannot read the file" in capsys.readouterr().err


@pytest.mark.slow
def test_the_real_command_prints_one_line_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text(MALFORMED["duplicate-id"][0])
    done = subprocess.run(
        [sys.executable, "-m", "eval", "run", str(path)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"error: {path}: case same: field 'id': duplicate id: ids must be unique in the set"
    )


def test_core_set_is_valid_and_covers_the_article() -> None:
    core = load_set(REPO / "eval" / "sets" / "core.yaml")
    assert len(core.cases) >= 60
    expects = {c.expect for c in core.cases}
    assert expects == {"answer", "not_covered", "urgent"}
    tags = {t for c in core.cases for t in c.tags}
    for needed in ("connection", "mechanism", "fascia", "exercises", "release", "movement"):
        assert needed in tags
    for needed in ("typos", "follow-up", "out-of-scope", "clinician", "red-flag", "hostile"):
        assert needed in tags
    article = (
        REPO / "tests" / "fixtures" / "blog" / "glute-hip-weakness-low-back-pain.md"
    ).read_text()
    from eval.metrics import contains

    for case in core.cases:  # every evidence phrase is really in the article
        for phrase in case.evidence:
            assert contains(article, phrase), (case.id, phrase)
