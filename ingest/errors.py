"""The project's error hierarchy. Every message is written for the reader.

Entry points turn a ``SuppleError`` into one clear line (CLI exit 2, HTTP 4xx, a chat
message); anything else is a bug and may show a traceback.
"""

from __future__ import annotations


class SuppleError(Exception):
    """An error whose message is shown to the user as it is."""


class SourceError(SuppleError):
    """One source (file, URL) could not be read or parsed; the run goes on without it."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class StoreError(SuppleError):
    """The index cannot be opened, read or written."""


class StaleIndexError(StoreError):
    """The index was built with another embedding model, or is missing."""
