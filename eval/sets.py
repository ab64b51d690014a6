"""Eval sets: the author's YAML files, read and checked against the contract.

See ``shared/specs/eval-format.md``. Every schema error names the file, the case id
(or its position when the id is missing) and the field, in one line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant.errors import SuppleError

EXPECTS = ("answer", "not_covered", "urgent")
ROLES = ("user", "assistant")
SET_KEYS = {"name", "description", "k", "cases", "corpus"}
CASE_KEYS = {"id", "question", "history", "expect", "evidence", "facts", "tags"}


class SetError(SuppleError):
    """An eval set that cannot be read or does not follow the schema (CLI exit 2)."""

    def __init__(self, path: Path | str, message: str, case: str = "", fld: str = "") -> None:
        where = str(path)
        if case:
            where += f": case {case}"
        if fld:
            where += f": field '{fld}'"
        super().__init__(f"{where}: {message}")
        self.path, self.case, self.field = str(path), case, fld


@dataclass(frozen=True)
class EvalCase:
    id: str
    question: str
    expect: str = "answer"
    history: tuple[dict[str, str], ...] = ()
    evidence: tuple[str, ...] = ()
    facts: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "question": self.question}
        if self.history:
            out["history"] = [dict(t) for t in self.history]
        out["expect"] = self.expect
        if self.evidence:
            out["evidence"] = list(self.evidence)
        if self.facts:
            out["facts"] = list(self.facts)
        if self.tags:
            out["tags"] = list(self.tags)
        return out


@dataclass(frozen=True)
class EvalSet:
    name: str
    cases: tuple[EvalCase, ...]
    description: str = ""
    k: int = 5
    path: str = ""
    tags: tuple[str, ...] = field(default=(), compare=False)
    corpus: str = ""  # the blog it is written for, relative to the set file ("" = corpus/)

    def corpus_dir(self) -> Path | None:
        """The folder of articles the set is written for, when it names one."""
        return (Path(self.path).parent / self.corpus).resolve() if self.corpus else None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.description:
            out["description"] = self.description
        out["k"] = self.k
        if self.corpus:
            out["corpus"] = self.corpus
        out["cases"] = [c.to_dict() for c in self.cases]
        return out


def _strings(path: Path, case: str, name: str, value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise SetError(path, "must be a list of non-empty strings", case, name)
    return tuple(v.strip() for v in value)


def _history(path: Path, case: str, value: Any) -> tuple[dict[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise SetError(path, "must be a list of {role, content} turns", case, "history")
    turns = []
    for i, turn in enumerate(value, 1):
        if not isinstance(turn, dict) or turn.get("role") not in ROLES:
            raise SetError(path, f"turn {i} needs role 'user' or 'assistant'", case, "history")
        if not isinstance(turn.get("content"), str):
            raise SetError(path, f"turn {i} needs a text content", case, "history")
        turns.append({"role": str(turn["role"]), "content": str(turn["content"])})
    return tuple(turns)


def _case(path: Path, position: int, raw: Any, seen: set[str]) -> EvalCase:
    label = f"#{position}"
    if not isinstance(raw, dict):
        raise SetError(path, "each case must be a mapping with id and question", label)
    case_id = raw.get("id")
    if isinstance(case_id, int | float) and not isinstance(case_id, bool):
        case_id = str(case_id)
    if not isinstance(case_id, str) or not case_id.strip():
        raise SetError(path, "is required (a non-empty string)", label, "id")
    case_id = case_id.strip()
    if case_id in seen:
        raise SetError(path, "duplicate id: ids must be unique in the set", case_id, "id")
    seen.add(case_id)
    unknown = sorted(set(raw) - CASE_KEYS)
    if unknown:
        raise SetError(
            path, f"unknown field (known: {', '.join(sorted(CASE_KEYS))})", case_id, unknown[0]
        )
    question = raw.get("question")
    if not isinstance(question, str) or not question.strip():
        raise SetError(path, "is required (a non-empty string)", case_id, "question")
    expect = raw.get("expect", "answer")
    if expect not in EXPECTS:
        raise SetError(
            path, f"is {expect!r}; must be one of {', '.join(EXPECTS)}", case_id, "expect"
        )
    return EvalCase(
        id=case_id,
        question=question.strip(),
        expect=str(expect),
        history=_history(path, case_id, raw.get("history")),
        evidence=_strings(path, case_id, "evidence", raw.get("evidence")),
        facts=_strings(path, case_id, "facts", raw.get("facts")),
        tags=_strings(path, case_id, "tags", raw.get("tags")),
    )


def parse_set(data: Any, path: Path | str = "<set>") -> EvalSet:
    """Check a loaded YAML document against the schema."""
    path = Path(path)
    if not isinstance(data, dict):
        raise SetError(path, "the set must be a mapping with name and cases")
    unknown = sorted(set(data) - SET_KEYS)
    if unknown:
        raise SetError(
            path, f"unknown field (known: {', '.join(sorted(SET_KEYS))})", "", unknown[0]
        )
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SetError(path, "is required (a non-empty string)", "", "name")
    description = data.get("description") or ""
    if not isinstance(description, str):
        raise SetError(path, "must be text", "", "description")
    k = data.get("k", 5)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 50:
        raise SetError(path, "must be a whole number from 1 to 50", "", "k")
    corpus = data.get("corpus") or ""
    if not isinstance(corpus, str):
        raise SetError(path, "must be a folder path, relative to the set file", "", "corpus")
    raw_cases = data.get("cases")
    if not isinstance(raw_cases, list) or not raw_cases:
        raise SetError(path, "is required: a list of at least one case", "", "cases")
    seen: set[str] = set()
    cases = tuple(_case(path, i, raw, seen) for i, raw in enumerate(raw_cases, 1))
    tags = tuple(dict.fromkeys(t for c in cases for t in c.tags))
    eval_set = EvalSet(name.strip(), cases, description, k, str(path), tags, corpus)
    folder = eval_set.corpus_dir()
    if folder is not None and not folder.is_dir():
        raise SetError(path, f"names {folder}, which is not a folder", "", "corpus")
    return eval_set


def load_set(path: Path | str) -> EvalSet:
    """Read and check a set file; ``SetError`` names the file, case and field."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SetError(path, f"cannot read the file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise SetError(path, "the file is not UTF-8 text") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "malformed YAML"
        raise SetError(path, f"not valid YAML{where}: {problem}") from exc
    return parse_set(data, path)


def dump_set(eval_set: EvalSet, header: str = "") -> str:
    """The set as YAML the author can edit (``header`` becomes leading comments)."""
    comments = "".join(f"# {line}\n" if line else "#\n" for line in header.splitlines())
    body = yaml.safe_dump(eval_set.to_dict(), sort_keys=False, allow_unicode=True, width=100)
    return comments + body
