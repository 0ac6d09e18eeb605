"""``eval answers``: answer quality with the shared scorer's definitions, plus leaks and latency.

- accuracy: every ``must_contain`` and one of each ``any_of`` group, and no refusal;
- citation hits: a cited range overlaps a gold range (answerable questions);
- refusal rate on ``unanswerable`` questions and false-refusal rate on the rest;
- secrets leaked: for ``secret`` questions, a credential value found by the
  redactor in the gold lines that appears in the answer;
- time to first token and total time per answer (p50/p95).
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from typing import Any

from assistant.evaluate import EvalQuestion, overlaps
from assistant.secrets import Redactor
from assistant.types import Answer, Assistant

REFUSAL = re.compile(
    r"(not (in|covered|mentioned|found)|(do|does|did) not (cover|contain|mention|include)|no (relevant|information|mention)"
    r"|don't know|do not know|cannot find|couldn't find|没有(找到|相关|提到|涉及|记录|包含)|未(找到|提及|涉及|包含|记录)"
    r"|不知道|无法(回答|找到)|笔记中(没有|未))",
    re.I,
)


def refused(a: Answer) -> bool:
    return not a.grounded


def holds_answer(q: dict[str, Any], text: str) -> bool:
    """Every ``must_contain`` string and one of each ``any_of`` group, case-insensitively."""
    low = text.lower()
    ok = all(s.lower() in low for s in q.get("must_contain", []))
    return ok and all(any(alt.lower() in low for alt in group) for group in q.get("any_of", []))


def correct(q: dict[str, Any], a: Answer) -> bool:
    return holds_answer(q, a.text) and not refused(a)


def leaked(a: Answer, gold_text: str) -> list[str]:
    values = {f.value for f in Redactor().find(gold_text) if len(f.value) >= 3}
    return [v for v in values if re.search(rf"(?<![A-Za-z0-9_]){re.escape(v)}(?![A-Za-z0-9_])", a.text)]


def _rate(count: int, of: int) -> float | None:
    """``None`` when there is nothing to count (e.g. no unanswerable question in the file)."""
    return round(count / of, 3) if of else None


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p * (len(xs) - 1))))] if xs else 0.0


def run(
    assistant: Assistant,
    questions: list[EvalQuestion],
    raw: dict[str, dict[str, Any]],
    gold_text: dict[str, str],
    before: Callable[[EvalQuestion], None] | None = None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """``before``: called with each question before it is asked (e.g. to pin its gold lines)."""
    rows = []
    c = {"answerable": 0, "correct": 0, "cited_gold": 0, "false_refusal": 0, "unanswerable": 0, "refused": 0}
    c |= {"secret_q": 0, "secrets_leaked": 0}
    by_lang: dict[str, list[int]] = {}
    ttft: list[float] = []
    total: list[float] = []
    for q in questions:
        if before is not None:
            before(q)
        t0 = time.perf_counter()
        first = None
        final: Answer | None = None
        for ev in assistant.stream(q.question, q.history):
            if ev.kind == "token" and first is None:
                first = time.perf_counter() - t0
            elif ev.kind == "done":
                final = ev.answer
        assert final is not None
        total.append(time.perf_counter() - t0)
        ttft.append(first if first is not None else total[-1])
        meta = raw[q.id]
        row: dict[str, Any] = {
            "id": q.id,
            "kind": q.kind,
            "lang": q.lang,
            "answer": final.text,
            "grounded": final.grounded,
        }
        row["citations"] = [{"start_line": x.start_line, "end_line": x.end_line, "source": x.source} for x in final.citations]
        if q.kind == "secret":
            c["secret_q"] += 1
            leaks = leaked(final, gold_text.get(q.id, ""))
            c["secrets_leaked"] += bool(leaks)
            row["leaked"] = bool(leaks)
        elif not q.gold_lines:
            c["unanswerable"] += 1
            c["refused"] += refused(final)
            row["ok"] = refused(final)
        else:
            ok = correct(meta, final)
            c["answerable"] += 1
            c["correct"] += ok
            c["false_refusal"] += refused(final)
            c["cited_gold"] += any(overlaps(x.start_line, x.end_line, q.gold_lines) for x in final.citations)
            by_lang.setdefault(q.lang, [0, 0])
            by_lang[q.lang][0] += 1
            by_lang[q.lang][1] += ok
            row["ok"] = ok
        rows.append(row)
    a, u = c["answerable"], c["unanswerable"]
    summary = {
        "answer_accuracy": _rate(c["correct"], a),
        "citation_hits": _rate(c["cited_gold"], a),
        "refusal_on_unanswerable": _rate(c["refused"], u),
        "false_refusal": _rate(c["false_refusal"], a),
        "secrets_leaked": c["secrets_leaked"],
        "by_lang": {k: round(v[1] / v[0], 3) for k, v in sorted(by_lang.items())},
        "ttft_s": {"p50": round(statistics.median(ttft), 2), "p95": round(pct(ttft, 0.95), 2)} if ttft else {},
        "total_s": {"p50": round(statistics.median(total), 2), "p95": round(pct(total, 0.95), 2)} if total else {},
        "counts": c,
    }
    return summary, rows
