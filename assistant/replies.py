"""What a raw model reply is, before its text is checked: the "not in notes" sentinel, an echo of
the question or of the prompt, or a reply stuck in a loop.

A greedy-decoding small model sometimes repeats one short piece until it runs out of tokens
(``pdcp -R -p -l 1000000…``), or starts its whole answer over. ``looping`` and ``restart`` spot
that while streaming, so generation stops early: a loop is replaced by the notes quoted, a restarted
answer is kept once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.citations import MARKER

SENTINEL = "NOT_IN_NOTES"
_LOOP = re.compile(r"(.{1,10}?)\1{31,}\Z", re.S)  # a piece of up to 10 characters, 32 times in a row
LOOP_TAIL = 400  # characters at the end of the reply that are searched
BLOCK_LINES, BLOCK_CHARS = 12, 80
# The answer prompt's own markup (prompts/answer.txt): a reply that writes it is copying its prompt
_PROMPT_MARKUP = re.compile(r"</?notes>|(?<![A-Za-z])(?:Question|Answer):")
_NUMBERED = re.compile(r"^\[\d+\]\s*")


def echoes(answer: str, question: str) -> bool:
    """The model only repeated the question back."""
    a = re.sub(r"\W+", "", MARKER.sub("", answer)).lower()
    q = re.sub(r"\W+", "", question).lower()
    return bool(a) and (a == q or (a in q and len(a) >= len(q) // 2))


def prompt_echo(raw: str, headers: Sequence[str]) -> int | None:
    """Where the reply starts copying its prompt, if it does: the prompt's markup (``<notes>``,
    ``Question:``, ``Answer:``) or a complete line that is a passage's header (``headers``: ``[2]
    内存 > TLB``), or its heading path alone when that has levels. The 1.5B model sometimes writes
    out its passages, then the question and an answer of its own (``<notes>\n[1] terraform > ...``)."""
    m = _PROMPT_MARKUP.search(raw)
    cut = m.start() if m else None
    paths = {_NUMBERED.sub("", h).strip() for h in headers}
    at = 0
    for line in raw.split("\n")[:-1]:  # complete lines: the last may still be growing
        if cut is not None and at >= cut:
            break
        text = line.strip()
        if text in headers or (" > " in text and text in paths):
            return at
        at += len(line) + 1
    return cut


def looping(raw: str) -> bool:
    """The reply ends in one short piece repeated over and over."""
    return _LOOP.search(raw[-LOOP_TAIL:]) is not None


def restart(raw: str) -> int | None:
    """Where the reply started over, when its complete lines end in the same block twice in a row
    (2 to 12 lines with text, 80+ characters): the end of the first copy. u020 streamed its four
    lines again and again for 25 s."""
    lines = raw.split("\n")[:-1]  # the last line may still be growing
    for k in range(2, min(BLOCK_LINES, len(lines) // 2) + 1):
        block = lines[-k:]
        if lines[-2 * k : -k] == block and sum(bool(x.strip()) for x in block) >= 2 and len("".join(block)) >= BLOCK_CHARS:
            return len("\n".join(lines[:-k])) + 1
    return None


def may_be_sentinel(raw: str) -> bool:
    """The reply so far could still become the bare sentinel (hold it back)."""
    text = raw.strip()
    return len(text) <= len(SENTINEL) and SENTINEL.startswith(text)
