"""Decides whether the notes cover a question ("not in your notes" gate).

Retrieval scores alone do not separate covered from uncovered questions, and
the small model's own yes/no judgement does not either. This gate combines:

1. Named-term evidence: a *specific* term in the question (a tool, command,
   flag or config key: it has ``-_./=`` or digits, or is rare in general
   English by word frequency) that appears nowhere in the notes means the notes
   do not cover the question (``git bisect``, ``sinfo``, ``gzip``...). Common
   English words are never counted: they are naturally absent from Chinese notes.
2. Retrieval evidence: the best dense similarity and the best BM25 score must
   reach thresholds calibrated on the dev set (``eval answers`` reports them).
3. Answer-side checks (in the chain): an answer that itself says the notes do
   not cover it, or that cites nothing, is not grounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.retrieval import Candidate, Corpus
from index.lexical import expand, tokenize

_IDENTIFIER = re.compile(r"[\d_./=+:-]|[a-z][A-Z]")
ASCII_TERM = re.compile(r"[A-Za-z][A-Za-z0-9_.+=/:-]*[A-Za-z0-9]|[A-Za-z]{2,}")
RARE_ZIPF = 3.0


@dataclass(frozen=True)
class GateResult:
    grounded: bool
    reason: str
    unknown_terms: tuple[str, ...]
    top_dense: float
    top_lexical: float


@lru_cache(maxsize=4096)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


def identifiers(question: str) -> list[str]:
    """The identifiers a question names (JobCompType, sched/hold, KillWait=30, -LLL): written with
    symbols, digits or inner capitals, unlike ordinary words (CPU, FUTURE and node are not)."""
    out = []
    for m in ASCII_TERM.finditer(question):
        term = m.group(0).strip(".:-/")
        if len(term) >= 3 and _IDENTIFIER.search(term) and term not in out:
            out.append(term)
    return out


def is_specific(term: str) -> bool:
    """A tool, command, flag or key rather than an ordinary English word."""
    if any(ch in term for ch in "-_./=+:") or any(ch.isdigit() for ch in term):
        return True
    return len(term) >= 3 and _zipf(term.lower()) < RARE_ZIPF


def unknown_terms(question: str, corpus: Corpus) -> list[str]:
    """Specific ASCII terms of the question that the notes never mention."""
    vocabulary = corpus.lexical.vocabulary
    out = []
    for m in ASCII_TERM.finditer(question):
        term = m.group(0).strip(".:-/")
        if not term or not is_specific(term) or corpus.mentions(term):
            continue
        # key=value as the user wrote it: known when both sides are in the notes.
        if "=" in term and all(corpus.mentions(part) for part in term.split("=") if part):
            continue
        toks = tokenize(term)
        # A word is also known when a translation of it (glossary) is in the notes.
        if len(toks) == 1 and any(t in vocabulary for t in expand(toks)):
            continue
        if term not in out:
            out.append(term)
    return out


class GroundingGate:
    def __init__(self, *, min_dense: float = 0.22, min_lexical: float = 3.0) -> None:
        self.min_dense = min_dense
        self.min_lexical = min_lexical

    def check(self, question: str, candidates: list[Candidate], corpus: Corpus) -> GateResult:
        top_dense = max((c.dense for c in candidates), default=0.0)
        top_lex = max((c.lexical for c in candidates), default=0.0)
        unknown = tuple(unknown_terms(question, corpus))
        if not candidates:
            return GateResult(False, "nothing in the notes matched", unknown, top_dense, top_lex)
        if unknown:
            reason = f"your notes never mention {', '.join(unknown)}"
            return GateResult(False, reason, unknown, top_dense, top_lex)
        if top_dense < self.min_dense and top_lex < self.min_lexical:
            return GateResult(False, "no section of your notes is close enough", unknown, top_dense, top_lex)
        return GateResult(True, "", unknown, top_dense, top_lex)
