"""Question in, passages out: validation, truncation, follow-up condensation.

The cheap condensation used here needs no LLM: a follow-up ("and the env
plugin?", "那 KillWait=30 呢") is searched together with the previous user
turn, which carries its topic. The answer chain may replace it with an LLM
rewrite; ``Searcher.search`` accepts the standalone query it produced.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from assistant.retrieval import Candidate, HybridRetriever, to_passage
from assistant.secrets import Redactor
from assistant.types import Passage, Turn
from index.tokens import TokenCounter

MAX_QUERY_TOKENS = 512
MAX_K = 50


class QueryError(ValueError):
    """The question cannot be searched (empty, only punctuation, bad k)."""


@dataclass(frozen=True)
class SearchResult:
    query: str  # the standalone query that was searched
    passages: list[Passage]
    candidates: list[Candidate]  # merged, best first: the signals behind each passage
    notices: list[str] = field(default_factory=list)
    context: list[Passage] = field(default_factory=list)  # each passage widened by its neighbouring chunks


# A full-width colon separates: "GPU：vcjob" is two words, which NFKC alone would join into one
# term, "GPU:vcjob" (":" belongs to terms: image:tag). Other full-width marks become ASCII ones
# that no term holds (，；) or stay as they are (、。).
_CJK_COLON = re.compile(r"：(?=[A-Za-z0-9])")


def clean_question(text: str) -> str:
    """Drop control characters (keep newlines and tabs), normalise width (NFKC); a full-width
    colon right before an ASCII word keeps separating it."""
    text = _CJK_COLON.sub(": ", text)
    text = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C").strip()


def has_content(text: str) -> bool:
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def condense(question: str, history: Sequence[Turn]) -> str:
    """The previous user turn supplies the topic of a follow-up."""
    previous = [t.content for t in history if t.role == "user" and t.content.strip()]
    return f"{previous[-1]} {question}" if previous else question


_SPACE = re.compile(r"\s+")


class Searcher:
    def __init__(self, retriever: HybridRetriever, tokens: TokenCounter, redactor: Redactor | None = None) -> None:
        self.retriever = retriever
        self.tokens = tokens
        self.redactor = redactor  # None only for the local CLI's explicit --show-secrets

    def prepare(self, question: str) -> tuple[str, list[str]]:
        """Validated, cleaned, possibly truncated question, and notices for the user."""
        cleaned = clean_question(question)
        if not has_content(cleaned):
            raise QueryError("the question is empty (or only punctuation): ask something about your notes")
        notices = []
        if self.tokens(cleaned) > MAX_QUERY_TOKENS:
            cleaned = self.tokens.truncate(cleaned, MAX_QUERY_TOKENS)
            notices.append(
                f"Your question was very long ({len(question):,} characters); only its first {MAX_QUERY_TOKENS} tokens were used."
            )
        return cleaned, notices

    def search(self, question: str, history: Sequence[Turn] = (), k: int = 5, standalone: str | None = None) -> SearchResult:
        if not 1 <= k <= MAX_K:
            raise QueryError(f"k must be between 1 and {MAX_K} (got {k})")
        cleaned, notices = self.prepare(question)
        query = standalone or condense(cleaned, history)
        query = _SPACE.sub(" ", query).strip()
        merged = self.retriever.merge(self.retriever.candidates(query))
        passages = [to_passage(c) for c in merged[:k]]
        context = [to_passage(c) for c in self.retriever.widen(merged[:k])]
        if self.redactor is not None:
            passages = [replace(p, text=self.redactor.redact(p.text)) for p in passages]
            context = [replace(p, text=self.redactor.redact(p.text)) for p in context]
        return SearchResult(query, passages, merged, notices, context)
