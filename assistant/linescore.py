"""How well each line of the retrieved passages answers the question.

Retrieval finds sections; the prompt should carry only the few lines that
matter, because every prompt token costs time to first token on a CPU. A line
scores by:

- lexical evidence: the IDF-weighted query terms it contains (glossary
  expansion included, so an English question finds a Chinese line), plus at
  half weight those its heading path names ("服务为slapd" under "ldap" answers
  "the ldap service"), scaled so the best line of this question scores 1;
- meaning: the cosine similarity of its embedding to the question's
  (cross-lingual paraphrases);
- its passage's rank: a line from the best section wins a tie.

Line embeddings are cached by text (LRU), so repeated sections cost nothing.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from assistant.retrieval import Corpus
from assistant.terms import identifiers
from assistant.types import Passage
from index.embedders import Embedder
from index.lexical import expand, outermost, tokenize

MAX_LINE_CHARS = 300  # enough to place a line's meaning; long lines are mostly values
EXPANSION_WEIGHT = 0.5  # a glossary equivalent counts half as much as the word the user typed
NAMED_BONUS = 0.5  # for containing the exact identifiers the user typed (JobCompType, sched/hold)
CARRIED_WEIGHT = 0.5  # a term from an earlier turn, not from the question itself
HEADING_WEIGHT = 0.5  # a question term in the line's heading path: the section is about it, the line says it less
K1, B = 1.2, 0.5  # BM25's saturation and length normalisation: a long line matches many terms by chance


@dataclass(frozen=True)
class ScoredPassage:
    passage: Passage
    scores: tuple[float, ...]  # one per line of passage.text; 0 for blank lines
    covers: tuple[frozenset[str], ...] = ()  # per line: the question's terms it contains
    weights: Mapping[str, float] = field(default_factory=dict)  # each question term's weight


class LineScorer:
    def __init__(
        self,
        embedder: Embedder,
        corpus: Callable[[], Corpus],
        *,
        dense_weight: float = 1.0,
        rank_weight: float = 0.3,
        cache_lines: int = 8192,
    ) -> None:
        self.embedder = embedder
        self.corpus = corpus
        self.dense_weight = dense_weight
        self.rank_weight = rank_weight
        self.cache_lines = cache_lines
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def score(self, query: str, passages: list[Passage], focus: str = "") -> list[ScoredPassage]:
        """``query``: the standalone question; ``focus``: what the user typed last (a follow-up
        such as "and KillWait?"), whose terms outweigh those carried over from earlier turns."""
        asked = tokenize(query)
        terms = expand(asked)
        lexical_index = self.corpus().lexical
        known = lexical_index.vocabulary  # a term the notes never use cannot match a line: no weight
        weights = lexical_index.idf(set(terms) & known)
        for t in set(weights) - set(asked):
            weights[t] *= EXPANSION_WEIGHT
        if focus:
            mine = set(expand(tokenize(focus)))
            for t in set(weights) - mine:
                weights[t] *= CARRIED_WEIGHT
        split = [p.text.split("\n") for p in passages]
        texts = [line for lines in split for line in lines if line.strip()]
        if not texts:
            return [ScoredPassage(p, tuple(0.0 for _ in lines)) for p, lines in zip(passages, split, strict=True)]
        vectors = self._vectors(texts)
        dense = vectors @ np.asarray(self.embedder.embed_query(query), dtype=np.float32).reshape(-1)
        tokens = [tokenize(t) for t in texts]
        owner = [pi for pi, lines in enumerate(split) for line in lines if line.strip()]
        topic = [set(tokenize(p.heading)).intersection(weights) for p in passages]
        matched = [frozenset(_distinct(set(toks).intersection(weights))) for toks in tokens]
        context = [frozenset(_distinct(set(m) | topic[pi]) - m) for m, pi in zip(matched, owner, strict=True)]
        lexical = _lexical(matched, context, [len(toks) for toks in tokens], weights)
        named = _named(focus or query)
        if named:  # a key, command or flag the user typed, found literally in the line
            found = [sum(bool(n.search(t.lower())) for n in named) / len(named) for t in texts]
            lexical = lexical + NAMED_BONUS * np.array(found)
        out, i = [], 0
        for rank, (p, lines) in enumerate(zip(passages, split, strict=True)):
            prior = self.rank_weight / (1 + 0.3 * rank)
            scores, covers = [], []
            path = _path_parts(p.heading)
            for line in lines:
                if not line.strip():
                    scores.append(0.0)
                    covers.append(frozenset[str]())
                    continue
                if _HEADING.sub("", line).strip().lower() in path:  # the prompt shows the heading path already
                    scores.append(0.0)
                else:
                    scores.append(float(lexical[i] + self.dense_weight * max(0.0, dense[i]) + prior))
                covers.append(matched[i])
                i += 1
            out.append(ScoredPassage(p, tuple(scores), tuple(covers), weights))
        return out

    def _vectors(self, texts: list[str]) -> np.ndarray:
        keys = [t.strip()[:MAX_LINE_CHARS] for t in texts]
        with self._lock:
            missing = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if missing:
            fresh = np.asarray(self.embedder.embed_passages(missing), dtype=np.float32)
            with self._lock:
                for k, v in zip(missing, fresh, strict=True):
                    self._cache[k] = v
                while len(self._cache) > self.cache_lines:
                    self._cache.popitem(last=False)
        with self._lock:
            rows = [self._cache.get(k) for k in keys]
        if any(r is None for r in rows):  # evicted by a concurrent caller: embed again
            return np.asarray(self.embedder.embed_passages(keys), dtype=np.float32)
        return np.stack([r for r in rows if r is not None])


def _lexical(
    matched: list[frozenset[str]], context: list[frozenset[str]], lengths: list[int], weights: Mapping[str, float]
) -> np.ndarray:
    """IDF-weighted matched terms, length-normalised like BM25 (term frequency 1), scaled to a maximum of 1."""
    size = np.array([max(1, n) for n in lengths], dtype=np.float64)
    norm = (K1 + 1) / (1 + K1 * (1 - B + B * size / size.mean()))
    raw = np.array([_weight(m, weights) + HEADING_WEIGHT * _weight(c, weights) for m, c in zip(matched, context, strict=True)])
    raw = raw * norm
    top = raw.max()
    return raw / top if top > 0 else raw


def _weight(terms: frozenset[str], weights: Mapping[str, float]) -> float:
    return sum(weights[t] for t in terms)


_CAPS = re.compile(r"(?<![A-Za-z0-9_])[A-Z]{4,}(?![A-Za-z0-9_])")
_HEADING = re.compile(r"^#{1,6}\s+")


def _path_parts(heading: str) -> frozenset[str]:
    return frozenset(part.strip().lower() for part in heading.split(">") if part.strip())


def _distinct(matched: set[str]) -> set[str]:
    """Matched terms, without those inside a longer matched one (jieba's search mode also emits
    网络 and 接口 for 网络接口: one concept, counted once)."""
    return set(outermost(matched))


def _named(question: str) -> list[re.Pattern[str]]:
    """The identifiers the question names, as whole-word patterns (lowercased)."""
    shouted = [] if question.isupper() else _CAPS.findall(question)  # FUTURE, DRAIN: a value, typed as in the notes
    names = sorted({n.lower() for n in identifiers(question) + shouted})
    return [re.compile(rf"(?<![a-z0-9]){re.escape(n)}(?![a-z0-9])") for n in names]
