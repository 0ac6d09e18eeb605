"""Chunker contract: exact line ranges, full coverage, headings from real ATX headings only."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.chunker import Chunker, parse_structure, split_lines
from index.models import Chunk
from tests.conftest import NOTES

# ---------------------------------------------------------------- generated documents

_WORDS = ["kubectl", "pod", "节点", "集群管理", "配置文件", "slurm", "日志", "$HOME", "a=b", "数据库", "`x`", "**粗**"]
_text = st.lists(st.sampled_from(_WORDS), min_size=1, max_size=8).map(" ".join)
_blank = st.sampled_from(["", "", "", "   ", " \t"])  # whitespace-only lines are blank too
_line = st.one_of(
    st.tuples(st.integers(1, 6), st.lists(st.sampled_from(_WORDS), min_size=1, max_size=2).map(" ".join)).map(
        lambda t: "#" * t[0] + " " + t[1]
    ),
    st.sampled_from(["```", "```shell", "```", "~~~"]),
    st.sampled_from(["#comment", "#SBATCH -N 1", "#添加账户", "#", "---", "===", "> quote 引用", "- item 列表"]),
    _text.map(lambda s: "    " + s),
    _text.map(lambda s: "\t" + s),
    _blank,
    _text,
    _text,
)


@st.composite
def documents(draw: Any) -> tuple[str, list[str]]:
    """``(file text, the lines an editor shows)``; LF or CRLF, trailing newline or not."""
    lines = draw(st.lists(_line, min_size=1, max_size=60))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    trailing = draw(st.booleans())
    text = eol.join(lines) + (eol if trailing else "")
    if not trailing and lines[-1] == "":
        lines = lines[:-1]  # "a\n" + "" is just the one line "a"
    return text, lines


def check_contract(chunks: list[Chunk], lines: list[str]) -> None:
    owner: dict[int, int] = {}
    prev_end = 0
    for k, c in enumerate(chunks):
        assert 1 <= c.start_line <= c.end_line <= len(lines)
        assert c.start_line > prev_end, "chunks overlap or are out of order"
        prev_end = c.end_line
        assert c.text == "\n".join(lines[c.start_line - 1 : c.end_line])
        assert lines[c.start_line - 1].strip() and lines[c.end_line - 1].strip()
        assert c.content_hash == hashlib.sha256(c.embed_text.encode()).hexdigest()
        assert c.text in c.embed_text
        for n in range(c.start_line, c.end_line + 1):
            owner[n] = k
    for n, line in enumerate(lines, start=1):
        if line.strip():
            assert n in owner, f"non-blank line {n} {line!r} is in no chunk"
    assert len({c.id for c in chunks}) == len(chunks)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents(), max_tokens=st.sampled_from([40, 64, 128, 256]))
def test_chunks_cover_every_line_exactly(tokens: Any, doc: tuple[str, list[str]], max_tokens: int) -> None:
    text, lines = doc
    assert split_lines(text) == lines
    chunker = Chunker(tokens, max_tokens)
    chunks = chunker.chunk("notes/gen.md", text)
    check_contract(chunks, lines)
    assert chunker.chunk("notes/gen.md", text) == chunks  # deterministic ids and hashes
    other = chunker.chunk("notes/other.md", text)
    assert [c.content_hash for c in other] == [c.content_hash for c in chunks]
    assert not {c.id for c in other} & {c.id for c in chunks}
    # A heading line is the first line of its chunk, unless every line before it in the
    # chunk is an ancestor heading whose section is otherwise empty (folded into its child).
    heading_lines = {i + 1 for i in parse_structure(lines).headings}
    for c in chunks:
        inner = sorted(heading_lines & set(range(c.start_line + 1, c.end_line + 1)))
        for n in inner:
            before = [m for m in range(c.start_line, n) if lines[m - 1].strip()]
            assert all(m in heading_lines for m in before), (c.start_line, n)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=documents(), max_tokens=st.sampled_from([24, 40, 64, 128]))
def test_chunks_fit_budget_when_each_line_fits(tokens: Any, doc: tuple[str, list[str]], max_tokens: int) -> None:
    """The exact embedded text (heading path, whitespace-only lines, re-fence markers) fits;
    only a single line that cannot fit on its own may overflow, alone."""
    text, lines = doc
    chunks = Chunker(tokens, max_tokens).chunk("gen.md", text)
    for c in chunks:
        if tokens(c.embed_text) > max_tokens:
            assert c.start_line == c.end_line, (c.start_line, c.end_line, tokens(c.embed_text))


# ---------------------------------------------------------------- golden: notes/ops-notes.md

# `grep -n '^#' notes/ops-notes.md`, minus lines inside ``` fences and '#' lines with no space.
REAL_HEADINGS = [
    1, 7, 14, 20, 26, 49, 65, 97, 117, 132, 137, 145, 148, 157, 168, 190, 207, 211, 222, 231, 238,
    248, 255, 260, 266, 278, 297, 305, 316, 321, 331, 400, 406, 408, 413, 423, 433, 443, 461, 467,
    474, 475, 478, 499, 500, 507, 511, 518, 529, 535, 539, 546, 553, 564, 570, 587, 592, 610, 621,
    628, 629, 635, 639, 649, 655, 674, 728, 752, 996, 998, 1004, 1202, 1203, 1206, 1210, 1215, 1218,
    1222, 1226, 1235, 1247, 1263, 1325, 1327,
]  # fmt: skip

GOLDEN = {
    395: "kubernetes k8s > k8s部署",
    773: "slurm > slurm安装",
    **dict.fromkeys(range(741, 748), "slurm > 场景"),
    1116: "terraform > 通过terraform编排openstack",
    **dict.fromkeys((709, 712, 715, 719, 723), "slurm"),
    278: "kubernetes k8s > Secret",
    168: "kubernetes k8s > pod",
}


@pytest.fixture(scope="module")
def golden(tokens: Any) -> tuple[list[str], list[Chunk]]:
    text = NOTES.read_text(encoding="utf-8")
    return split_lines(text), Chunker(tokens, 256).chunk("ops-notes.md", text)


def _chunk_at(chunks: list[Chunk], line: int) -> Chunk:
    (hit,) = [c for c in chunks if c.start_line <= line <= c.end_line]
    return hit


def test_golden_file_shape(golden: tuple[list[str], list[Chunk]]) -> None:
    lines, chunks = golden
    assert len(lines) == 1348
    check_contract(chunks, lines)


def test_golden_headings_are_the_real_atx_headings(golden: tuple[list[str], list[Chunk]]) -> None:
    lines, _ = golden
    independent, in_fence = [], False
    for n, line in enumerate(lines, start=1):
        if line.startswith("```"):
            in_fence = not in_fence
        elif not in_fence and re.match(r"#{1,6}( |$)", line):
            independent.append(n)
    assert independent == REAL_HEADINGS
    assert sorted(i + 1 for i in parse_structure(lines).headings) == REAL_HEADINGS


@pytest.mark.parametrize("line", sorted(GOLDEN))
def test_golden_heading_path_of_line(golden: tuple[list[str], list[Chunk]], line: int) -> None:
    lines, chunks = golden
    assert lines[line - 1].startswith("#") or line == 168
    assert _chunk_at(chunks, line).heading == GOLDEN[line]


def test_golden_fake_headings_start_no_section(golden: tuple[list[str], list[Chunk]]) -> None:
    lines, chunks = golden
    real = parse_structure(lines).headings
    for line in (395, 773, 1116, *range(741, 748), 709, 712, 715, 719, 723):
        assert line - 1 not in real
        fake_title = lines[line - 1].lstrip("#").strip()
        heading = _chunk_at(chunks, line).heading
        assert heading == GOLDEN[line]
        assert fake_title not in heading.split(" > ")


def test_golden_empty_section_keeps_its_heading(golden: tuple[list[str], list[Chunk]]) -> None:
    lines, chunks = golden
    assert lines[206] == "### DaemonSet"
    assert _chunk_at(chunks, 207).heading.endswith("DaemonSet")


# ---------------------------------------------------------------- fences


def _big_fence_doc(n: int) -> tuple[str, int, int]:
    body = [f"echo 第{i}行 配置 node{i} --flag=value" for i in range(n)]
    lines = ["# 大代码块", "", "说明文字", "", "```bash", *body, "```", "", "结尾段落"]
    return "\n".join(lines) + "\n", 5, 5 + n + 1  # opener / closer, 1-based


def test_huge_fence_is_split_and_refenced(tokens: Any) -> None:
    text, opener, closer = _big_fence_doc(200)
    lines = split_lines(text)
    chunks = Chunker(tokens, 64).chunk("big.md", text)
    check_contract(chunks, lines)
    pieces = [c for c in chunks if opener <= c.start_line and c.end_line <= closer]
    assert len(pieces) >= 10
    assert pieces[0].start_line == opener and pieces[-1].end_line == closer
    for p in pieces:
        body = p.embed_text.removeprefix("大代码块\n")
        assert body.startswith("```")
        assert body.endswith("```")
        assert body.count("```bash") == 1
        assert p.text == "\n".join(lines[p.start_line - 1 : p.end_line])
        assert tokens(f"{p.heading}\n{p.text}") <= 64
    assert pieces[1].embed_text.startswith("大代码块\n```bash\necho")
    assert not pieces[0].embed_text.endswith("```\n```")


def test_refenced_pieces_fit_budget(tokens: Any, golden: tuple[list[str], list[Chunk]]) -> None:
    _, chunks = golden
    over = [("ops-notes.md", c.start_line, c.end_line, tokens(c.embed_text)) for c in chunks]
    text, _, _ = _big_fence_doc(200)
    big = Chunker(tokens, 64).chunk("big.md", text)
    over = [o for o in over if o[3] > 256]
    over += [("big.md", c.start_line, c.end_line, n) for c in big if (n := tokens(c.embed_text)) > 64]
    assert over == []  # heading-v1 embedded e.g. ("ops-notes.md", 936, 941, 258)


def test_whitespace_only_lines_count_against_budget(tokens: Any) -> None:
    lines = ["# 标题", "alpha beta gamma delta", *["  \t  "] * 8, "epsilon zeta eta theta"]
    chunks = Chunker(tokens, 20).chunk("ws.md", "\n".join(lines))
    check_contract(chunks, lines)
    assert [tokens(c.embed_text) for c in chunks if tokens(c.embed_text) > 20] == []  # heading-v1: [33]


def test_unclosed_fence_loses_nothing(tokens: Any) -> None:
    lines = ["# 标题", "", "正文", "", "```python", "x = 1", "", "# 不是标题", "y = 2", "", "", "z = 3"]
    text = "\r\n".join(lines)
    for max_tokens in (20, 256):
        chunks = Chunker(tokens, max_tokens).chunk("open.md", text)
        check_contract(chunks, lines)
        assert {c.heading for c in chunks} == {"标题"}
        assert chunks[-1].end_line == len(lines)
        assert chunks[-1].embed_text.endswith("z = 3\n```") or max_tokens == 256
