"""The Chroma store: the only module that imports ``chromadb``.

Embedded (``PersistentClient`` in the index dir) by default; client/server
(``HttpClient``) when a Chroma URL is configured. Telemetry is off. The
collection is stamped with the embedder's name and dimension and the chunker
version; a mismatch wipes and rebuilds it so vectors never mix.
Chroma's nested result dicts stay inside this module: callers get ``Chunk``
and ``StoredChunk`` dataclasses.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from index.embedders import Embedder
from index.models import Chunk

_PAGE = 2000


@dataclass(frozen=True)
class StoredChunk:
    chunk: Chunk
    file_hash: str


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    score: float  # cosine similarity, higher is better


class StoreError(RuntimeError):
    pass


def _ef_class() -> Any:
    from chromadb.api.types import Documents, EmbeddingFunction, Embeddings

    class NotesEmbeddingFunction(EmbeddingFunction[Documents]):
        """Adapts our ``Embedder`` so Chroma never falls back to its ONNX default."""

        def __init__(self, embedder: Embedder) -> None:
            self.embedder = embedder

        def __call__(self, input: Documents) -> Embeddings:
            return list(self.embedder.embed_passages(list(input)))

        @staticmethod
        def name() -> str:
            return "notes-assistant"

        def get_config(self) -> dict[str, Any]:
            return {"embedder": self.embedder.name}

        @staticmethod
        def build_from_config(config: dict[str, Any]) -> Any:
            raise StoreError("notes-assistant collections are opened with their embedder")

        def default_space(self) -> Any:
            return "cosine"

    return NotesEmbeddingFunction


def make_client(index_dir: Path, chroma_url: str) -> Any:
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    cs = ChromaSettings(anonymized_telemetry=False)
    if chroma_url:
        url = urlparse(chroma_url if "//" in chroma_url else "http://" + chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=cs,
            )
        except Exception as exc:
            raise StoreError(f"cannot reach the Chroma server at {chroma_url}: {exc}") from exc
    index_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(index_dir / "chroma"), settings=cs)


def _to_chunk(cid: str, doc: str, meta: dict[str, Any]) -> Chunk:
    return Chunk(
        source=str(meta["source"]),
        heading=str(meta.get("heading", "")),
        start_line=int(meta["start_line"]),
        end_line=int(meta["end_line"]),
        text=doc,
        embed_text=str(meta.get("embed_text", doc)),
        content_hash=str(meta["content_hash"]),
        id=cid,
    )


class NoteStore:
    def __init__(self, client: Any, name: str, embedder: Embedder, chunker_version: str) -> None:
        self.client = client
        self.name = name
        self.embedder = embedder
        self.stamp = {"embedder": embedder.name, "dim": embedder.dim, "chunker": chunker_version}
        self._ef = _ef_class()(embedder)
        self._col: Any = None

    def _get(self, create: bool) -> Any:
        if self._col is None:
            if create:
                meta = {**self.stamp, "hnsw:space": "cosine"}
                self._col = self.client.get_or_create_collection(self.name, metadata=meta, embedding_function=self._ef)
            else:
                try:
                    self._col = self.client.get_collection(self.name, embedding_function=self._ef)
                except Exception as exc:
                    raise StoreError("the index has not been built yet: run `notes-assistant index`") from exc
        return self._col

    def ensure_stamp(self) -> str:
        """Open (or create) the collection; wipe it if its stamp differs. Returns why."""
        names = {getattr(c, "name", c) for c in self.client.list_collections()}
        if self.name in names:
            existing = self.client.get_collection(self.name, embedding_function=self._ef)
            meta = existing.metadata or {}
            old = {k: meta.get(k) for k in self.stamp}
            if old != self.stamp:
                self.client.delete_collection(self.name)
                self._col = None
                self._get(create=True)
                return f"index was built with {old}, now {self.stamp}: rebuilding"
        self._get(create=True)
        return ""

    def records(self) -> list[StoredChunk]:
        col = self._get(create=False)
        out: list[StoredChunk] = []
        offset = 0
        while True:
            got = col.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
            for cid, doc, meta in zip(got["ids"], got["documents"], got["metadatas"], strict=True):
                out.append(StoredChunk(_to_chunk(cid, doc, meta), str(meta.get("file_hash", ""))))
            if len(got["ids"]) < _PAGE:
                return out
            offset += _PAGE

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        got = self._get(create=False).get(ids=ids, include=["embeddings"])
        return {cid: np.asarray(v, dtype=np.float32) for cid, v in zip(got["ids"], got["embeddings"], strict=True)}

    def upsert(self, items: Iterable[tuple[Chunk, str]], vectors: np.ndarray) -> None:
        items = list(items)
        if not items:
            return
        col = self._get(create=True)
        for i in range(0, len(items), _PAGE):
            batch = items[i : i + _PAGE]
            col.upsert(
                ids=[c.id for c, _ in batch],
                documents=[c.text for c, _ in batch],
                metadatas=[self._meta(c, fh) for c, fh in batch],
                embeddings=[np.asarray(v, dtype=np.float32) for v in vectors[i : i + _PAGE]],
            )

    def update_metadata(self, items: list[tuple[Chunk, str]]) -> None:
        if items:
            col = self._get(create=True)
            col.update(ids=[c.id for c, _ in items], metadatas=[self._meta(c, fh) for c, fh in items])

    def delete(self, ids: list[str]) -> None:
        col = self._get(create=True)
        for i in range(0, len(ids), _PAGE):
            col.delete(ids=ids[i : i + _PAGE])

    def count(self) -> int:
        return int(self._get(create=False).count())

    def query(self, vector: np.ndarray, k: int) -> list[Hit]:
        col = self._get(create=False)
        n = min(k, col.count())
        if n <= 0:
            return []
        got = col.query(query_embeddings=[vector], n_results=n, include=["documents", "metadatas", "distances"])
        return [
            Hit(_to_chunk(cid, doc, meta), 1.0 - float(dist))
            for cid, doc, meta, dist in zip(
                got["ids"][0], got["documents"][0], got["metadatas"][0], got["distances"][0], strict=True
            )
        ]

    @staticmethod
    def _meta(c: Chunk, file_hash: str) -> dict[str, Any]:
        return {
            "source": c.source,
            "heading": c.heading,
            "start_line": c.start_line,
            "end_line": c.end_line,
            "content_hash": c.content_hash,
            "embed_text": c.embed_text,
            "file_hash": file_hash,
        }
