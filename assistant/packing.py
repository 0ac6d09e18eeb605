"""Fit the evidence into a token budget (tiktoken) for the prompt.

Prefill costs about 10 ms a token on two cores, so every prompt token is time
to first token. Each passage is narrowed to the window of lines that best
matches the question (by shared lexical tokens, glossary included), then
passages are added best first while they fit. A narrowed passage keeps an
exact sub-range, so citations point at the lines the model actually saw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from assistant.types import Passage
from index.lexical import expand, tokenize


@dataclass(frozen=True)
class Evidence:
    n: int
    source: str
    heading: str
    start_line: int
    end_line: int
    text: str  # redacted source lines start_line..end_line

    @property
    def ref(self) -> str:
        return f"{self.source}:{self.start_line}-{self.end_line}"


def _line_scores(lines: list[str], query_terms: set[str]) -> list[float]:
    return [len(query_terms & set(tokenize(line))) for line in lines]


def narrow(p: Passage, query_terms: set[str], count: Callable[[str], int], cap: int) -> tuple[int, int]:
    """0-based [a, b) window of ``p``'s lines that fits ``cap`` tokens, around the best line."""
    lines = p.text.split("\n")
    if count(p.text) <= cap:
        return 0, len(lines)
    scores = _line_scores(lines, query_terms)
    best = max(range(len(lines)), key=lambda i: (scores[i], -i))
    a, b = best, best + 1
    used = count(lines[best])
    while True:
        options = []
        if a > 0:
            options.append((scores[a - 1] + 0.5, a - 1))  # the line before usually introduces
        if b < len(lines):
            options.append((scores[b], b))
        grown = False
        for _, i in sorted(options, reverse=True):
            cost = count(lines[i]) + 1
            if used + cost <= cap:
                used += cost
                a, b = (i, b) if i < a else (a, i + 1)
                grown = True
                break
        if not grown:
            break
    while a < b - 1 and not lines[a].strip():
        a += 1
    while b > a + 1 and not lines[b - 1].strip():
        b -= 1
    return a, b


def pack(
    passages: list[Passage],
    query: str,
    count: Callable[[str], int],
    *,
    budget: int,
    max_passages: int = 4,
) -> list[Evidence]:
    terms = set(expand(tokenize(query)))
    out: list[Evidence] = []
    used = 0
    for p in passages[:max_passages]:
        remaining = budget - used
        cap = min(remaining, max(budget // 2, 60)) if out else min(budget, max(budget * 2 // 3, 60))
        if cap < 30:
            break
        a, b = narrow(p, terms, count, cap)
        lines = p.text.split("\n")[a:b]
        text = "\n".join(lines)
        cost = count(text) + count(p.heading) + 4
        if out and used + cost > budget:
            continue
        used += cost
        out.append(Evidence(len(out) + 1, p.source, p.heading, p.start_line + a, p.start_line + b - 1, text))
    return out


def narrow_evidence(e: Evidence, query: str, count: Callable[[str], int], cap: int) -> Evidence:
    """The same evidence cut down to its best ``cap``-token window."""
    p = Passage(e.source, e.heading, e.start_line, e.end_line, e.text, 0.0)
    a, b = narrow(p, set(expand(tokenize(query))), count, cap)
    lines = e.text.split("\n")[a:b]
    return replace(e, start_line=e.start_line + a, end_line=e.start_line + b - 1, text="\n".join(lines))
