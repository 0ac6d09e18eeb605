"""Incremental sync of the notes dir into the store, keyed by content hash.

- A file whose bytes hash is unchanged is not even decoded: 0 embeddings.
- Chunk ids derive from (source, content hash), so an edit re-embeds only the
  chunks whose text changed; shifted line numbers are a metadata update.
- Vectors are reused by content hash across files, so a renamed file computes
  no new embeddings.
- Chunks of deleted files (and of files that became empty or unreadable) go.
- One writer at a time (a file lock in the index dir); the notes are only read.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.chunker import Chunker
from index.decode import SUFFIXES, NotIndexable, decode_bytes, file_hash, iter_note_files
from index.lexical import LexicalIndex
from index.models import Chunk, FileReport, FileStatus, SyncReport
from index.store import NoteStore, StoredChunk

BATCH = 64
Progress = Callable[[int, int], None]


class NotesDirError(RuntimeError):
    pass


@dataclass
class _Plan:
    upsert_new: list[tuple[Chunk, str]]
    reuse: dict[str, str]  # new chunk id -> stored chunk id with the same content
    metadata: list[tuple[Chunk, str]]
    delete: list[str]


class Syncer:
    def __init__(self, store: NoteStore, chunker: Chunker, max_bytes: int, lexical_dir: Path) -> None:
        self.store = store
        self.chunker = chunker
        self.max_bytes = max_bytes
        self.lexical_dir = lexical_dir

    def sync(self, notes_dir: Path, progress: Progress | None = None) -> SyncReport:
        if not notes_dir.is_dir():
            raise NotesDirError(f"notes dir {notes_dir} does not exist or is not a directory")
        t0 = time.perf_counter()
        report = SyncReport(rebuilt_reason=self.store.ensure_stamp())
        stored: dict[str, list[StoredChunk]] = defaultdict(list)
        for rec in self.store.records():
            stored[rec.chunk.source].append(rec)
        by_hash = {rec.chunk.content_hash: rec.chunk.id for recs in stored.values() for rec in recs}
        plan = _Plan([], {}, [], [])
        seen: set[str] = set()
        for path, source in iter_note_files(notes_dir):
            seen.add(source)
            report.files.append(self._plan_file(path, source, stored.get(source, []), by_hash, plan))
        for source in sorted(set(stored) - seen):
            plan.delete += [r.chunk.id for r in stored[source]]
            report.files.append(FileReport(source, FileStatus.REMOVED, "file no longer in the notes dir"))
        self._apply(plan, report, progress)
        if report.changed or report.rebuilt_reason or not LexicalIndex.is_current(self.lexical_dir):
            chunks = [r.chunk for r in self.store.records()]
            known = LexicalIndex.known_tokens(self.lexical_dir)
            LexicalIndex.build([(c.id, c.embed_text) for c in chunks], known).save(self.lexical_dir)
        report.total_chunks = self.store.count()
        report.seconds = time.perf_counter() - t0
        return report

    def _plan_file(self, path: Path, source: str, old: list[StoredChunk], by_hash: dict[str, str], plan: _Plan) -> FileReport:
        try:
            if path.suffix.lower() not in SUFFIXES:
                raise NotIndexable(f"not a notes file (indexed: {', '.join(SUFFIXES)})")
            size = path.stat().st_size
            if size > self.max_bytes:
                raise NotIndexable(f"too large ({size / 1e6:.1f} MB > {self.max_bytes / 1e6:.1f} MB; raise NOTES_MAX_FILE_MB)")
            data = path.read_bytes()
            fh = file_hash(data)
            if old and all(r.file_hash == fh for r in old):
                return FileReport(source, FileStatus.UNCHANGED, chunks=len(old))
            if not data.strip():
                raise NotIndexable("empty file")
            text, encoding = decode_bytes(data)
            chunks = self.chunker.chunk(source, text)
        except NotIndexable as exc:
            plan.delete += [r.chunk.id for r in old]
            return FileReport(source, FileStatus.SKIPPED, str(exc))
        except (OSError, ValueError) as exc:
            return FileReport(source, FileStatus.FAILED, f"{type(exc).__name__}: {exc}")
        old_by_id = {r.chunk.id: r for r in old}
        for c in chunks:
            prev = old_by_id.pop(c.id, None)
            if prev is None:
                plan.upsert_new.append((c, fh))
                if c.content_hash in by_hash:
                    plan.reuse[c.id] = by_hash[c.content_hash]
            elif prev.chunk != c or prev.file_hash != fh:
                plan.metadata.append((c, fh))
        plan.delete += list(old_by_id)
        note = "" if encoding == "utf-8" else f"decoded as {encoding}"
        return FileReport(source, FileStatus.INDEXED, note, chunks=len(chunks))

    def _apply(self, plan: _Plan, report: SyncReport, progress: Progress | None) -> None:
        """Embed each new content hash once (stored vectors reused), then write."""
        reused = self.store.vectors(sorted(set(plan.reuse.values())))
        by_hash: dict[str, np.ndarray] = {}
        for c, _ in plan.upsert_new:
            if plan.reuse.get(c.id) in reused:
                by_hash[c.content_hash] = reused[plan.reuse[c.id]]
        todo = list({c.content_hash: c for c, _ in plan.upsert_new if c.content_hash not in by_hash}.values())
        for i in range(0, len(todo), BATCH):
            batch = todo[i : i + BATCH]
            vecs = self.store.embedder.embed_passages([c.embed_text for c in batch])
            by_hash.update({c.content_hash: v for c, v in zip(batch, vecs, strict=True)})
            if progress:
                progress(min(i + BATCH, len(todo)), len(todo))
        if plan.upsert_new:
            self.store.upsert(plan.upsert_new, np.stack([by_hash[c.content_hash] for c, _ in plan.upsert_new]))
        self.store.update_metadata(plan.metadata)
        if plan.delete:
            self.store.delete(plan.delete)
        report.added, report.updated = len(plan.upsert_new), len(plan.metadata)
        report.removed, report.embedded = len(plan.delete), len(todo)
