"""Prompts and fixed messages live as files in ``prompts/``, read when used."""

from __future__ import annotations

from pathlib import Path

from assistant.errors import BackendError


def load_prompt(prompts_dir: Path, name: str) -> str:
    path = prompts_dir / f"{name}.md"
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise BackendError(f"prompt file {path} cannot be read ({exc.strerror})") from exc
