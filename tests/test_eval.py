"""The eval harness uses the shared scorer's definitions: same numbers on the same results."""

from __future__ import annotations

import importlib.util
import json
import random
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from assistant.eval_answers import run
from assistant.evaluate import EvalQuestion, load_questions, retrieval_metrics
from assistant.types import Answer, Citation, StreamEvent, Turn

SCORER = Path(__file__).resolve().parents[2] / "shared" / "eval" / "score.py"


def _reference():  # type: ignore[no-untyped-def]
    if not SCORER.exists():
        pytest.skip(f"reference scorer not found at {SCORER}")
    spec = importlib.util.spec_from_file_location("score", SCORER)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_metrics_match_reference_scorer_on_random_results() -> None:
    ref = _reference()
    rng = random.Random(7)
    qs = []
    for i in range(60):
        gold = [] if i % 7 == 0 else [(s := rng.randint(1, 500), s + rng.randint(0, 20))]
        qs.append(EvalQuestion(f"q{i}", "x", rng.choice(["zh", "en", "mixed"]), rng.choice(["fact", "command"]), gold))
    ranked = {}
    for q in qs:
        ranked[q.id] = [(s := rng.randint(1, 520), s + rng.randint(0, 30)) for _ in range(rng.randint(0, 12))]
    ours = retrieval_metrics(qs, ranked)
    ref_q = [{"id": q.id, "lang": q.lang, "kind": q.kind, "gold_lines": [list(g) for g in q.gold_lines]} for q in qs]
    ref_r = [{"id": k, "passages": [{"start_line": s, "end_line": e} for s, e in v]} for k, v in ranked.items()]
    theirs = ref.retrieval(ref_q, ref_r)
    for key, value in theirs.items():
        if key == "avg_lines_per_passage_top5":
            assert ours["avg_lines_top5"] == value
        else:
            assert ours[key] == value, key


def test_load_questions_reports_the_bad_line(tmp_path: Path) -> None:
    f = tmp_path / "q.jsonl"
    f.write_text(json.dumps({"id": "a", "question": "x"}) + "\n{not json}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"q.jsonl:2"):
        load_questions(f)


class _Answers:
    """Answers every question from the notes with the same cited line."""

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[StreamEvent]:
        yield StreamEvent("token", "`git ls-files` [1]")
        cite = Citation(1, "ops-notes.md", 42, 42, "git", "git ls-files | xargs wc -l")
        yield StreamEvent("done", answer=Answer("`git ls-files` [1]", [cite], True, question, "stub"))


def test_a_rate_with_nothing_to_count_is_none_not_zero() -> None:
    q = EvalQuestion("t1", "git 查看代码行数", "zh", "fact", [(42, 42)])
    raw = {"t1": {"must_contain": ["git ls-files"], "any_of": []}}
    summary, (row,) = run(_Answers(), [q], raw, {})
    assert row["ok"] and summary["answer_accuracy"] == 1.0 and summary["citation_hits"] == 1.0
    assert summary["refusal_on_unanswerable"] is None  # no unanswerable question: not a refusal rate of 0
    empty, _ = run(_Answers(), [], {}, {})
    assert empty["answer_accuracy"] is None and empty["false_refusal"] is None
