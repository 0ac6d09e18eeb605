"""The web adapter's pure parts (stream -> chat markdown, records) and the index panel's upload rules."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from assistant.settings import Settings
from assistant.types import Answer, Citation, Passage, StreamEvent, Turn
from assistant.web.adapter import (
    PENDING,
    StreamRenderer,
    answer_record,
    error_record,
    format_answer,
    history_of,
    messages_of,
    numbered,
    record_at,
)
from assistant.web.index_service import IndexService
from assistant.wiring import Components

CITE = Citation(1, "ops-notes.md", 193, 195, "kubernetes k8s > Deployment", "a\nkubectl scale deployment x --replicas=3\nc")
ANSWER = Answer("Use `kubectl scale` [1].", [CITE], True, "kubectl scale deployment", "local", notices=["context truncated"])
NEAREST = Passage("ops-notes.md", "git", 40, 42, "git ls-files\n| xargs wc -l\n", 0.2)
REFUSAL = Answer("This is not in your notes.\n- git (ops-notes.md:40-42)", [], False, "q", "extractive", nearest=[NEAREST])


class ScriptedAssistant:
    """A real ``Assistant``: yields scripted events and remembers what it was asked."""

    def __init__(self, events: list[StreamEvent]) -> None:
        self.events = events
        self.asked: list[tuple[str, tuple[Turn, ...]]] = []

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[StreamEvent]:
        self.asked.append((question, tuple(history)))
        yield from self.events

    def answer(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        done = [e.answer for e in self.stream(question, history) if e.kind == "done"]
        assert done[0] is not None
        return done[0]


def script(answer: Answer, *tokens: str) -> list[StreamEvent]:
    return [
        StreamEvent("searched", answer.searched_for),
        *(StreamEvent("token", t) for t in tokens),
        StreamEvent("done", answer=answer),
    ]


def render(assistant: ScriptedAssistant, question: str, history: Sequence[Turn] = ()) -> list[str]:
    r = StreamRenderer(follow_up=bool(history))
    return [r.feed(e) for e in assistant.stream(question, history)]


def test_numbered_lines_start_at_the_cited_line_and_align() -> None:
    assert numbered("a\nb", 9) == " 9 | a\n10 | b"
    assert numbered("x", 157) == "157 | x"


def test_tokens_stream_then_the_checked_answer_replaces_them() -> None:
    shown = render(ScriptedAssistant(script(ANSWER, "Use ", "`kubectl", " scale` [1] [7]")), "kubectl 怎么扩容 deployment？")
    assert shown[0] == PENDING  # a first question: the search query is not shown
    assert shown[1:3] == ["Use ", "Use `kubectl"]
    final = shown[-1]
    assert "[7]" not in final and final.startswith("Use `kubectl scale` [1].")
    assert "> ⚠️ context truncated" in final
    summary = re.search(r"<summary>(.*?)</summary>", final)
    assert summary is not None and "<code>ops-notes.md:193-195</code>" in summary.group(1)
    assert "kubernetes k8s &gt; Deployment" in summary.group(1)  # headings are escaped
    assert "194 | kubectl scale deployment x --replicas=3" in final


def test_follow_ups_show_what_was_searched_for() -> None:
    history = [Turn("user", "how to scale?"), Turn("assistant", "kubectl scale [1]")]
    shown = render(ScriptedAssistant(script(ANSWER, "Use")), "and the replicas?", history)
    assert shown[0] == "_searched for: kubectl scale deployment_\n\n" + PENDING
    assert shown[1].endswith("Use") and shown[-1].startswith("_searched for: kubectl scale deployment_")


def test_not_grounded_answers_show_the_nearest_sections() -> None:
    md = format_answer(REFUSAL)
    assert md.startswith("This is not in your notes.")
    assert "**Nearest sections**" in md and "<code>ops-notes.md:40-42</code>" in md
    assert "41 | | xargs wc -l" in md and "**Sources**" not in md


def test_cited_text_cannot_break_out_of_its_code_block() -> None:
    tricky = Citation(1, "a.md", 1, 3, "h", "```\n<script>x</script>\n````")
    md = format_answer(Answer("t [1]", [tricky], True, "q", "extractive"))
    assert "`````text\n1 | ```" in md and md.rstrip().endswith("`````\n\n</details>")


def test_api_markdown_lists_sources_without_html() -> None:
    md = format_answer(ANSWER, details=False)
    assert "<details>" not in md and "- [1] `ops-notes.md:193-195` kubernetes k8s > Deployment" in md


def test_records_drive_history_messages_and_votes() -> None:
    first = answer_record("q1", [], ANSWER, "md1")
    failed = error_record("q2", "the index has not been built yet")
    third = answer_record("q3", history_of([first]), REFUSAL, "md3")
    records = [first, failed, third]
    assert history_of(records) == [
        Turn("user", "q1"),
        Turn("assistant", ANSWER.text),
        Turn("user", "q3"),
        Turn("assistant", REFUSAL.text),
    ]
    assert third["history"] == [{"role": "user", "content": "q1"}, {"role": "assistant", "content": ANSWER.text}]
    assert first["citations"] == [
        {"n": 1, "source": "ops-notes.md", "start_line": 193, "end_line": 195, "heading": "kubernetes k8s > Deployment"}
    ]
    msgs = messages_of(records, ("q4", PENDING))
    assert [m["role"] for m in msgs] == ["user", "assistant"] * 4 and msgs[-1]["content"] == PENDING
    assert record_at(records, 1) is first and record_at(records, 5) is third
    assert record_at(records, 0) is None and record_at(records, 3) is None and record_at(records, 9) is None


# -- uploads into the notes dir -----------------------------------------------------------------
@pytest.fixture
def service(tmp_path: Path) -> IndexService:
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "ops.md").write_text("# ops\nkubectl get pods\n", encoding="utf-8")
    return IndexService(Components(Settings(notes_dir=notes, index_dir=tmp_path / "index", max_file_mb=0.001)))


def upload(tmp_path: Path, name: str, data: bytes) -> Path:
    src = tmp_path / "upload" / name
    src.parent.mkdir(exist_ok=True)
    src.write_bytes(data)
    return src


def test_upload_is_saved_and_a_taken_name_gets_a_suffix(service: IndexService, tmp_path: Path) -> None:
    notes = service.components.settings.notes_dir
    assert service.save_upload(upload(tmp_path, "new.md", b"# new\n"), "new.md") == (True, "new.md: saved")
    saved, msg = service.save_upload(upload(tmp_path, "ops.md", b"# other\n"), "ops.md")
    assert saved and "saved as ops-1.md" in msg and "nothing was overwritten" in msg
    assert (notes / "ops.md").read_text(encoding="utf-8") == "# ops\nkubectl get pods\n"
    assert (notes / "ops-1.md").read_bytes() == b"# other\n"
    saved, msg = service.save_upload(upload(tmp_path, "ops.md", b"# other\n"), "ops.md")  # same bytes again
    assert not saved and "already in your notes as ops-1.md" in msg
    saved, msg = service.save_upload(upload(tmp_path, "x.md", "# 笔记\n".encode("gb18030")), "../../x.md")
    assert saved and (notes / "x.md").exists() and not (tmp_path / "x.md").exists()


def test_identical_upload_is_not_saved_twice(service: IndexService, tmp_path: Path) -> None:
    saved, msg = service.save_upload(upload(tmp_path, "ops.md", b"# ops\nkubectl get pods\n"), "ops.md")
    assert not saved and "identical" in msg
    assert sorted(p.name for p in service.components.settings.notes_dir.iterdir()) == ["ops.md"]


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("image.png", b"\x89PNG", "not a notes file"),
        ("big.md", b"x" * 2000, "too large"),
        ("blank.txt", b"  \n", "empty file"),
        ("bin.md", b"\x00\x01\x02binary", "binary file"),
        (".hidden.md", b"# h\n", "not a usable file name"),
    ],
)
def test_invalid_uploads_are_refused_with_a_reason(
    service: IndexService, tmp_path: Path, name: str, data: bytes, reason: str
) -> None:
    saved, msg = service.save_upload(upload(tmp_path, "f", data), name)
    assert not saved and reason in msg
    assert sorted(p.name for p in service.components.settings.notes_dir.iterdir()) == ["ops.md"]


def test_reindex_runs_in_the_background_while_answers_keep_coming(tmp_path: Path) -> None:
    from assistant.web.index_service import status_markdown
    from tests.conftest import CountingEmbedder

    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "k8s.md").write_text("# k8s\n\n## scale\nkubectl scale deployment web --replicas=3\n", encoding="utf-8")
    comp = Components(Settings(notes_dir=notes, index_dir=tmp_path / "index", llm_backend="extractive"))
    comp.embedder = CountingEmbedder()  # type: ignore[misc]
    service = IndexService(comp)
    service.sync_now()
    (notes / "more.md").write_text("# more\nsystemctl restart kube-apiserver\n", encoding="utf-8")
    with comp.write_lock():  # another writer holds the index: the re-index waits in its thread
        assert service.start_sync() and not service.start_sync()
        assert service.status().syncing and "re-indexing" in status_markdown(service.status())
        answer = comp.assistant.answer("kubectl scale deployment")
        c = answer.citations[0]
        assert answer.grounded and c.source == "k8s.md" and c.start_line <= 4 <= c.end_line
    service.wait(60)
    status = service.status()
    assert not status.syncing and status.message.startswith("synced: 1 chunks added")
    assert (status.files, status.chunks, status.embedder, status.backend) == (2, 2, "counting-fake", "extractive")
