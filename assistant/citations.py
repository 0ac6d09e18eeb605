"""Check what the model wrote against what it was given.

- Every ``[n]`` must name a passage that was really given; invalid markers are
  dropped and the rest renumbered 1, 2, ... in order of first use.
- Each citation maps to ``source:start-end`` and the heading path.
- A marker is re-pointed when the statement it closes quotes a command that is
  verbatim in other passages but not in the cited one (small models tend to
  cite [1] for everything).
- A code span that copies part of one line of the passages is widened to the
  whole line (``systemctl restart slurmrestd`` -> ``systemctl daemon-reload &&
  systemctl restart slurmrestd``): small models drop the half that matters.
- A command or code span that does not appear in any given passage is
  flagged inline as not verbatim; the counts feed the grounding decision.
- An answer with no marker at all is attributed paragraph by paragraph to the
  passage whose words each paragraph repeats most (``attribute``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from assistant.packing import Evidence
from assistant.secrets import REDACTED
from assistant.types import Citation
from index.lexical import tokenize

MARKER = re.compile(r"\[(\d{1,3}(?:\s*[,，、]\s*\d{1,3})*)\]")  # [1], [1, 2], [1、2]
_CODE = re.compile(r"```[^\n]*\n(?P<block>.*?)```|`(?P<span>[^`\n]+)`", re.S)
_WS = re.compile(r"\s+")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")  # ideographs and their punctuation
_LIST_MARK = re.compile(r"^\s*(?:\d{1,3}[.)、]\s*|[-*+]\s+)")
_TRAILING_COMMENT = re.compile(r"(?:\s{2,}|\t)#")
_WORD = re.compile(r"\w[\w.:/@=&?-]*")
_FENCE = re.compile(r"^\s*```")
MIN_SHARED = 2  # words a paragraph shares with a passage to be attributed to it
NEAR_SHARE = 0.6  # a quote that repeats this share of a passage's words came from it
WHOLE_LINE_CHARS = 160  # a longer line (a config dump) is not worth widening a quote to


@dataclass(frozen=True)
class Checked:
    text: str
    citations: list[Citation]
    code_spans: int
    unsupported_spans: int


def _norm(s: str) -> str:
    return _WS.sub(" ", s).strip().lower()


def renumber(text: str, evidence: list[Evidence]) -> tuple[str, list[Evidence]]:
    """Keep markers that point at given passages; number them by first use."""
    order: list[int] = []

    def sub(m: re.Match[str]) -> str:
        nums = [int(x) for x in re.split(r"\s*[,，、]\s*", m.group(1))]
        kept = []
        for n in nums:
            if 1 <= n <= len(evidence):
                if n not in order:
                    order.append(n)
                kept.append(order.index(n) + 1)
        return "".join(f"[{k}]" for k in dict.fromkeys(kept))

    new = MARKER.sub(sub, text)
    new = re.sub(r"[ \t]+\n", "\n", new)
    return new.strip(), [evidence[n - 1] for n in order]


def _paragraphs(text: str) -> list[str]:
    """Blank-line separated paragraphs; a fenced code block is never split."""
    out: list[str] = []
    current: list[str] = []
    fenced = False
    for line in text.split("\n"):
        if _FENCE.match(line):
            fenced = not fenced
        if not line.strip() and not fenced:
            if current:
                out.append("\n".join(current))
            current = []
            continue
        current.append(line)
    if current:
        out.append("\n".join(current))
    return out


def _mark(paragraph: str, n: int) -> str:
    """``paragraph`` followed by ``[n]``, on a line of its own after a closing code fence (on the
    fence's line it would reopen the block)."""
    return f"{paragraph}\n[{n}]" if _FENCE.match(paragraph.split("\n")[-1]) else f"{paragraph} [{n}]"


def attribute(text: str, evidence: list[Evidence]) -> str | None:
    """Cite an answer that cites nothing: each run of paragraphs that repeat the same passage most
    (at least ``MIN_SHARED`` words; a paragraph below that joins its neighbours) gets that passage's
    marker at its end. None when no passage shares a word with the answer."""
    words = [set(tokenize(e.text)) for e in evidence]

    def best(part: str, least: int) -> int | None:
        mine = set(tokenize(part))
        shared, n = max(((len(mine & w), -e.n) for e, w in zip(evidence, words, strict=True)), default=(0, 0))
        return -n if shared >= least else None

    paragraphs = _paragraphs(text)
    owners = [best(p, MIN_SHARED) for p in paragraphs]
    known = [o for o in owners if o is not None]
    if not known:  # no paragraph is clearly anyone's: the whole answer, if anything matches
        n = best(text, 1)
        return None if n is None else _mark(text.rstrip(), n)
    current = known[0]
    for i, o in enumerate(owners):
        owners[i] = current = o if o is not None else current
    ends = [i == len(owners) - 1 or owners[i + 1] != o for i, o in enumerate(owners)]
    return "\n\n".join(_mark(p, o) if end and o else p for p, o, end in zip(paragraphs, owners, ends, strict=True))


def repoint(text: str, evidence: list[Evidence]) -> str:
    """Cite the passages that hold a statement's commands, when the model cited another one."""
    out, last = [], 0
    for m in MARKER.finditer(text):
        segment = text[last : m.start()]
        cited = [int(x) for x in re.split(r"\s*[,，、]\s*", m.group(1))]
        keep: list[int] = []  # cited passages that hold one of the commands
        moved: list[int] = []  # passages that hold a command no cited passage holds
        for c in _CODE.finditer(segment):
            span = c.group("block") if c.group("block") is not None else c.group("span")
            having = [e.n for e in evidence if len(span.strip()) >= 3 and supported(span, [e])]
            if not having and len(span.strip()) >= 8:  # not verbatim anywhere: the passage it nearly copies
                having = _nearly(span, evidence, cited)
            mine = [n for n in cited if n in having]
            if mine:
                keep += [n for n in mine if n not in keep]
            elif having and having[0] not in moved:
                moved.append(having[0])
        marker = m.group(0)
        if moved:
            marker = "".join(f"[{n}]" for n in sorted(set(keep + moved), key=(keep + moved).index))
        out.append(segment + marker)
        last = m.end()
    out.append(text[last:])
    return "".join(out)


def whole_lines(text: str, evidence: list[Evidence], max_chars: int = WHOLE_LINE_CHARS) -> str:
    """Widen each inline code span that is part of exactly one command line of the passages to
    that whole command (its trailing comment left out)."""
    lines = {ln.strip() for e in evidence for ln in e.text.split("\n") if ln.strip() and "`" not in ln}

    def sub(m: re.Match[str]) -> str:
        span = m.group("span")
        if span is None or len(span.split()) < 2:  # one word (a path, a key) names a thing, not a command
            return m.group(0)
        hits = [_code_part(ln, span.strip()) for ln in lines if span.strip() in ln]
        if len(hits) != 1 or hits[0] == span.strip() or len(hits[0]) > max_chars or _CJK.search(hits[0]):
            return m.group(0)  # ambiguous, already whole, too long, or prose around a command ("2. 重启systemctl ...")
        return f"`{hits[0]}`"

    return _CODE.sub(sub, text)


def _code_part(line: str, span: str) -> str:
    """The command of a line, without a list number or a trailing comment (``11. crictl ps -a  # 查看``),
    when it holds the span."""
    code = _TRAILING_COMMENT.split(line, maxsplit=1)[0].rstrip()
    code = _LIST_MARK.sub("", code).rstrip(";；。，,")
    return code if span in code else line


def _nearly(span: str, evidence: list[Evidence], cited: list[int]) -> list[int]:
    """The passage whose words a garbled quote mostly repeats, unless a cited one is about as close."""
    words = set(_WORD.findall(span.lower()))
    if not words:
        return []
    share = {e.n: len(words & set(_WORD.findall(e.text.lower()))) / len(words) for e in evidence}
    best = max(share, key=lambda n: share[n])
    if share[best] < NEAR_SHARE or any(share.get(n, 0.0) >= share[best] / 2 for n in cited):
        return []
    return [best]


def supported(span: str, evidence: list[Evidence]) -> bool:
    """Verbatim up to whitespace and case, line by line for blocks. A value the answer shows as
    [redacted] stands for whatever word the passage has there (redacted there too, or not)."""
    haystack = [_norm(e.text) for e in evidence]
    lines = [_norm(line) for line in span.split("\n") if line.strip()]
    return bool(lines) and all(any(_within(line, h) for h in haystack) for line in lines)


def _within(line: str, passage: str) -> bool:
    if REDACTED not in line:
        return line in passage
    return re.search(r"\S+".join(re.escape(part) for part in line.split(REDACTED)), passage) is not None


def flag_unverbatim(text: str, evidence: list[Evidence], label: str) -> tuple[str, int, int]:
    total = bad = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal total, bad
        body = m.group("block") if m.group("block") is not None else m.group("span")
        if len(body.strip()) < 3:
            return m.group(0)
        total += 1
        if supported(body, evidence):
            return m.group(0)
        bad += 1
        return f"{m.group(0)} {label}" if m.group("span") is not None else f"{m.group(0)}\n{label}"

    return _CODE.sub(sub, text), total, bad


def check(text: str, evidence: list[Evidence], not_verbatim_label: str) -> Checked:
    text, used = renumber(repoint(whole_lines(text, evidence), evidence), evidence)
    text, total, bad = flag_unverbatim(text, evidence, not_verbatim_label)
    cites = [Citation(i, e.source, e.start_line, e.end_line, e.heading, e.text) for i, e in enumerate(used, 1)]
    return Checked(text, cites, total, bad)
