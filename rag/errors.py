"""Exception types whose messages are shown to users (Simplified Chinese)."""

from __future__ import annotations


class RagError(Exception):
    """A failure the user can act on; ``str(err)`` is a complete Chinese message."""


class IngestError(RagError):
    """A single file could not be ingested; names the file and the reason."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}：{reason}")
        self.source = source
        self.reason = reason


class ModelMismatchError(RagError):
    """The knowledge base was built with a different embedding model."""
