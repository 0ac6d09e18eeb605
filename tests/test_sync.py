"""Incremental sync: embeds only what changed, never loses or mixes anything, never writes notes."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.settings import Settings
from index.chunker import CHUNKER_VERSION, Chunker, split_lines
from index.models import FileStatus, SyncReport
from index.store import NoteStore, make_client
from index.sync import NotesDirError, Syncer
from tests.conftest import NOTES, CountingEmbedder, file_digests, write_notes

DOC = "# 运维\n\n总览文字。\n\n## 磁盘\n\ndf -h 查看磁盘。\n\n## 网络\n\nip addr 查看网卡。\n"
OTHER = "# 其他\n\n另一个文件的内容。\n"
DEFAULT_MAX = Settings().max_file_bytes


@dataclass
class Env:
    notes: Path
    store: NoteStore
    syncer: Syncer
    emb: CountingEmbedder
    chunker: Chunker

    def sync(self) -> SyncReport:
        return self.syncer.sync(self.notes)

    def stored(self, source: str | None = None) -> list[tuple[str, int, int, str, str]]:
        rows = [r.chunk for r in self.store.records() if source is None or r.chunk.source == source]
        return sorted((c.source, c.start_line, c.end_line, c.heading, c.text) for c in rows)

    def expected(self, source: str) -> list[tuple[str, int, int, str, str]]:
        text = (self.notes / source).read_text(encoding="utf-8")
        return sorted((c.source, c.start_line, c.end_line, c.heading, c.text) for c in self.chunker.chunk(source, text))


def make_env(tmp_path: Path, tokens: Any, emb: Any, client: Any = None, collection: str = "notes") -> Env:
    index_dir = tmp_path / f"index-{collection}"
    client = client if client is not None else make_client(index_dir, "")
    store = NoteStore(client, collection, emb, CHUNKER_VERSION)
    chunker = Chunker(tokens, 256)
    syncer = Syncer(store, chunker, DEFAULT_MAX, index_dir / f"lexical-{emb.name}")
    return Env(tmp_path / "notes", store, syncer, emb, chunker)


@pytest.fixture
def env(tmp_path: Path, tokens: Any) -> Env:
    e = make_env(tmp_path, tokens, CountingEmbedder())
    write_notes(e.notes, {"ops.md": DOC})
    return e


def status(report: SyncReport) -> dict[str, tuple[FileStatus, str]]:
    return {f.source: (f.status, f.reason) for f in report.files}


def test_unchanged_file_computes_no_embeddings(env: Env) -> None:
    first = env.sync()
    assert (first.added, first.embedded, env.emb.embedded) == (3, 3, 3)
    assert env.stored() == env.expected("ops.md")
    before = env.store.records()
    second = env.sync()
    assert (second.added, second.updated, second.removed, second.embedded) == (0, 0, 0, 0)
    assert not second.changed and env.emb.embedded == 3
    assert status(second) == {"ops.md": (FileStatus.UNCHANGED, "")}
    assert sorted(env.store.records(), key=repr) == sorted(before, key=repr)


def test_editing_one_section_reembeds_only_it(env: Env) -> None:
    env.sync()
    old_ids = {r.chunk.heading: r.chunk.id for r in env.store.records()}
    (env.notes / "ops.md").write_text(DOC.replace("df -h 查看磁盘。", "df -h 和 du -sh 查看磁盘。"), "utf-8")
    report = env.sync()
    assert (report.embedded, env.emb.embedded) == (1, 4)
    assert (report.added, report.removed) == (1, 1)
    new_ids = {r.chunk.heading: r.chunk.id for r in env.store.records()}
    assert [h for h in new_ids if new_ids[h] != old_ids[h]] == ["运维 > 磁盘"]
    assert env.stored() == env.expected("ops.md")


@pytest.mark.parametrize(("insert", "embeddings"), [("\n\n\n", 0), ("# 新增\n\n新的一段。\n\n", 1)], ids=["blank", "section"])
def test_inserting_lines_above_shifts_ranges(env: Env, insert: str, embeddings: int) -> None:
    env.sync()
    (env.notes / "ops.md").write_text(insert + DOC.replace("## 网络", "\n\n## 网络"), "utf-8")
    report = env.sync()
    assert (report.embedded, env.emb.embedded) == (embeddings, 3 + embeddings)
    assert (report.added, report.updated, report.removed) == (embeddings, 3, 0)
    assert env.stored() == env.expected("ops.md")
    lines = split_lines((env.notes / "ops.md").read_text("utf-8"))
    for _, start, end, _, text in env.stored():
        assert text == "\n".join(lines[start - 1 : end])
    assert [row[1] for row in env.stored("ops.md")][-1] == lines.index("## 网络") + 1


def test_deleted_file_leaves_no_chunks(env: Env) -> None:
    write_notes(env.notes, {"other.md": OTHER})
    env.sync()
    assert env.stored("other.md")
    (env.notes / "other.md").unlink()
    report = env.sync()
    assert env.stored("other.md") == []
    assert status(report)["other.md"][0] is FileStatus.REMOVED
    assert (report.removed, report.embedded) == (1, 0)
    assert env.stored() == env.expected("ops.md")


def test_renamed_file_computes_no_new_embeddings(env: Env) -> None:
    env.sync()
    old = {r.chunk.content_hash: r.chunk.id for r in env.store.records()}
    (env.notes / "sub").mkdir()
    (env.notes / "ops.md").rename(env.notes / "sub" / "renamed.md")
    report = env.sync()
    assert (report.embedded, env.emb.embedded) == (0, 3)
    assert {r.chunk.source for r in env.store.records()} == {"sub/renamed.md"}
    assert env.stored() == env.expected("sub/renamed.md")
    assert status(report)["ops.md"][0] is FileStatus.REMOVED
    new = {r.chunk.id: r.chunk for r in env.store.records()}
    assert env.store.vectors(list(old.values())) == {}  # old ids are gone ...
    assert {c.content_hash for c in new.values()} == set(old)
    for cid, vec in env.store.vectors(list(new)).items():  # ... the reused vectors are the embedder's own
        np.testing.assert_allclose(vec, env.emb.embed_query(new[cid].embed_text), atol=1e-6)


def test_binary_and_empty_files_are_skipped_and_nothing_else_lost(env: Env) -> None:
    write_notes(env.notes, {"gbk.md": "# 中文\n\n" + "用国标编码写的笔记内容。" * 20 + "\n"})
    (env.notes / "gbk.md").write_bytes((env.notes / "gbk.md").read_text("utf-8").encode("gbk"))
    env.sync()
    write_notes(env.notes, {"pic.md": b"\x89PNG\r\n\x1a\n\x00\x00IHDR" + bytes(300), "empty.md": b""})
    report = env.sync()
    st = status(report)
    assert st["pic.md"][0] is FileStatus.SKIPPED and "binary" in st["pic.md"][1]
    assert st["empty.md"][0] is FileStatus.SKIPPED and "empty" in st["empty.md"][1]
    assert st["ops.md"][0] is FileStatus.UNCHANGED and st["gbk.md"][0] is FileStatus.UNCHANGED
    assert {r.chunk.source for r in env.store.records()} == {"ops.md", "gbk.md"}
    assert env.stored("ops.md") == env.expected("ops.md")
    assert report.total_chunks == env.store.count() == 3 + len(env.stored("gbk.md"))


def test_gbk_file_is_indexed_with_a_note(env: Env) -> None:
    (env.notes / "gbk.md").write_bytes(("# 中文笔记\n\n" + "国标编码的中文内容，用于测试。" * 20).encode("gbk"))
    st = status(env.sync())
    assert st["gbk.md"][0] is FileStatus.INDEXED and "gb" in st["gbk.md"][1].lower()
    assert {c[3] for c in env.stored("gbk.md")} == {"中文笔记"}
    assert env.stored("gbk.md") == sorted(
        ("gbk.md", c.start_line, c.end_line, c.heading, c.text)
        for c in env.chunker.chunk("gbk.md", (env.notes / "gbk.md").read_bytes().decode("gbk"))
    )


def test_twenty_megabyte_file_is_refused(env: Env) -> None:
    assert DEFAULT_MAX == 5_000_000
    line = "# 大文件\n" + "这是一个非常大的笔记文件的一行内容 big note line\n" * 10
    with (env.notes / "huge.md").open("w", encoding="utf-8") as fh:
        while fh.tell() < 20_000_000:
            fh.write(line * 500)
    report = env.sync()
    reason = status(report)["huge.md"]
    assert reason[0] is FileStatus.SKIPPED and "too large" in reason[1]
    assert env.stored("huge.md") == [] and env.emb.embedded == 3


def test_missing_notes_dir_raises(tmp_path: Path, tokens: Any) -> None:
    e = make_env(tmp_path, tokens, CountingEmbedder())
    with pytest.raises(NotesDirError, match="does not exist"):
        e.sync()
    (tmp_path / "notes").write_text("a file, not a dir")
    with pytest.raises(NotesDirError):
        e.sync()


def test_changing_the_embedder_rebuilds_without_mixing(env: Env, tmp_path: Path, tokens: Any) -> None:
    write_notes(env.notes, {"other.md": OTHER})
    env.sync()
    other = make_env(tmp_path, tokens, CountingEmbedder("fake-b", 32), client=env.store.client)
    report = other.sync()
    assert "rebuilding" in report.rebuilt_reason and "fake-b" in report.rebuilt_reason
    assert (report.embedded, other.emb.embedded, env.emb.embedded) == (4, 4, 4)
    recs = other.store.records()
    vecs = other.store.vectors([r.chunk.id for r in recs])
    assert len(vecs) == len(recs) == 4
    for r in recs:
        np.testing.assert_allclose(vecs[r.chunk.id], other.emb.embed_query(r.chunk.embed_text), atol=1e-6)
    again = other.sync()
    assert (again.rebuilt_reason, again.embedded) == ("", 0)
    bumped = NoteStore(env.store.client, "notes", other.emb, CHUNKER_VERSION + "-next")
    syncer = Syncer(bumped, other.chunker, DEFAULT_MAX, tmp_path / "lexical-bumped")
    assert "rebuilding" in syncer.sync(env.notes).rebuilt_reason


def test_suffixes(env: Env) -> None:
    write_notes(env.notes, {"t.txt": "纯文本笔记\n", "m.markdown": "# M\n\nx\n", "n.rst": "Title\n=====\n"})
    write_notes(env.notes, {"o.org": "* heading\n", "p.png": b"\x89PNG\x00"})
    st = status(env.sync())
    assert {s for s, (k, _) in st.items() if k is FileStatus.INDEXED} == {"ops.md", "t.txt", "m.markdown"}
    for name in ("n.rst", "o.org", "p.png"):
        assert st[name][0] is FileStatus.SKIPPED and "not a notes file" in st[name][1]
    assert env.stored("t.txt") == [("t.txt", 1, 1, "", "纯文本笔记")]


def test_notes_are_never_written(env: Env) -> None:
    write_notes(env.notes, {"crlf.md": "# A\r\n\r\nb\r\n", "bin.md": b"\x00\x01", "sub/x.txt": "x\n"})
    (env.notes / "gbk.md").write_bytes(("# 国标\n\n" + "中文内容。" * 50).encode("gbk"))
    before = file_digests(env.notes)
    mtimes = {p: p.stat().st_mtime_ns for p in env.notes.rglob("*")}
    env.sync()
    (env.notes / "ops.md").write_text(DOC + "\n追加一行。\n", "utf-8")
    before["ops.md"] = file_digests(env.notes)["ops.md"]
    mtimes[env.notes / "ops.md"] = (env.notes / "ops.md").stat().st_mtime_ns
    env.sync()
    assert file_digests(env.notes) == before
    assert {p: p.stat().st_mtime_ns for p in env.notes.rglob("*")} == mtimes


@pytest.fixture(scope="module")
def use_env(tmp_path_factory: pytest.TempPathFactory, tokens: Any, use_embedder: Any) -> tuple[Env, SyncReport]:
    """The bundled notes indexed once with the real USE model (about a minute on 2 cores)."""
    e = make_env(tmp_path_factory.mktemp("use"), tokens, use_embedder)
    e.notes.mkdir()
    shutil.copyfile(NOTES, e.notes / "ops-notes.md")
    return e, e.sync()


def test_real_use_embedder_indexes_bundled_notes(use_env: tuple[Env, SyncReport]) -> None:
    e, report = use_env
    chunks = e.chunker.chunk("ops-notes.md", NOTES.read_text("utf-8"))
    assert status(report) == {"ops-notes.md": (FileStatus.INDEXED, "")}
    assert report.embedded == report.total_chunks == e.store.count() == len(chunks) > 100
    assert e.stored() == e.expected("ops-notes.md")
    assert e.syncer.sync(e.notes).embedded == 0
    hits = e.store.query(e.emb.embed_query("kubectl describe pod"), 5)
    assert "kubernetes k8s > pod" in [h.chunk.heading for h in hits]
    assert all(-1.0 <= h.score <= 1.0 + 1e-6 for h in hits)
    assert hits == sorted(hits, key=lambda h: -h.score)


def test_real_use_dense_query_finds_pod_section_in_top3(use_env: tuple[Env, SyncReport]) -> None:
    e, _ = use_env
    hits = e.store.query(e.emb.embed_query("kubectl describe pod"), 3)
    # today: ['kubernetes k8s' (line 145 alone), 'kubernetes k8s > k8s部署', 'kubernetes k8s > CLI']
    assert "kubernetes k8s > pod" in [h.chunk.heading for h in hits]
