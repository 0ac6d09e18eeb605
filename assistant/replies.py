"""What a raw model reply is, before its text is checked: the "not in notes" sentinel, an echo of
the question, or a reply stuck in a loop.

A greedy-decoding small model sometimes repeats one short piece until it runs out of tokens
(``pdcp -R -p -l 1000000…``), or starts its whole answer over. ``looping`` and ``restart`` spot
that while streaming, so generation stops early: a loop is replaced by the notes quoted, a restarted
answer is kept once.
"""

from __future__ import annotations

import re

from assistant.citations import MARKER

SENTINEL = "NOT_IN_NOTES"
_LOOP = re.compile(r"(.{1,10}?)\1{31,}\Z", re.S)  # a piece of up to 10 characters, 32 times in a row
LOOP_TAIL = 400  # characters at the end of the reply that are searched
BLOCK_LINES, BLOCK_CHARS = 12, 80


def echoes(answer: str, question: str) -> bool:
    """The model only repeated the question back."""
    a = re.sub(r"\W+", "", MARKER.sub("", answer)).lower()
    q = re.sub(r"\W+", "", question).lower()
    return bool(a) and (a == q or (a in q and len(a) >= len(q) // 2))


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
