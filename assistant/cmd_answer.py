"""``notes-assistant ask`` (streamed, or --jsonl batch), ``chat`` (REPL) and ``eval answers``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

from assistant.commands import components
from assistant.evaluate import iter_requests
from assistant.search import QueryError
from assistant.types import Answer, Assistant, Turn


def answer_json(qid: Any, a: Answer) -> dict[str, Any]:
    cites = [{"source": c.source, "start_line": c.start_line, "end_line": c.end_line, "heading": c.heading} for c in a.citations]
    row: dict[str, Any] = {"id": qid, "answer": a.text, "citations": cites, "grounded": a.grounded}
    row.update(searched_for=a.searched_for, backend=a.backend)
    if a.notices:
        row["notices"] = a.notices
    if not a.grounded:
        row["nearest"] = [
            {"source": p.source, "start_line": p.start_line, "end_line": p.end_line, "heading": p.heading} for p in a.nearest
        ]
    return row


def print_streamed(assistant: Assistant, question: str, history: Sequence[Turn], out: Any = sys.stdout) -> Answer:
    """Stream the answer to a terminal, then its citations (the checked final text wins)."""
    shown = ""
    final: Answer | None = None
    for ev in assistant.stream(question, history):
        if ev.kind == "searched" and history:
            print(f"(searched for: {ev.text})", file=out)
        elif ev.kind == "token":
            shown += ev.text
            out.write(ev.text)
            out.flush()
        elif ev.kind == "done":
            final = ev.answer
    assert final is not None
    if shown and final.text.startswith(shown):  # only the held-back end is new: finish the line
        out.write(final.text[len(shown) :])
    elif final.text.strip() != shown.strip():
        if shown:
            out.write("\n\n-- checked answer --\n")
        out.write(final.text)
    out.write("\n")
    for notice in final.notices:
        print(f"note: {notice}", file=out)
    if final.citations:
        print("\nSources:", file=out)
        for c in final.citations:
            print(f"  [{c.n}] {c.ref}  {c.heading}", file=out)
    return final


def run_ask(args: argparse.Namespace) -> int:
    comp = components(args, show_secrets=args.show_secrets, llm_backend=args.backend)
    assistant = comp.assistant
    if args.jsonl:
        for req in iter_requests(sys.stdin):
            row = {"id": req.id, "answer": "", "citations": [], "grounded": False, "error": req.error}
            if not req.error:
                try:
                    row = answer_json(req.id, assistant.answer(req.question, req.history))
                except ValueError as exc:  # QueryError: empty question, ...
                    row["error"] = str(exc)
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        return 0
    if not args.question:
        raise QueryError("give a question, or --jsonl to read questions from stdin")
    print_streamed(assistant, " ".join(args.question), [])
    return 0


def run_chat(args: argparse.Namespace) -> int:
    comp = components(args, show_secrets=args.show_secrets, llm_backend=args.backend)
    assistant = comp.assistant
    history: list[Turn] = []
    print("Ask about your notes. /reset starts over, /quit (or Ctrl-D) leaves.")
    while True:
        try:
            question = input("\nyou> ").strip()
        except EOFError:
            print()
            return 0
        if question in {"/quit", "/exit"}:
            return 0
        if question == "/reset":
            history.clear()
            print("(conversation cleared)")
            continue
        if not question:
            continue
        try:
            final = print_streamed(assistant, question, history)
        except QueryError as exc:
            print(f"error: {exc}")
            continue
        history += [Turn("user", question), Turn("assistant", final.text)]


def run_eval_answers(args: argparse.Namespace) -> int:
    from assistant.eval_answers import run
    from assistant.evaluate import load_questions, load_raw

    questions = load_questions(args.questions)
    raw = load_raw(args.questions)
    comp = components(args, llm_backend=args.backend)
    chunks = [r.chunk for r in comp.store.records()]
    gold_text = {
        q.id: "\n".join(c.text for c in chunks if any(c.start_line <= e and s <= c.end_line for s, e in q.gold_lines))
        for q in questions
    }
    if args.gold_evidence:  # the reader ceiling: each answerable question gets exactly its gold lines
        pinned = comp.pinned_evidence()
        files = len(pinned.sources())
        if files != 1:
            why = f"--gold-evidence needs notes of one file, since gold lines name none; found {files}"
            print(f"notes-assistant: error: {why}", file=sys.stderr)
            return 2
        questions = [q for q in questions if q.gold_lines]
        summary, rows = run(comp.answer_chain(pinned), questions, raw, gold_text, before=lambda q: pinned.pin(q.gold_lines))
    else:
        summary, rows = run(comp.assistant, questions, raw, gold_text)
    for r in rows:
        if not r.get("ok", True) or r.get("leaked"):
            print(f"  FAIL {r['id']} {r['kind']:<13} {r['answer'][:100]!r}")
    print(json.dumps(summary, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps({"summary": summary, "rows": rows}, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0
