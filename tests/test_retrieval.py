"""Hybrid retrieval on the bundled notes, with the real USE model and Chroma."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.retrieval import WIDE_LINES, Candidate, HybridRetriever
from assistant.search import MAX_QUERY_TOKENS, QueryError, Searcher, condense
from assistant.settings import load_settings
from assistant.types import Turn
from assistant.wiring import Components
from index.lexical import LexicalIndex, expand, tokenize
from index.store import StoreError

ROOT = Path(__file__).resolve().parent.parent
LINES = (ROOT / "notes" / "ops-notes.md").read_text(encoding="utf-8").split("\n")


@pytest.fixture(scope="module")
def comp(tmp_path_factory: pytest.TempPathFactory) -> Components:
    base = tmp_path_factory.mktemp("retrieval")
    shutil.copytree(ROOT / "notes", base / "notes")
    overrides = {"notes_dir": base / "notes", "index_dir": base / "index", "chroma_url": "", "embedder": "use"}
    c = Components(load_settings(environ={}, overrides=overrides))
    with c.write_lock():
        c.syncer.sync(c.settings.notes_dir)
    return c


@pytest.mark.parametrize("token", ["kubectl", "--replicas=3", "/etc/slurm/slurm.conf", "ctrl+k", "10.50.114.157/32", "minjobage"])
def test_tokenizer_keeps_technical_tokens_whole(token: str) -> None:
    text = "用 kubectl scale --replicas=3，看 /etc/slurm/slurm.conf 的 MinJobAge；ctrl+k；ip 10.50.114.157/32"
    assert token in tokenize(text)


def test_tokenizer_segments_chinese_and_drops_stopwords() -> None:
    toks = tokenize("怎么查看网卡的配置信息")
    assert "网卡" in toks and "配置" in toks
    assert "怎么" not in toks and "的" not in toks


def test_glossary_bridges_languages_both_ways() -> None:
    assert "容器" in expand(tokenize("list all containers"))
    assert "container" in expand(tokenize("查看所有容器"))


def test_lexical_index_round_trips(tmp_path: Path) -> None:
    idx = LexicalIndex.build([("a", "kubectl scale --replicas=3"), ("b", "slurm MinJobAge=300")])
    idx.save(tmp_path / "lex")
    again = LexicalIndex.load(tmp_path / "lex")
    assert list(again.scores("MinJobAge", 5)) == ["b"]
    assert list(again.scores("--replicas=3", 5)) == ["a"]
    assert again.scores("nothing-matches-this", 5) == {}


def lines_of(source_text: str, start: int, end: int) -> str:
    return "\n".join(LINES[start - 1 : end])


@pytest.mark.parametrize(
    ("question", "gold"),
    [
        ("kubectl scale", (190, 202)),
        ("ctrl+w 是什么快捷键", (1, 4)),
        ("curl --connect-timeout", (10, 10)),
        ("my local branch list still shows branches that were deleted on the server", (39, 40)),
        ("how do I restart kube-apiserver after changing its config?", (157, 165)),
    ],
)
def test_finds_the_right_lines(comp: Components, question: str, gold: tuple[int, int]) -> None:
    passages = comp.searcher.search(question, k=5).passages
    assert any(p.start_line <= gold[1] and gold[0] <= p.end_line for p in passages), [p.ref for p in passages]


def test_passage_text_is_exactly_the_source_lines(comp: Components) -> None:
    exact = Searcher(comp.retriever, comp.tokens, redactor=None)  # the CLI's --show-secrets
    for q in ("slurm.conf 配置项", "volcano vcjob plugins", "swap 机制", "kubectl create secret"):
        for p in exact.search(q, k=10).passages:
            assert p.text == lines_of("", p.start_line, p.end_line)
            assert p.source == "ops-notes.md"


def test_passages_are_redacted_by_default(comp: Components) -> None:
    ps = comp.searcher.search("kubectl create secret generic --from-literal", k=10).passages
    secret = next(p for p in ps if p.start_line <= 280 <= p.end_line)
    assert "--from-literal=password=[redacted]" in secret.text
    assert "123456" not in secret.text


def test_merged_passages_do_not_overlap(comp: Components) -> None:
    ps = comp.searcher.search("slurm.conf 里 JobCompType 都能选哪些", k=10).passages
    spans = sorted((p.start_line, p.end_line) for p in ps)
    assert all(a[1] < b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_multi_section_question_surfaces_both(comp: Components) -> None:
    ps = comp.searcher.search("how do I look at a NIC's config and its traffic stats?", k=5).passages
    assert any(p.start_line <= 53 <= p.end_line for p in ps)
    assert any(p.start_line <= 438 <= p.end_line for p in ps)


def test_followup_uses_history(comp: Components) -> None:
    history = [Turn("user", "pdsh 怎么在多台机器上执行命令"), Turn("assistant", "用 pdsh -w ...")]
    assert condense("那怎么把文件推过去", history).startswith("pdsh")
    ps = comp.searcher.search("and to push a file to all of them?", history, k=5).passages
    assert any(p.start_line <= 641 <= p.end_line for p in ps)


@pytest.mark.parametrize("question", ["", "   ", "？？！...", "\x00\x07\x1b"])
def test_empty_or_punctuation_question_is_refused(comp: Components, question: str) -> None:
    with pytest.raises(QueryError, match="empty"):
        comp.searcher.search(question)


@pytest.mark.parametrize("k", [0, -1, 51])
def test_bad_k_is_refused(comp: Components, k: int) -> None:
    with pytest.raises(QueryError, match="k must be"):
        comp.searcher.search("kubectl", k=k)


def test_huge_question_is_truncated_with_a_notice(comp: Components) -> None:
    res = comp.searcher.search("kubectl describe pod " * 20_000, k=3)
    assert res.notices and "first" in res.notices[0]
    assert comp.tokens(res.query) <= MAX_QUERY_TOKENS + 1
    assert res.passages


def test_control_characters_and_mixed_scripts(comp: Components) -> None:
    res = comp.searcher.search("kubectl\x00 describe\x1b pod 详细信息 Подробно", k=3)
    assert "\x00" not in res.query and "\x1b" not in res.query
    assert any(p.start_line <= 176 <= p.end_line for p in res.passages)


class Reverse:
    def rerank(self, query: str, candidates: list[Candidate]) -> list[Candidate]:
        return list(reversed(candidates))


def test_reranker_seam_changes_the_order(comp: Components) -> None:
    plain = comp.retriever
    rev = HybridRetriever(store=plain.store, embedder=plain.embedder, corpus=plain.corpus, reranker=Reverse())
    a = Searcher(plain, comp.tokens).search("kubectl scale", k=50).passages
    b = Searcher(rev, comp.tokens).search("kubectl scale", k=50).passages
    assert a[0].ref != b[0].ref


def test_lexical_index_is_not_rebuilt_per_query(comp: Components) -> None:
    marker = comp.lexical_dir / "ids.json"
    before = marker.stat().st_mtime_ns
    first = comp.retriever.corpus()
    for q in ("kubectl", "slurm", "nginx"):
        comp.searcher.search(q)
    assert comp.retriever.corpus() is first
    assert marker.stat().st_mtime_ns == before


def test_never_built_index_says_how_to_build(tmp_path: Path) -> None:
    overrides = {"notes_dir": tmp_path, "index_dir": tmp_path / "none", "chroma_url": "", "embedder": "use"}
    c = Components(load_settings(environ={}, overrides=overrides))
    with pytest.raises(StoreError, match="notes-assistant index"):
        c.searcher.search("kubectl")


def test_widen_adds_each_neighbouring_chunk_once_with_exact_text(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    notes.mkdir()
    body = "\n".join(f"option_{i} = {i}    # setting number {i} of the long list" for i in range(120))
    (notes / "conf.md").write_text("# conf\n" + body + "\n", encoding="utf-8")
    c = Components(load_settings(environ={}, overrides={"notes_dir": notes, "index_dir": tmp_path / "ix", "chroma_url": ""}))
    with c.write_lock():
        c.syncer.sync(notes)
    ranked = c.retriever.merge(c.retriever.candidates("option_60"))
    assert len(c.retriever.corpus().sequence) >= 4  # the section spans several chunks
    top = ranked[:3]
    wide = c.retriever.widen(top)
    lines = (notes / "conf.md").read_text(encoding="utf-8").split("\n")
    spans = [set(range(w.chunk.start_line, w.chunk.end_line + 1)) for w in wide]
    for w in wide:  # exact text
        assert w.chunk.text == "\n".join(lines[w.chunk.start_line - 1 : w.chunk.end_line])
    for i, a in enumerate(spans):  # a neighbour joins one passage only; touching ones become one (up to a cap)
        for b in spans[i + 1 :]:
            touching = min(b) == max(a) + 1 or min(a) == max(b) + 1
            assert not a & b and (not touching or len(a) + len(b) > WIDE_LINES)
    assert len(wide) <= len(top)
    for t in top:  # every retrieved line is still there, with context around it
        assert any(t.chunk.start_line in sp and t.chunk.end_line in sp for sp in spans)
    assert sum(map(len, spans)) > sum(t.chunk.end_line - t.chunk.start_line + 1 for t in top)
