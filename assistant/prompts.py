"""Prompts and fixed messages live as files in ``prompts/``, read when used.

Fixed messages (the disclaimer, the urgent and not-covered replies) are text: ``load_prompt``.
Prompts with ``{placeholders}`` are LangChain prompt templates (``load_template``), checked
against the variables the code fills, so an edited file that drops or invents one fails in
one clear line instead of sending the model half a prompt. ``chat_prompt`` puts the system
prompt (taken literally) before a template as a ``ChatPromptTemplate``.
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.errors import BackendError

if TYPE_CHECKING:
    from langchain_core.prompts import ChatPromptTemplate, PromptTemplate


def load_prompt(prompts_dir: Path, name: str) -> str:
    path = prompts_dir / f"{name}.md"
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise BackendError(f"prompt file {path} cannot be read ({exc.strerror})") from exc


def load_template(prompts_dir: Path, name: str, variables: Collection[str]) -> PromptTemplate:
    """``prompts/NAME.md`` as a prompt template whose placeholders are exactly ``variables``."""
    from langchain_core.prompts import PromptTemplate

    text = load_prompt(prompts_dir, name)
    try:
        template = PromptTemplate.from_template(text)
    except ValueError as exc:  # an unbalanced brace
        raise BackendError(f"prompt file {prompts_dir / name}.md: {exc}") from exc
    found, wanted = set(template.input_variables), set(variables)
    if found != wanted:
        missing = ", ".join(f"{{{v}}}" for v in sorted(wanted - found)) or "none"
        unknown = ", ".join(f"{{{v}}}" for v in sorted(found - wanted)) or "none"
        raise BackendError(
            f"prompt file {prompts_dir / name}.md: placeholders missing: {missing}; "
            f"unknown: {unknown}"
        )
    return template


def chat_prompt(
    prompts_dir: Path, system: str, human: str, variables: Collection[str]
) -> ChatPromptTemplate:
    """The system prompt file, as it is, then the human template file, as chat messages."""
    from langchain_core.messages import SystemMessage
    from langchain_core.prompts import ChatPromptTemplate, HumanMessagePromptTemplate

    template = load_template(prompts_dir, human, variables)
    return ChatPromptTemplate.from_messages(
        [
            SystemMessage(load_prompt(prompts_dir, system)),
            HumanMessagePromptTemplate(prompt=template),
        ]
    )
