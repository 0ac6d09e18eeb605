"""Work a sync avoids: one embedding per new content, tokens reused across lexical rebuilds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from index.lexical import LexicalIndex
from tests.conftest import CountingEmbedder, write_notes
from tests.test_sync import DOC, make_env


def test_identical_new_files_are_embedded_once(tmp_path: Path, tokens: Any) -> None:
    env = make_env(tmp_path, tokens, CountingEmbedder())
    write_notes(env.notes, {"a.md": DOC, "b.md": DOC, "c.md": DOC})
    report = env.syncer.sync(env.notes)
    per_file = len(env.chunker.chunk("a.md", DOC))
    assert report.added == 3 * per_file
    assert report.embedded == per_file == env.emb.embedded


def test_lexical_rebuild_reuses_tokens_of_unchanged_text(tmp_path: Path, tokens: Any, monkeypatch: Any) -> None:
    env = make_env(tmp_path, tokens, CountingEmbedder())
    write_notes(env.notes, {"a.md": DOC})
    env.syncer.sync(env.notes)
    seen: list[str] = []
    import index.lexical as lexical

    real = lexical.tokenize
    monkeypatch.setattr(lexical, "tokenize", lambda text: seen.append(text) or real(text))
    write_notes(env.notes, {"b.md": "# 新笔记\nkubectl rollout restart deployment web\n"})
    env.syncer.sync(env.notes)
    assert len(seen) == 1 and "rollout" in seen[0]
    assert LexicalIndex.known_tokens(env.syncer.lexical_dir)
