"""Thumbs up/down on web answers: a small SQLite table, exportable as eval cases.

One row per answer (keyed by the answer's record id), so changing a vote
replaces it and withdrawing it deletes the row. A fresh connection per call
keeps it safe across Gradio's worker threads.

``notes-assistant feedback export --jsonl`` writes the rows in the question
format of ``shared/eval/README.md``:

- thumbs up on a grounded answer: ``gold_lines`` are the cited line ranges,
  ``kind`` is ``followup`` when there was history, else ``fact``;
- thumbs up on a "not in your notes" answer: ``kind: unanswerable``, no gold lines;
- thumbs down: ``kind: needs_review`` with empty ``gold_lines``/``must_contain``
  and a note; someone fills in the right lines before it joins an eval set
  (the scorer would otherwise treat it as unanswerable).

``gold_refs`` (``file:start-end``) and ``answer`` are extra fields for the
reviewer; gold line numbers alone do not say which file they refer to.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    answer_id  TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,     -- ISO 8601, UTC
    question   TEXT NOT NULL,
    history    TEXT NOT NULL,     -- JSON [{"role", "content"}]
    answer     TEXT NOT NULL,
    citations  TEXT NOT NULL,     -- JSON [{"n", "source", "start_line", "end_line", "heading"}]
    grounded   INTEGER NOT NULL,
    backend    TEXT NOT NULL,
    vote       INTEGER NOT NULL   -- +1 thumbs up, -1 thumbs down
)
"""


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with closing(sqlite3.connect(self.path, timeout=10)) as con:
            con.execute(_SCHEMA)
            with con:  # one transaction
                yield con

    def record(self, rec: Mapping[str, Any], vote: int) -> None:
        """Store (or replace) the vote on one answer record; ``vote == 0`` withdraws it."""
        with self._db() as con:
            if vote == 0:
                con.execute("DELETE FROM feedback WHERE answer_id = ?", (rec["id"],))
                return
            con.execute(
                "INSERT OR REPLACE INTO feedback VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    rec["id"],
                    datetime.now(UTC).isoformat(timespec="seconds"),
                    rec["question"],
                    json.dumps(rec.get("history", []), ensure_ascii=False),
                    rec["answer"],
                    json.dumps(rec.get("citations", []), ensure_ascii=False),
                    int(bool(rec.get("grounded", True))),
                    str(rec.get("backend", "")),
                    1 if vote > 0 else -1,
                ),
            )

    def rows(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self._db() as con:
            con.row_factory = sqlite3.Row
            got = con.execute("SELECT * FROM feedback ORDER BY created_at, rowid").fetchall()
        out = []
        for r in got:
            row = dict(r)
            row["history"] = json.loads(row["history"])
            row["citations"] = json.loads(row["citations"])
            row["grounded"] = bool(row["grounded"])
            out.append(row)
        return out


def _merged(ranges: list[tuple[int, int]]) -> list[list[int]]:
    out: list[list[int]] = []
    for s, e in sorted(ranges):
        if out and s <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


def eval_case(row: Mapping[str, Any]) -> dict[str, Any]:
    """One feedback row as an eval question (see the module docstring)."""
    from assistant.language import detect_language

    cites = row["citations"]
    refs = [f"{c['source']}:{c['start_line']}-{c['end_line']}" for c in cites]
    when = f"{row['backend']}, {row['created_at']}"
    gold: list[list[int]] = []
    if row["vote"] < 0:
        kind = "needs_review"
        note = f"thumbs down ({when}); cited {', '.join(refs) or 'nothing'}. Fill in gold_lines/must_contain before use."
    elif not row["grounded"]:
        kind, note = "unanswerable", f"thumbs up on 'not in your notes' ({when})"
    else:
        kind = "followup" if row["history"] else "fact"
        gold = _merged([(int(c["start_line"]), int(c["end_line"])) for c in cites])
        note = f"thumbs up ({when}); gold lines are the cited ranges {', '.join(refs)}"
    return {
        "id": f"fb-{row['answer_id'][:10]}",
        "lang": detect_language(row["question"]),
        "kind": kind,
        "question": row["question"],
        "history": row["history"],
        "gold_lines": gold,
        "must_contain": [],
        "any_of": [],
        "note": note,
        "gold_refs": refs if gold else [],
        "answer": row["answer"],
    }


def run_feedback_export(args: argparse.Namespace) -> int:
    from assistant.settings import load_settings

    settings = load_settings(dotenv=args.env_file)
    store = FeedbackStore(settings.feedback_path)
    rows = store.rows()
    if not rows:
        print(f"notes-assistant: no feedback stored yet in {store.path}", file=sys.stderr)
    for row in rows:
        sys.stdout.write(json.dumps(eval_case(row), ensure_ascii=False) + "\n")
    return 0
