"""Answers as Slack messages: Markdown -> mrkdwn, Block Kit blocks, and splitting within Slack's limits.

Generated text can never ping anyone: ``<!channel>``, ``<!here>``, ``<!everyone>``,
``<@U…>`` and ``<!subteam^…>`` are removed, then ``&``, ``<`` and ``>`` are escaped
so no other control sequence survives, and every text object is ``verbatim``
(Slack does not auto-link names or mentions in it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from assistant.types import Answer

SECTION_CHARS = 3000  # a section block's text
MESSAGE_CHARS = 12_000  # section text per message: well inside the 40k text limit
MAX_BLOCKS = 50
CONTEXT_ELEMENTS = 10
FENCE = "```"

PLACEHOLDER = ":mag: _Searching your notes…_"

_MENTION = re.compile(
    r"([ \t]*)<\s*(?:!(?:channel|here|everyone)|@[UW][A-Z0-9]*|!subteam\^[A-Z0-9]*)(?:\|[^>]*)?\s*>([ \t]*)", re.I
)
_FENCE_LINE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")
_INLINE_CODE = re.compile(r"(`[^`\n]+`)")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https?://[^)\s]+)\)")
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_ITALIC = re.compile(r"(?<![*\w])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![*\w])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_BULLET = re.compile(r"^(\s*)[-*+]\s+")
_QUOTE = re.compile(r"^\s*>\s?")
_BOLD_MARK = "\x00"


@dataclass(frozen=True)
class SlackMessage:
    text: str  # the notification / fallback text (also what the thread history reads back)
    blocks: list[dict[str, Any]]


def strip_mentions(text: str) -> str:
    """Remove broadcast, user and user-group mentions from generated text."""
    return _MENTION.sub(lambda m: " " if m.group(1) and m.group(2) else "", text)


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _inline(text: str) -> str:
    out = []
    for i, piece in enumerate(_INLINE_CODE.split(text)):
        if i % 2:  # inline code: escaped, never restyled
            out.append(escape(piece))
            continue
        s = escape(piece)
        s = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", s)
        s = _BOLD.sub(lambda m: _BOLD_MARK + (m.group(1) or m.group(2)) + _BOLD_MARK, s)
        s = _ITALIC.sub(r"_\1_", s)
        s = _STRIKE.sub(r"~\1~", s)
        out.append(s.replace(_BOLD_MARK, "*"))
    return "".join(out)


def _prose_line(line: str) -> str:
    if m := _HEADING.match(line):
        title = _inline(m.group(1)).replace("*", "").strip()
        return f"*{title}*" if title else ""
    quote = ""
    if m := _QUOTE.match(line):
        quote, line = "> ", line[m.end() :]
    if m := _BULLET.match(line):
        line = f"{m.group(1)}• {line[m.end() :]}"
    return quote + _inline(line)


def _closes(fence: str, marker: str, rest: str) -> bool:
    return marker[0] == fence[0] and len(marker) >= len(fence) and not rest.strip()


def to_mrkdwn(markdown: str) -> str:
    """Slack mrkdwn for a Markdown answer; fenced code stays fenced (language tags dropped)."""
    out: list[str] = []
    fence: str | None = None
    for line in strip_mentions(markdown).replace("\r\n", "\n").split("\n"):
        m = _FENCE_LINE.match(line)
        if fence is None and m:
            fence = m.group(1)
            out.append(FENCE)
        elif fence is not None and m and _closes(fence, m.group(1), m.group(2)):
            fence = None
            out.append(FENCE)
        elif fence is not None:
            out.append(escape(line).replace(FENCE, "`\u200b``"))
        else:  # a stray ``` inside prose would open a code block in Slack: break it up
            out.append(_prose_line(line).replace(FENCE, "`\u200b``"))
    if fence is not None:
        out.append(FENCE)
    return "\n".join(out).strip("\n")


def _cut(line: str, limit: int) -> tuple[str, str]:
    """Split one overlong line near ``limit``: at a space if one is close, never inside ``&amp;``."""
    at = line.rfind(" ", int(limit * 0.8), limit)
    if at <= 0:
        at = limit
        amp = line.rfind("&", max(0, at - 6), at)
        if amp != -1 and ";" not in line[amp:at]:
            at = amp
    return line[:at], line[at:]


def split_mrkdwn(text: str, limit: int = SECTION_CHARS) -> list[str]:
    """Pieces of at most ``limit`` chars, cut at line ends; a cut code block is closed and reopened."""
    reserve = len(FENCE) + 1  # room kept for a closing fence
    pieces: list[str] = []
    cur: list[str] = []
    base = 0  # 1 when ``cur`` starts with a reopened fence
    in_code = False

    def flush() -> None:
        nonlocal cur, base
        if len(cur) > base:
            pieces.append("\n".join([*cur, FENCE] if in_code else cur))
        cur, base = ([FENCE], 1) if in_code else ([], 0)

    pending = text.split("\n")[::-1]
    while pending:
        line = pending.pop()
        room = limit - reserve - len("\n".join(cur)) - (1 if cur else 0)
        if len(line) <= room:
            cur.append(line)
            in_code = in_code != (line == FENCE)
            continue
        fresh = limit - reserve - (len(FENCE) + 1 if in_code else 0)
        if len(cur) > base and (len(line) <= fresh or room < limit // 4):
            flush()
            pending.append(line)
            continue
        head, tail = _cut(line, room)
        cur.append(head)
        flush()
        pending.append(tail)
    flush()
    return [p for p in pieces if p.strip()] or [""]


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text or " ", "verbatim": True}}


def _context(items: list[str]) -> dict[str, Any]:
    if len(items) > CONTEXT_ELEMENTS:
        items = [*items[: CONTEXT_ELEMENTS - 1], "  ".join(items[CONTEXT_ELEMENTS - 1 :])]
    elements = [{"type": "mrkdwn", "text": i[:SECTION_CHARS], "verbatim": True} for i in items]
    return {"type": "context", "elements": elements}


def footer_blocks(answer: Answer) -> list[dict[str, Any]]:
    """Citations (``file:start-end`` + heading path), nearest sections when not grounded, notices."""
    blocks = []
    if answer.citations:
        blocks.append(_context([f"[{c.n}] `{escape(c.ref)}` {escape(c.heading)}".rstrip() for c in answer.citations]))
    if not answer.grounded and answer.nearest:
        near = [f"`{escape(p.ref)}` {escape(p.heading)}".rstrip() for p in answer.nearest]
        blocks.append(_context(["Nearest sections:", *near]))
    if answer.notices:
        blocks.append(_context([f"note: {escape(strip_mentions(n))}" for n in answer.notices]))
    return blocks


def render_answer(answer: Answer) -> list[SlackMessage]:
    """One or more messages, in order; the footer goes on the last one."""
    sections = split_mrkdwn(to_mrkdwn(answer.text))
    footer = footer_blocks(answer)
    per_message = max(1, min(MAX_BLOCKS - len(footer), MESSAGE_CHARS // SECTION_CHARS))
    groups = [sections[i : i + per_message] for i in range(0, len(sections), per_message)]
    messages = [SlackMessage("\n".join(g), [_section(s) for s in g]) for g in groups]
    last = messages[-1]
    messages[-1] = SlackMessage(last.text, [*last.blocks, *footer])
    return messages


def plain_message(text: str) -> SlackMessage:
    """A short bot-authored notice (placeholder, error, usage), escaped like everything else."""
    mrkdwn = to_mrkdwn(text)
    return SlackMessage(mrkdwn, [_section(mrkdwn)])
