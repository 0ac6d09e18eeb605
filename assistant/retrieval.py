"""Hybrid retrieval: Chroma (dense) + BM25 (lexical), fused with weighted RRF.

``retrieve(query, k)`` is callable on its own (CLI ``retrieve``, eval, chain).
Consecutive chunks of one section are merged so the top results are not
near-duplicates; a ``Reranker`` seam (no-op by default) sits after fusion.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from assistant.types import Passage
from index.embedders import Embedder
from index.lexical import LexicalIndex
from index.models import Chunk
from index.store import NoteStore

RRF_K = 60
HEADING_ONLY_WEIGHT = 0.3
WIDE_LINES = 120  # a widened passage, joined with a touching one, stays under this many lines


def _heading_only(chunk: Chunk) -> bool:
    return chunk.start_line == chunk.end_line and chunk.text.lstrip().startswith("#")


@dataclass(frozen=True)
class Candidate:
    chunk: Chunk
    fused: float
    dense: float  # cosine similarity, 0 when not among dense hits
    lexical: float  # raw BM25 score, 0 when no term matched
    order: int  # position of the (first) chunk in file order; -1 if unknown
    last: int  # position of the last chunk folded into this one


class Reranker(Protocol):
    def rerank(self, query: str, candidates: list[Candidate]) -> list[Candidate]: ...


class NoRerank:
    def rerank(self, query: str, candidates: list[Candidate]) -> list[Candidate]:
        return candidates


@dataclass(frozen=True)
class Corpus:
    """All chunks in file order, for lexical lookups and merging neighbours."""

    chunks: dict[str, Chunk]
    order: dict[str, int]
    lexical: LexicalIndex
    text_lower: str  # every chunk's text, lowercased: "do the notes mention X at all?" (grounding.Lines)
    sequence: tuple[Chunk, ...] = ()  # the chunks in file order (``order`` indexes it)
    text: str = ""  # every chunk's text as written (the case of CamelCase identifiers)

    @classmethod
    def from_chunks(cls, chunks: list[Chunk], lexical: LexicalIndex) -> Corpus:
        ordered = sorted(chunks, key=lambda c: (c.source, c.start_line))
        text = "\n".join(c.text for c in ordered)
        order = {c.id: i for i, c in enumerate(ordered)}
        return cls({c.id: c for c in ordered}, order, lexical, text.lower(), tuple(ordered), text)


class HybridRetriever:
    def __init__(
        self,
        *,
        store: NoteStore,
        embedder: Embedder,
        corpus: Callable[[], Corpus],
        reranker: Reranker | None = None,
        dense_weight: float = 1.0,
        lexical_weight: float = 1.5,
        pool: int = 30,
        score_weight: float = 0.005,
        max_merged_lines: int = 30,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.corpus = corpus
        self.reranker = reranker or NoRerank()
        self.dense_weight = dense_weight
        self.lexical_weight = lexical_weight
        self.pool = pool
        self.score_weight = score_weight
        self.max_merged_lines = max_merged_lines

    def candidates(self, query: str) -> list[Candidate]:
        corpus = self.corpus()
        dense_hits = self.store.query(self.embedder.embed_query(query), self.pool)
        dense = {h.chunk.id: h.score for h in dense_hits}
        lexical = corpus.lexical.scores(query, self.pool)
        fused = self._fuse(dense, lexical)
        chunks = {h.chunk.id: h.chunk for h in dense_hits}
        out = []
        for cid, score in fused.items():
            chunk = chunks.get(cid) or corpus.chunks.get(cid)
            if chunk is None:  # index changed between the two lookups
                continue
            order = corpus.order.get(cid, -1)
            if _heading_only(chunk):  # an empty section: a title, no content to show
                score *= HEADING_ONLY_WEIGHT
            out.append(Candidate(chunk, score, dense.get(cid, 0.0), lexical.get(cid, 0.0), order, order))
        out.sort(key=lambda c: c.fused, reverse=True)
        return self.reranker.rerank(query, out)

    def _fuse(self, dense: dict[str, float], lexical: dict[str, float]) -> dict[str, float]:
        """RRF over ranks, plus a score-aware term so a clear winner on one side is not
        outvoted by chunks that are merely middling on both (min-max scaled scores)."""
        fused: dict[str, float] = {}
        for weight, scores in ((self.dense_weight, dense), (self.lexical_weight, lexical)):
            ranked = sorted(scores, key=scores.__getitem__, reverse=True)
            if not ranked:
                continue
            hi, lo = scores[ranked[0]], scores[ranked[-1]]
            for rank, cid in enumerate(ranked):
                scaled = (scores[cid] - lo) / (hi - lo) if hi > lo else 1.0
                fused[cid] = fused.get(cid, 0.0) + weight * (1 / (RRF_K + rank + 1) + self.score_weight * scaled)
        return fused

    def retrieve(self, query: str, k: int) -> list[Passage]:
        return [to_passage(c) for c in self.merge(self.candidates(query))[:k]]

    def merge(self, ranked: list[Candidate]) -> list[Candidate]:
        """Fold a candidate into a better-ranked neighbour from the same section."""
        kept: list[Candidate] = []
        for cand in ranked:
            for i, base in enumerate(kept):
                merged = self._join(base, cand)
                if merged is not None:
                    kept[i] = merged
                    break
            else:
                kept.append(cand)
        return kept

    def _join(self, a: Candidate, b: Candidate, max_lines: int | None = None) -> Candidate | None:
        ca, cb = a.chunk, b.chunk
        if not _same_section(ca, cb) or a.order < 0 or b.order < 0:
            return None
        first, second = (a, b) if a.order < b.order else (b, a)
        lines = max(ca.end_line, cb.end_line) - min(ca.start_line, cb.start_line) + 1
        if second.order != first.last + 1 or lines > (max_lines or self.max_merged_lines):
            return None
        # Consecutive chunks: every line between them is blank, so the text stays exact.
        gap = second.chunk.start_line - first.chunk.end_line
        text = first.chunk.text + "\n" * gap + second.chunk.text
        chunk = replace(first.chunk, end_line=second.chunk.end_line, text=text)
        dense, lexical = max(a.dense, b.dense), max(a.lexical, b.lexical)
        return Candidate(chunk, a.fused, dense, lexical, first.order, second.last)

    def widen(self, ranked: list[Candidate]) -> list[Candidate]:
        """Each candidate with the chunk before and the chunk after it in the same section: the
        context a chunk boundary may have cut (an option list, the key above it). A chunk joins
        at most one candidate, the better-ranked. For picking lines, not for ranking."""
        seq = self.corpus().sequence
        taken = {i for c in ranked if c.order >= 0 for i in range(c.order, c.last + 1)}
        out: list[Candidate] = []
        for c in ranked:
            ch = c.chunk
            if c.order < 0 or c.last >= len(seq):
                out.append(c)
                continue
            text, start, end, first, last = ch.text, ch.start_line, ch.end_line, c.order, c.last
            # Neighbours in file order: every line between them is blank, so the text stays exact.
            if c.order > 0 and c.order - 1 not in taken and _same_section(seq[c.order - 1], ch):
                before = seq[c.order - 1]
                text, start, first = before.text + "\n" * (start - before.end_line) + text, before.start_line, c.order - 1
                taken.add(c.order - 1)
            if c.last + 1 < len(seq) and c.last + 1 not in taken and _same_section(seq[c.last + 1], ch):
                after = seq[c.last + 1]
                text, end, last = text + "\n" * (after.start_line - end) + after.text, after.end_line, c.last + 1
                taken.add(c.last + 1)
            wide = replace(c, chunk=replace(ch, start_line=start, end_line=end, text=text), order=first, last=last)
            # Two widened candidates that now touch become one, so a list cut by a chunk boundary stays whole.
            for i, kept in enumerate(out):
                joined = self._join(kept, wide, max_lines=WIDE_LINES)
                if joined is not None:
                    out[i] = joined
                    break
            else:
                out.append(wide)
        return out


def _same_section(a: Chunk, b: Chunk) -> bool:
    return a.source == b.source and a.heading == b.heading


def to_passage(c: Candidate) -> Passage:
    ch = c.chunk
    return Passage(ch.source, ch.heading, ch.start_line, ch.end_line, ch.text, round(c.fused, 6))
