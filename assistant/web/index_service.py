"""The web UI's index panel: status, background re-index, validated uploads.

A re-index runs in one background thread under the cross-process write lock,
so the chat keeps answering from the previous view of the index meanwhile
(the retriever reloads when the sync finishes writing). Uploads are checked
the way the sync checks files (suffix, size, decodable text) and are never
written over an existing note: a name that is taken gets a ``-1``, ``-2``...
suffix and the message says so; an upload identical to the existing file is
not saved again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from assistant.wiring import Components
from index.decode import SUFFIXES, NotIndexable, decode_bytes
from index.models import FileStatus, SyncReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexStatus:
    files: int
    chunks: int
    last_synced: str
    embedder: str
    backend: str
    syncing: bool
    message: str
    skipped: tuple[str, ...] = ()


def _summary(report: SyncReport) -> str:
    return (
        f"{report.added} chunks added, {report.updated} updated, {report.removed} removed "
        f"({report.embedded} embedded) in {report.seconds:.1f}s"
    )


class IndexService:
    def __init__(self, components: Components, *, lock_wait_s: float = 600.0) -> None:
        self.components = components
        self.lock_wait_s = lock_wait_s
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._report: SyncReport | None = None
        self._synced_at: datetime | None = None
        self._message = ""

    # -- syncing ------------------------------------------------------------------------------
    def sync_now(self) -> SyncReport:
        """Sync in the calling thread (at startup); raises the domain errors."""
        c = self.components
        with c.write_lock(self.lock_wait_s):
            report = c.syncer.sync(c.settings.notes_dir)
        self._report, self._synced_at = report, datetime.now()
        self._message = f"synced: {_summary(report)}"
        return report

    def start_sync(self) -> bool:
        """Start a background re-index; False if one is already running."""
        with self._guard:
            if self.syncing:
                return False
            self._message = "re-indexing…"
            self._thread = threading.Thread(target=self._run, name="notes-reindex", daemon=True)
            self._thread.start()
            return True

    @property
    def syncing(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            self.sync_now()
        except Exception as exc:  # a background thread has no caller to raise to: report it in the panel
            log.exception("re-index failed")
            self._message = f"re-index failed: {exc}"

    # -- status -------------------------------------------------------------------------------
    def status(self) -> IndexStatus:
        c = self.components
        message = self._message
        try:
            records = c.store.records()
            files, chunks = len({r.chunk.source for r in records}), len(records)
        except Exception as exc:  # e.g. the index was never built: show it instead of failing the page
            files, chunks, message = 0, 0, message or str(exc)
        if self._synced_at is not None:
            when = self._synced_at.strftime("%Y-%m-%d %H:%M:%S")
        else:
            marker = c.lexical_dir / "ids.json"
            when = datetime.fromtimestamp(marker.stat().st_mtime).strftime("%Y-%m-%d %H:%M:%S") if marker.exists() else "never"
        skipped: tuple[str, ...] = ()
        if self._report is not None:
            bad = (FileStatus.SKIPPED, FileStatus.FAILED)
            skipped = tuple(f"{f.source}: {f.reason}" for f in self._report.files if f.status in bad)
        return IndexStatus(files, chunks, when, c.embedder.name, c.assistant.backend, self.syncing, message, skipped)

    # -- uploads ------------------------------------------------------------------------------
    def save_upload(self, src: Path, name: str) -> tuple[bool, str]:
        """Validate one uploaded file and save it into the notes dir: ``(saved, message)``."""
        name = Path(name.replace("\\", "/")).name
        if not name or name.startswith("."):
            return False, f"{name or '(no name)'}: refused: not a usable file name"
        if Path(name).suffix.lower() not in SUFFIXES:
            return False, f"{name}: refused: not a notes file (allowed: {', '.join(SUFFIXES)})"
        limit = self.components.settings.max_file_bytes
        size = src.stat().st_size
        if size > limit:
            return False, f"{name}: refused: too large ({size / 1e6:.1f} MB > {limit / 1e6:.1f} MB)"
        data = src.read_bytes()
        if not data.strip():
            return False, f"{name}: refused: empty file"
        try:
            decode_bytes(data)
        except NotIndexable as exc:
            return False, f"{name}: refused: {exc}"
        notes = self.components.settings.notes_dir
        notes.mkdir(parents=True, exist_ok=True)
        stem, suffix = Path(name).stem, Path(name).suffix
        for n in range(1000):
            target = notes / (name if n == 0 else f"{stem}-{n}{suffix}")
            if target.exists() and target.read_bytes() == data:
                return False, f"{name}: already in your notes as {target.name} (identical); nothing saved"
            try:
                with target.open("xb") as fh:  # exclusive create: never overwrites
                    fh.write(data)
            except FileExistsError:
                continue
            if n == 0:
                return True, f"{name}: saved"
            return True, f"{name}: a note with that name exists; saved as {target.name} (nothing was overwritten)"
        return False, f"{name}: refused: too many files with that name"


def status_markdown(s: IndexStatus) -> str:
    lines = [
        f"**Files:** {s.files} · **Chunks:** {s.chunks}",
        f"**Last synced:** {s.last_synced}",
        f"**Embedder:** `{s.embedder}` · **LLM backend:** `{s.backend}`",
    ]
    if s.syncing:
        lines.append("⏳ re-indexing… (the chat keeps answering from the current index)")
    elif s.message:
        lines.append(s.message)
    lines += [f"- skipped {x}" for x in s.skipped]
    return "\n\n".join(lines)
