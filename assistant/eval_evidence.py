"""``eval evidence``: what the model would be given, without running it (about a minute for 600
questions, against about 13 seconds a question for ``eval answers``).

Choosing the lines decides most answers: with every gold line in its prompt the model is right
about as often as with the gold lines alone (``tests/eval/README.md``). For each answerable
question (not ``secret``) this reports whether the prompt's lines hold every answer string
(``must_contain`` and one of each ``any_of``), whether they hold a gold line, and whether the
retrieved passages hold every answer string (what line picking had to choose from); for each
unanswerable one, whether the gate says "not in your notes" before any generation. Follow-ups use
the cheap condensation (the previous question with this one), not the model's rewrite.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

from assistant.commands import components
from assistant.eval_answers import holds_answer
from assistant.evaluate import load_questions, load_raw, overlaps


def run_eval_evidence(args: argparse.Namespace) -> int:
    questions = load_questions(args.questions)
    raw = load_raw(args.questions)
    chain = components(args, llm_backend="extractive").assistant
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    for q in questions:
        d = chain.prepare(q.question, q.history)
        assert d.result is not None and d.gate is not None
        passages = d.result.context or d.result.passages
        row: dict[str, Any] = {"id": q.id, "kind": q.kind, "lang": q.lang, "gate": d.gate.reason or "grounded"}
        row["evidence"] = [[e.start_line, e.end_line] for e in d.evidence]
        row["tokens"] = sum(chain.tokens(e.text) for e in d.evidence)
        if q.gold_lines and q.kind != "secret":
            row["in_prompt"] = holds_answer(raw[q.id], "\n".join(e.text for e in d.evidence))
            row["gold_line"] = any(overlaps(e.start_line, e.end_line, q.gold_lines) for e in d.evidence)
            row["in_passages"] = holds_answer(raw[q.id], "\n".join(p.text for p in passages))
        rows.append(row)
    answerable = [r for r in rows if "in_prompt" in r]
    uncovered = [r for r, q in zip(rows, questions, strict=True) if not q.gold_lines]
    summary = {
        "answerable": len(answerable),
        "answer_in_prompt": sum(r["in_prompt"] for r in answerable),
        "gold_line_in_prompt": sum(r["gold_line"] for r in answerable),
        "answer_in_passages": sum(r["in_passages"] for r in answerable),
        "refused_by_gate": sum(r["gate"] != "grounded" for r in answerable),
        "unanswerable": len(uncovered),
        "unanswerable_refused_by_gate": sum(r["gate"] != "grounded" for r in uncovered),
        "prompt_tokens_mean": round(sum(r["tokens"] for r in rows) / max(1, len(rows)), 1),
        "seconds": round(time.perf_counter() - t0, 1),
    }
    for r in answerable:
        if not r["in_prompt"]:
            where = "line picking" if r["in_passages"] else "retrieval"
            print(f"  MISS {r['id']} {r['kind']:<13} lost in {where}")
    print(json.dumps(summary, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps({"summary": summary, "rows": rows}, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0
