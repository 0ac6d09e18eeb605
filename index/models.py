"""Typed records that cross the ingest side's module boundaries."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class Chunk:
    """One piece of a note: exact source lines plus what gets embedded.

    ``text`` is exactly lines ``start_line``..``end_line`` (1-based, inclusive)
    of ``source``; ``embed_text`` may add the heading path and re-fence a piece
    of a split code block.
    """

    source: str
    heading: str
    start_line: int
    end_line: int
    text: str
    embed_text: str
    content_hash: str
    id: str


@dataclass(frozen=True)
class Document:
    """A decoded note file: its text and how it was read."""

    source: str
    text: str
    encoding: str
    file_hash: str


class FileStatus(StrEnum):
    INDEXED = "indexed"
    UNCHANGED = "unchanged"
    SKIPPED = "skipped"
    FAILED = "failed"
    REMOVED = "removed"


@dataclass(frozen=True)
class FileReport:
    source: str
    status: FileStatus
    reason: str = ""
    chunks: int = 0


@dataclass
class SyncReport:
    """What one sync did; printed by ``notes-assistant index``."""

    files: list[FileReport] = field(default_factory=list)
    added: int = 0
    updated: int = 0
    removed: int = 0
    embedded: int = 0
    total_chunks: int = 0
    rebuilt_reason: str = ""
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)
