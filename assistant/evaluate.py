"""Retrieval metrics with the definitions of the shared scorer (``score.py``).

- a passage hits when its line range overlaps a gold range;
- hit@1, hit@5 and MRR (first hit within the top 10) over answerable questions;
- the average number of lines of the top-5 passages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.types import Turn


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    lang: str = "?"
    kind: str = "?"
    gold_lines: list[tuple[int, int]] = field(default_factory=list)
    history: list[Turn] = field(default_factory=list)


def parse_history(raw: Any) -> list[Turn]:
    turns = []
    for t in raw or []:
        content = str(t.get("content", ""))
        turns.append(Turn("assistant", content) if t.get("role") == "assistant" else Turn("user", content))
    return turns


@dataclass(frozen=True)
class Request:
    """One line of a ``--jsonl`` batch: a question, or why the line could not be read."""

    id: Any
    question: str = ""
    history: list[Turn] = field(default_factory=list)
    error: str = ""


def iter_requests(lines: Iterable[str]) -> Iterator[Request]:
    """``{"id", "question", "history"}`` lines; a bad line becomes a Request with ``error``."""
    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        qid: Any = f"line-{n}"
        try:
            q = json.loads(raw)
            qid = q.get("id", qid)
            if "question" not in q:
                raise ValueError('missing "question"')
            yield Request(qid, str(q["question"]), parse_history(q.get("history")))
        except (ValueError, TypeError, AttributeError) as exc:
            yield Request(qid, error=str(exc) or type(exc).__name__)


def load_questions(path: Path) -> list[EvalQuestion]:
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
            gold = [(int(a), int(b)) for a, b in q.get("gold_lines", [])]
            out.append(
                EvalQuestion(
                    str(q["id"]),
                    str(q["question"]),
                    q.get("lang", "?"),
                    q.get("kind", "?"),
                    gold,
                    parse_history(q.get("history")),
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a question line ({exc})") from exc
    return out


def load_raw(path: Path) -> dict[str, dict[str, Any]]:
    """Each question's JSON object by id, with the fields ``EvalQuestion`` leaves out (``must_contain``)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {str(q["id"]): q for q in rows}


def overlaps(start: int, end: int, gold: Iterable[tuple[int, int]]) -> bool:
    return any(start <= ge and gs <= end for gs, ge in gold)


def retrieval_metrics(questions: list[EvalQuestion], ranked: dict[str, list[tuple[int, int]]]) -> dict[str, Any]:
    """``ranked``: question id -> (start, end) of its passages, best first."""
    groups: dict[str, list[float]] = {}
    lines = n_pass = 0
    for q in questions:
        if not q.gold_lines:
            continue
        ps = ranked.get(q.id, [])
        rank = next((i for i, (s, e) in enumerate(ps[:10]) if overlaps(s, e, q.gold_lines)), None)
        for s, e in ps[:5]:
            lines += e - s + 1
            n_pass += 1
        for key in ("all", f"lang:{q.lang}", f"kind:{q.kind}"):
            g = groups.setdefault(key, [0, 0, 0, 0.0])
            g[0] += 1
            g[1] += rank == 0
            g[2] += rank is not None and rank < 5
            g[3] += 0 if rank is None else 1 / (rank + 1)
    out: dict[str, Any] = {
        k: {
            "n": int(g[0]),
            "hit@1": round(g[1] / g[0], 3),
            "hit@5": round(g[2] / g[0], 3),
            "mrr": round(g[3] / g[0], 3),
        }
        for k, g in groups.items()
    }
    out["avg_lines_top5"] = round(lines / max(n_pass, 1), 1)
    return out


def format_metrics(m: dict[str, Any]) -> str:
    rows = [f"{'group':<22}{'n':>4}{'hit@1':>8}{'hit@5':>8}{'MRR':>8}"]
    keys = ["all"] + sorted(k for k in m if k.startswith("lang:")) + sorted(k for k in m if k.startswith("kind:"))
    for k in keys:
        g = m[k]
        rows.append(f"{k:<22}{g['n']:>4}{g['hit@1']:>8.3f}{g['hit@5']:>8.3f}{g['mrr']:>8.3f}")
    rows.append(f"average lines in the top-5 passages: {m['avg_lines_top5']}")
    return "\n".join(rows)
