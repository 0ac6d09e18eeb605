"""Split a note into heading sections with exact 1-based line ranges.

A real CommonMark parser (markdown-it-py) decides what is a heading and what is
a fenced block, so ``# comment`` lines inside fences, ``#SBATCH`` and
``#no-space`` lines are never headings. Only ATX headings start sections.

Each section becomes one chunk when it fits ``max_tokens``; otherwise it is cut
at paragraph or line boundaries outside fences. A fence that is itself too big
is cut at line boundaries and each piece is re-fenced in the embedded text
only: ``Chunk.text`` is always the exact source lines.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from index.models import Chunk

CHUNKER_VERSION = "heading-v3"
HEADING_SEP = " > "


@dataclass(frozen=True)
class Fence:
    start: int  # 0-based first line (the opening fence)
    end: int  # 0-based exclusive
    info: str
    closed: bool


@dataclass(frozen=True)
class Structure:
    headings: dict[int, tuple[int, str]]  # 0-based line -> (level, title)
    fences: list[Fence]


def split_lines(text: str) -> list[str]:
    """Lines as an editor numbers them: split on LF only, CR of CRLF dropped."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]


def parse_structure(lines: list[str]) -> Structure:
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").parse("\n".join(lines))
    headings: dict[int, tuple[int, str]] = {}
    fences: list[Fence] = []
    for i, tok in enumerate(tokens):
        if tok.map is None:
            continue
        if tok.type == "heading_open" and tok.markup.startswith("#"):
            title = tokens[i + 1].content.strip() if i + 1 < len(tokens) else ""
            headings[tok.map[0]] = (int(tok.tag[1]), title)
        elif tok.type in ("fence", "code_block"):
            start, end = tok.map
            last = lines[end - 1].strip() if end - 1 > start else ""
            closed = tok.type == "code_block" or (
                bool(tok.markup) and last.startswith(tok.markup) and set(last) <= set(tok.markup[0])
            )
            fences.append(Fence(start, end, tok.info.strip() if tok.type == "fence" else "", closed))
    return Structure(headings, fences)


def _sections(lines: list[str], st: Structure) -> list[tuple[int, int, str]]:
    """``(start, end_exclusive, heading_path)`` for each section, 0-based."""
    starts = sorted(st.headings)
    bounds = ([0] if not starts or starts[0] != 0 else []) + starts + [len(lines)]
    stack: list[tuple[int, str]] = []
    out = []
    for a, b in zip(bounds, bounds[1:], strict=False):
        if a in st.headings:
            level, title = st.headings[a]
            stack = [(lv, t) for lv, t in stack if lv < level] + [(level, title)]
        out.append((a, b, HEADING_SEP.join(t for _, t in stack)))
    return out


Unit = tuple[int, int, "Fence | None"]  # 0-based [start, end) and the fence it cuts, if any


def _units(lines: list[str], a: int, b: int, fences: list[Fence]) -> list[Unit]:
    """Atomic pieces of a section: whole fences and blank-separated paragraphs."""
    units: list[Unit] = []
    i = a
    by_start = {f.start: f for f in fences}
    while i < b:
        if i in by_start:
            f = by_start[i]
            units.append((i, min(f.end, b), f))
            i = min(f.end, b)
        elif not lines[i].strip():
            i += 1
        else:
            j = i
            while j < b and lines[j].strip() and j not in by_start:
                j += 1
            units.append((i, j, None))
            i = j
    return units


def _embed_text(lines: list[str], s: int, e: int, heading: str, fence: Fence | None) -> str:
    """What gets embedded: heading path + the lines, a cut fence piece re-fenced."""
    body = "\n".join(lines[s:e])
    if fence is not None and (s > fence.start or e < fence.end):
        opener = "" if s == fence.start else f"```{fence.info}\n"
        closer = "" if (e == fence.end and fence.closed) else "\n```"
        body = f"{opener}{body}{closer}"
    return f"{heading}\n{body}" if heading else body


class Chunker:
    """Turns one decoded note into chunks; ``count_tokens`` is injected (tiktoken)."""

    def __init__(self, count_tokens: Callable[[str], int], max_tokens: int) -> None:
        self.count = count_tokens
        self.max_tokens = max_tokens

    def chunk(self, source: str, text: str) -> list[Chunk]:
        lines = split_lines(text)
        st = parse_structure(lines)
        pieces: list[tuple[int, int, str, Fence | None]] = []
        parent: tuple[int, str] | None = None  # a heading-only section waiting for its first child
        for a, b, heading in _sections(lines, st):
            units = _units(lines, a, b, st.fences)
            if parent is not None and heading.startswith(parent[1] + HEADING_SEP):
                # "# kubernetes k8s" alone is no passage: its line joins the child's first chunk,
                # whose heading path already names it.
                units = [(parent[0], parent[0] + 1, None), *units]
            elif parent is not None:
                pieces.append((parent[0], parent[0] + 1, parent[1], None))
            parent = None
            if a in st.headings and len(units) == 1 and units[0][:2] == (a, a + 1):
                parent = (a, heading)
                continue
            for s, e, fence in self._pack(lines, units, heading):
                pieces.append((s, e, heading, fence))
        if parent is not None:
            pieces.append((parent[0], parent[0] + 1, parent[1], None))
        return self._to_chunks(source, lines, pieces)

    def _pack(self, lines: list[str], units: list[Unit], heading: str) -> list[Unit]:
        """Greedily merge units while the embedded text fits; oversize units are cut by line.

        Fit is measured on the exact text that gets embedded (heading path,
        blank and whitespace-only lines, re-fence markers included).
        """
        out: list[Unit] = []
        cur: tuple[int, int] | None = None
        for s, e, fence in units:
            if cur and self._fits(lines, cur[0], e, heading, None):
                cur = (cur[0], e)
                continue
            if cur:
                out.append((*cur, None))
                cur = None
            if self._fits(lines, s, e, heading, fence):
                cur = (s, e)
            else:
                out.extend(self._cut(lines, s, e, fence, heading))
        if cur:
            out.append((*cur, None))
        return out

    def _cut(self, lines: list[str], s: int, e: int, fence: Fence | None, heading: str) -> list[Unit]:
        """Line-boundary pieces of one unit, each fitting when its lines do."""
        out: list[Unit] = []
        start = s
        for i in range(s + 1, e):
            if not self._fits(lines, start, i + 1, heading, fence):
                out.append((start, i, fence))
                start = i
        out.append((start, e, fence))
        return out

    def _fits(self, lines: list[str], s: int, e: int, heading: str, fence: Fence | None) -> bool:
        return self.count(_embed_text(lines, s, e, heading, fence)) <= self.max_tokens

    def _to_chunks(self, source: str, lines: list[str], pieces: list[tuple[int, int, str, Fence | None]]) -> list[Chunk]:
        chunks: list[Chunk] = []
        seen: dict[str, int] = {}
        for s, e, heading, fence in pieces:
            while s < e and not lines[s].strip():
                s += 1
            while e > s and not lines[e - 1].strip():
                e -= 1
            if s >= e:
                continue
            text = "\n".join(lines[s:e])
            embed = _embed_text(lines, s, e, heading, fence)
            h = hashlib.sha256(embed.encode("utf-8")).hexdigest()
            n = seen.get(h, 0)
            seen[h] = n + 1
            cid = hashlib.sha256(f"{source}\n{h}\n{n}".encode()).hexdigest()[:32]
            chunks.append(Chunk(source, heading, s + 1, e, text, embed, h, cid))
        return chunks
