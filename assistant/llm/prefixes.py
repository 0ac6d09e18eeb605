"""Keeps the KV cache of more than one fixed prompt warm in the local model's single context.

llama.cpp reuses the longest common token prefix of what its context last
evaluated, so prompts that alternate between two fixed preambles (an answer's
system prompt and notes, then a follow-up's rewrite instructions) evict each
other: every follow-up re-evaluated the ~200 tokens of rewrite instructions
(about 3 s here). After each generation the context's KV cache is saved here
(one llama.cpp sequence, ~28 KB per token), one per kind of prompt: the same
system message and the same first line of the first user message (``<notes>``
for answers, the task line for rewrites). Before the next generation, a saved
cache that shares a longer prefix with the new prompt than the context does is
put back (milliseconds), and only the rest is evaluated. Callers hold
``LocalLLM``'s lock.
"""

from __future__ import annotations

import ctypes
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.llm.likelihood import PromptTokens, common_prefix, held_tokens, read_kv
from assistant.types import ChatMessage

if TYPE_CHECKING:
    from llama_cpp import Llama

SLOTS = 2  # saved caches: one per kind of prompt (answers, follow-up rewrites), least recently used out
KIND_CHARS = 32  # of the first line of the first user message
MIN_GAIN = 32  # restoring is worth it when it spares at least this many tokens


@dataclass(frozen=True)
class Saved:
    tokens: tuple[int, ...]
    state: bytes


def kind(messages: Sequence[ChatMessage]) -> tuple[str, str]:
    """What prompts of one kind share: their system message and how their user message starts."""
    system = "".join(m.content for m in messages[:1] if m.role == "system")
    user = next((m.content for m in messages if m.role != "system"), "")
    return system, user.split("\n", 1)[0][:KIND_CHARS]


class PrefixStore:
    def __init__(self, llama: Llama, slots: int = SLOTS) -> None:
        import llama_cpp

        self._lib: Any = llama_cpp
        self._llama = llama
        self._prompts = PromptTokens(llama)
        self._slots = slots
        self._saved: dict[tuple[str, str], Saved] = {}  # by kind; most recently used last

    def restore(self, messages: Sequence[ChatMessage]) -> None:
        """Before evaluating ``messages``: put back the saved cache that best matches their prompt when
        it spares at least ``MIN_GAIN`` tokens over what the context holds."""
        prompt = self._prompts.prompt(messages)
        shared = {k: common_prefix(s.tokens, prompt) for k, s in self._saved.items()}
        key = max(shared, key=shared.__getitem__, default=None)
        if key is None or shared[key] < common_prefix(held_tokens(self._llama), prompt) + MIN_GAIN:
            return
        best = self._saved.pop(key)
        llama = self._llama
        buf = (ctypes.c_uint8 * len(best.state)).from_buffer_copy(best.state)
        if self._lib.llama_state_seq_set_data(llama.ctx, buf, len(best.state), 0) != len(best.state):
            llama.reset()  # the context is in an unknown state: evaluate the whole prompt
            return
        llama.input_ids[: len(best.tokens)] = np.asarray(best.tokens, dtype=llama.input_ids.dtype)
        llama.n_tokens = len(best.tokens)
        llama._requires_eval = True  # the logits were not produced by a live decode
        self._saved[key] = best

    def save(self, messages: Sequence[ChatMessage]) -> None:
        """After generating for ``messages``: save the context's cache as that kind's."""
        tokens = tuple(held_tokens(self._llama))
        if not tokens:
            return
        buf, written = read_kv(self._lib, self._llama.ctx)
        if not written:
            return
        self._saved.pop(kind(messages), None)
        while len(self._saved) >= self._slots:
            del self._saved[next(iter(self._saved))]
        self._saved[kind(messages)] = Saved(tokens, ctypes.string_at(buf, written))  # one copy of ~25 MB

    def clear(self) -> None:
        self._saved.clear()
