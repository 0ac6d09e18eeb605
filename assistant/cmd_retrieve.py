"""``notes-assistant retrieve`` (single, --json, --jsonl batch) and ``eval retrieval``."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Iterator
from typing import Any, TextIO

from assistant.commands import components
from assistant.evaluate import format_metrics, iter_requests, load_questions, retrieval_metrics
from assistant.search import QueryError, Searcher
from assistant.types import Passage


def passage_json(p: Passage) -> dict[str, Any]:
    return dataclasses.asdict(p)


def run_retrieve(args: argparse.Namespace) -> int:
    searcher = components(args).searcher
    if args.jsonl:
        for row in batch(searcher, sys.stdin, args.k):
            sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
            sys.stdout.flush()
        return 0
    if not args.question:
        raise QueryError("give a question, or --jsonl to read questions from stdin")
    result = searcher.search(" ".join(args.question), k=args.k)
    for notice in result.notices:
        print(f"note: {notice}", file=sys.stderr)
    if args.json:
        print(json.dumps([passage_json(p) for p in result.passages], ensure_ascii=False, indent=2))
        return 0
    for i, p in enumerate(result.passages, 1):
        print(f"[{i}] {p.ref}  {p.heading or '(top of file)'}  score {p.score:.4f}")
        for n, line in enumerate(p.text.split("\n"), p.start_line):
            print(f"  {n:>5} | {line}")
        print()
    if not result.passages:
        print("no passages found")
    return 0


def batch(searcher: Searcher, lines: TextIO, k: int) -> Iterator[dict[str, Any]]:
    """One output object per input line; a bad line yields an ``error``, never a crash."""
    for req in iter_requests(lines):
        if req.error:
            yield {"id": req.id, "passages": [], "error": req.error}
            continue
        try:
            res = searcher.search(req.question, req.history, k=k)
        except ValueError as exc:  # QueryError: empty question, ...
            yield {"id": req.id, "passages": [], "error": str(exc)}
            continue
        row: dict[str, Any] = {"id": req.id, "passages": [passage_json(p) for p in res.passages]}
        if res.notices:
            row["notices"] = res.notices
        yield row


def run_eval_retrieval(args: argparse.Namespace) -> int:
    questions = load_questions(args.questions)
    searcher = components(args).searcher
    ranked: dict[str, list[tuple[int, int]]] = {}
    results = []
    t0 = time.perf_counter()
    for q in questions:
        try:
            res = searcher.search(q.question, q.history, k=10)
        except QueryError as exc:
            print(f"{q.id}: {exc}", file=sys.stderr)
            continue
        ranked[q.id] = [(p.start_line, p.end_line) for p in res.passages]
        results.append({"id": q.id, "query": res.query, "passages": [passage_json(p) for p in res.passages]})
    elapsed = time.perf_counter() - t0
    metrics = retrieval_metrics(questions, ranked)
    print(format_metrics(metrics))
    print(f"{len(questions)} questions in {elapsed:.1f}s")
    if args.out:
        args.out.write_text(json.dumps({"metrics": metrics, "results": results}, ensure_ascii=False, indent=1))
        print(f"report written to {args.out}")
    return 0
