"""Keeps the retriever's in-memory view of the index fresh.

The sync writes the lexical index last; its ``ids.json`` changing is the
signal to reload the chunk map and BM25 model. Checking it is one ``stat``
per query, so a running UI or bot picks up a re-index without a restart,
and keeps answering from the previous view while a sync runs.
"""

from __future__ import annotations

import threading
from pathlib import Path

from assistant.retrieval import Corpus
from index.lexical import LexicalIndex
from index.store import NoteStore, StoreError


class CorpusCache:
    def __init__(self, store: NoteStore, lexical_dir: Path) -> None:
        self.store = store
        self.lexical_dir = lexical_dir
        self._lock = threading.Lock()
        self._stamp: float | None = None
        self._corpus: Corpus | None = None

    def get(self) -> Corpus:
        marker = self.lexical_dir / "ids.json"
        try:
            stamp = marker.stat().st_mtime_ns
        except FileNotFoundError:
            if self._corpus is not None:  # a sync is swapping the folder right now
                return self._corpus
            raise StoreError("the index has not been built yet: run `notes-assistant index`") from None
        with self._lock:
            if self._corpus is None or stamp != self._stamp:
                chunks = [r.chunk for r in self.store.records()]
                self._corpus = Corpus.from_chunks(chunks, LexicalIndex.load(self.lexical_dir))
                self._stamp = stamp
            return self._corpus
