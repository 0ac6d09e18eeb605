"""How much the chosen lines make a question more expected, read from the local model (llama.cpp).

Query likelihood, as in zero-shot LLM rerankers: the mean log-probability the
model gives the question's own tokens after the chosen lines, minus the same
after empty notes. Lines that answer a question make its words expected; lines
on a neighbouring topic ("zip" lines for "nginx rate limit") do not, and the
gain drops to zero or below. The scorer also reports the weakest word: the
lowest gain of a word token (Chinese, or an English word that is not a stop
word). Lines that lack the question's concept make that word far less expected
("import" after terraform lines that never import), while the mean can still
rise on the topic's other words.

It runs after the answer is generated, in a scratch llama.cpp context on the
same weights: the main context's KV cache (the answer's prompt) is copied in,
the question is scored after the lines (only its own tokens are evaluated) and
then after empty notes (the system prompt is already cached). The main context
is never touched, so time to first token and later answers stay exactly as
they were. Callers hold ``LocalLLM``'s lock.
"""

from __future__ import annotations

import ctypes
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from assistant.types import ChatMessage, QuestionFit
from index.lexical import STOP_EN

if TYPE_CHECKING:
    from llama_cpp import Llama

MAX_TOKENS = 400  # a longer question is not scored
# Each scored token costs the model's output layer once (~40 ms on two cores), in each of the two
# passes: a longer question is scored on this many tokens, evenly spaced (the mean's estimate).
MAX_SCORED = 32
_CJK = re.compile(r"[\u3400-\u9fff]")
_WORD = re.compile(r"[a-z0-9][a-z0-9_-]{2,}")


class PromptTokens:
    """Formats chat messages exactly as ``create_chat_completion`` does (the GGUF's template)."""

    def __init__(self, llama: Llama) -> None:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        model: Any = llama._model
        eos, bos = llama.token_eos(), llama.token_bos()
        self._llama = llama
        self._format = Jinja2ChatFormatter(
            template=llama.metadata["tokenizer.chat_template"],
            eos_token=model.token_get_text(eos) if eos != -1 else "",
            bos_token=model.token_get_text(bos) if bos != -1 else "",
        )

    def _render(self, messages: Sequence[ChatMessage]) -> tuple[bytes, list[int]]:
        chat: Any = [{"role": m.role, "content": m.content} for m in messages]
        result = self._format(messages=chat)
        prompt = result.prompt.encode("utf-8")
        return prompt, self._llama.tokenize(prompt, add_bos=not result.added_special, special=True)

    def prompt(self, messages: Sequence[ChatMessage]) -> list[int]:
        """The tokens ``create_chat_completion`` evaluates for ``messages`` (before the answer)."""
        return self._render(messages)[1]

    def tokens(self, messages: Sequence[ChatMessage], span_text: str) -> tuple[list[int], int, int]:
        """The prompt's tokens and the [a, b) token range that spells the last ``span_text``."""
        prompt, toks = self._render(messages)
        start = prompt.rfind(span_text.encode("utf-8"))
        if start < 0:
            return toks, 0, 0
        end = start + len(span_text.encode("utf-8"))
        a = b = -1
        offset = 0
        for i, t in enumerate(toks):
            piece = len(self._llama.detokenize([t], special=True))
            if a < 0 and offset + piece > start:
                a = i
            offset += piece
            if offset >= end:
                b = i + 1
                break
        return toks, max(a, 0), max(b, 0)


