"""Errors the assistant raises; each message is written for the reader."""

from __future__ import annotations

from ingest.errors import StaleIndexError, StoreError, SuppleError

__all__ = [
    "BackendError",
    "InputError",
    "QuestionTooLong",
    "StaleIndexError",
    "StoreError",
    "SuppleError",
]


class InputError(SuppleError):
    """The question or its history is not usable (HTTP 400, CLI exit 2)."""


class QuestionTooLong(InputError):
    """The question is over the length cap (HTTP 413)."""


class BackendError(SuppleError):
    """The answer backend is unknown or misconfigured."""
