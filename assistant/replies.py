"""What a raw model reply is, before its text is checked: the "not in notes" sentinel, an echo of
the question, or a reply stuck in a loop.

A greedy-decoding small model sometimes repeats one short piece until it runs out of tokens
(``pdcp -R -p -l 1000000…``); ``looping`` spots that while streaming, so generation stops early
and the notes are quoted instead.
"""

from __future__ import annotations

import re

from assistant.citations import MARKER

SENTINEL = "NOT_IN_NOTES"
_LOOP = re.compile(r"(.{1,10}?)\1{31,}\Z", re.S)  # a piece of up to 10 characters, 32 times in a row
LOOP_TAIL = 400  # characters at the end of the reply that are searched


def echoes(answer: str, question: str) -> bool:
    """The model only repeated the question back."""
    a = re.sub(r"\W+", "", MARKER.sub("", answer)).lower()
    q = re.sub(r"\W+", "", question).lower()
    return bool(a) and (a == q or (a in q and len(a) >= len(q) // 2))


def looping(raw: str) -> bool:
    """The reply ends in one short piece repeated over and over."""
    return _LOOP.search(raw[-LOOP_TAIL:]) is not None


def may_be_sentinel(raw: str) -> bool:
    """The reply so far could still become the bare sentinel (hold it back)."""
    text = raw.strip()
    return len(text) <= len(SENTINEL) and SENTINEL.startswith(text)