class QuestionScorer:
    """Scores questions in a scratch context, so the main context's cache stays as it was."""

    def __init__(self, llama: Llama) -> None:
        import llama_cpp
        from llama_cpp._internals import LlamaBatch, LlamaContext

        self._lib: Any = llama_cpp
        self._llama = llama
        self._prompts = PromptTokens(llama)
        self._ctx: Any = LlamaContext(model=llama._model, params=llama.context_params, verbose=False)
        self._batch: Any = LlamaBatch(n_tokens=llama.n_batch, embd=0, n_seq_max=1, verbose=False)
        self._cached: list[int] = []  # what the scratch context's KV cache holds

    def close(self) -> None:
        self._ctx.close()
        self._batch.close()

    def fit(self, with_lines: Sequence[ChatMessage], bare: Sequence[ChatMessage], question: str) -> QuestionFit | None:
        toks, a, b = self._prompts.tokens(with_lines, question)
        base, a0, b0 = self._prompts.tokens(bare, question)
        if toks[a:b] != base[a0:b0] or not 1 < b - a <= MAX_TOKENS:
            return None
        picks = _spread(b - a, MAX_SCORED)
        pieces = [self._llama.detokenize([toks[a + i]]).decode("utf-8", "ignore") for i in picks]
        if not any(is_word(p) for p in pieces):
            return None  # "and -b?": only particles and symbols, whose likelihood says nothing of the topic
        self._copy_main_cache()
        after_lines = self._logprobs(toks, [a + i for i in picks])
        bare_lines = self._logprobs(base, [a0 + i for i in picks])
        gain = mean_gain(after_lines, bare_lines)
        if gain is None:
            return None
        return QuestionFit(gain, weakest_word(pieces, after_lines, bare_lines))

    def _copy_main_cache(self) -> None:
        buf, written = read_kv(self._lib, self._llama.ctx)
        self._cached = []
        if self._lib.llama_state_seq_set_data(self._ctx.ctx, buf, written, 0) == 0:
            raise RuntimeError("cannot copy the KV cache into the scratch context")
        self._cached = held_tokens(self._llama)

    def _logprobs(self, toks: list[int], scored: list[int]) -> list[float]:
        """Log-probabilities of ``toks[i]`` for ``i`` in ``scored`` (ascending) given what precedes
        them, reusing the cached prefix."""
        a, b = scored[0], scored[-1] + 1
        keep = min(common_prefix(self._cached, toks), a - 1)
        todo = toks[keep : b - 1]  # each token's logits predict the next one
        if keep < 0 or not todo or len(todo) > self._llama.n_batch:
            return []
        wanted = {i - 1 for i in scored}  # the positions whose logits are needed
        batch = self._batch.batch
        batch.n_tokens = len(todo)
        for i, tok in enumerate(todo):
            batch.token[i] = tok
            batch.pos[i] = keep + i
            batch.seq_id[i][0] = 0
            batch.n_seq_id[i] = 1
            batch.logits[i] = keep + i in wanted
        self._cached = self._cached[:keep]
        self._ctx.kv_cache_seq_rm(-1, keep, -1)
        self._ctx.decode(self._batch)
        self._cached = toks[: b - 1]
        n_vocab = self._llama.n_vocab()
        out = []
        for i in scored:
            logits = self._lib.llama_get_logits_ith(self._ctx.ctx, i - 1 - keep)
            row = np.ctypeslib.as_array(logits, shape=(n_vocab,)).astype(np.float64)
            top = row.max()
            out.append(float(row[toks[i]] - top - np.log(np.exp(row - top).sum())))
        return out


def held_tokens(llama: Llama) -> list[int]:
    """The tokens whose KV cache the context holds (what it evaluated last)."""
    tokens: list[int] = llama.input_ids[: llama.n_tokens].tolist()
    return tokens


def read_kv(lib: Any, ctx: Any) -> tuple[Any, int]:
    """The KV cache of a context's sequence 0: a buffer, and how many of its bytes were written."""
    size = lib.llama_state_seq_get_size(ctx, 0)
    buf = (ctypes.c_uint8 * size)()
    return buf, int(lib.llama_state_seq_get_data(ctx, buf, size, 0))


def _spread(n: int, most: int) -> list[int]:
    """``min(n, most)`` indices in ``range(n)``, evenly spaced, first and last included."""
    if n <= most:
        return list(range(n))
    return sorted({round(i * (n - 1) / (most - 1)) for i in range(most)})


def common_prefix(x: Sequence[int], y: Sequence[int]) -> int:
    n = 0
    for p, q in zip(x, y, strict=False):
        if p != q:
            break
        n += 1
    return n


def is_word(piece: str) -> bool:
    """A token that carries meaning: Chinese, or an ASCII word of 3+ characters that is not a stop word."""
    text = piece.strip().lower()
    return bool(_CJK.search(text)) or (_WORD.fullmatch(text) is not None and text not in STOP_EN)


def weakest_word(pieces: list[str], with_lines: list[float], bare: list[float]) -> float:
    """The lowest gain of a word token (0.0 when the question has none)."""
    gains = [w - b for p, w, b in zip(pieces, with_lines, bare, strict=True) if is_word(p)]
    return min(gains, default=0.0)


def mean_gain(with_lines: list[float], bare: list[float]) -> float | None:
    if not with_lines or len(with_lines) != len(bare):
        return None
    return float(np.mean(np.asarray(with_lines) - np.asarray(bare)))
