"""Votes in SQLite, and ``notes-assistant feedback export --jsonl`` in the eval question format."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.types import Answer, Citation, Turn
from assistant.web.adapter import answer_record
from assistant.web.feedback import FeedbackStore, eval_case

CITES = [
    Citation(1, "ops-notes.md", 193, 195, "k8s > Deployment", "kubectl scale deployment x --replicas=3"),
    Citation(2, "ops-notes.md", 196, 197, "k8s > Deployment", "kubectl rollout undo"),
    Citation(3, "ops-notes.md", 20, 21, "git", "git log"),
]
GOOD = Answer("Use `kubectl scale` [1][2][3].", CITES, True, "kubectl scale", "local")
REFUSAL = Answer("这不在你的笔记中。", [], False, "怎么做饭", "local")
EVAL_KEYS = {"id", "lang", "kind", "question", "history", "gold_lines", "must_contain", "any_of", "note"}


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "sub" / "feedback.sqlite3")


def test_a_vote_stores_the_whole_exchange(store: FeedbackStore) -> None:
    history = [Turn("user", "how to scale?"), Turn("assistant", "kubectl scale [1]")]
    rec = answer_record("and undo?", history, GOOD, "md")
    store.record(rec, 1)
    con = sqlite3.connect(store.path)
    (row,) = con.execute("SELECT question, history, answer, citations, backend, vote, created_at FROM feedback").fetchall()
    assert row[0] == "and undo?" and row[2] == GOOD.text and row[4] == "local" and row[5] == 1
    assert json.loads(row[1]) == [
        {"role": "user", "content": "how to scale?"},
        {"role": "assistant", "content": "kubectl scale [1]"},
    ]
    assert [c["start_line"] for c in json.loads(row[3])] == [193, 196, 20]
    assert row[6].endswith("+00:00")


def test_changing_or_withdrawing_a_vote_replaces_the_row(store: FeedbackStore) -> None:
    rec = answer_record("q", [], GOOD, "md")
    store.record(rec, 1)
    store.record(rec, -1)
    assert [r["vote"] for r in store.rows()] == [-1]
    store.record(rec, 0)
    assert store.rows() == []


def test_concurrent_votes_from_several_threads_all_land(store: FeedbackStore) -> None:
    recs = [answer_record(f"q{i}", [], GOOD, "md") for i in range(20)]
    threads = [threading.Thread(target=store.record, args=(r, 1)) for r in recs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r["question"] for r in store.rows()) == sorted(f"q{i}" for i in range(20))


def test_eval_cases_follow_the_vote(store: FeedbackStore) -> None:
    history = [Turn("user", "how to scale?"), Turn("assistant", "kubectl scale [1]")]
    store.record(answer_record("kubectl 怎么扩容 deployment？", [], GOOD, "md"), 1)
    store.record(answer_record("and undo?", history, GOOD, "md"), 1)
    store.record(answer_record("怎么做饭？", [], REFUSAL, "md"), 1)
    store.record(answer_record("How do I restart kube-apiserver?", [], GOOD, "md"), -1)
    up, follow, unanswerable, down = (eval_case(r) for r in store.rows())
    assert all(EVAL_KEYS <= set(c) for c in (up, follow, unanswerable, down))
    assert up["lang"] == "zh" and up["kind"] == "fact" and up["gold_lines"] == [[20, 21], [193, 197]]
    assert up["gold_refs"] == ["ops-notes.md:193-195", "ops-notes.md:196-197", "ops-notes.md:20-21"]
    assert follow["kind"] == "followup" and follow["history"][0] == {"role": "user", "content": "how to scale?"}
    assert unanswerable["kind"] == "unanswerable" and unanswerable["gold_lines"] == []
    assert down["kind"] == "needs_review" and down["gold_lines"] == [] and down["must_contain"] == []
    assert down["note"].startswith("thumbs down") and down["lang"] == "en"
    assert len({c["id"] for c in (up, follow, unanswerable, down)}) == 4


def test_cli_export_writes_eval_jsonl(
    store: FeedbackStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NOTES_FEEDBACK_DB", str(store.path))
    env_file = tmp_path / "absent.env"
    assert main(["--env-file", str(env_file), "feedback", "export", "--jsonl"]) == 0
    assert capsys.readouterr().out == ""  # nothing stored yet: nothing written (a note on stderr)
    store.record(answer_record("kubectl 怎么扩容 deployment？", [], GOOD, "md"), 1)
    assert main(["--env-file", str(env_file), "feedback", "export", "--jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    case = json.loads(lines[0])
    assert case["question"] == "kubectl 怎么扩容 deployment？" and case["gold_lines"] == [[20, 21], [193, 197]]
