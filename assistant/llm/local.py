"""The local chat model: a GGUF file run in-process by llama.cpp.

``llama_cpp`` is imported here and in ``likelihood`` and ``prefixes`` only, lazily (when a ``LocalLLM`` is built).

Behaviour:

* Greedy decoding (temperature 0, fixed seed). The chat template is the GGUF's (Qwen's ChatML).
  The same prompt gives the same answer, up to how much of it was cached: evaluating it in
  other pieces changes the float sums slightly, which can flip a near tie.
* One generation at a time: concurrent callers queue on a lock. Time spent
  waiting counts against the caller's ``timeout_s``.
* ``timeout_s`` is a wall-clock deadline for the whole call, measured from the
  moment ``stream()`` is called:

  - no text before the deadline (busy, or prompt evaluation too slow) -> ``LLMError``;
  - deadline reached after some text -> generation stops and the iterator ends
    normally with the text produced so far (a warning is logged), so a caller
    keeps a usable partial answer it may already have shown.

  Generation runs in a worker thread (llama.cpp releases the GIL), so the
  caller gets control back at the deadline even in the middle of a long prompt
  evaluation. The worker is then aborted: between tokens, or inside a long
  prompt evaluation at the next micro-batch (llama.cpp's abort callback,
  installed only while a cancelled generation is still running, so a normal
  generation never calls back into Python). It then frees the lock.
* An answer with no visible text -> ``LLMError``.
* Caching: llama.cpp reuses the longest common token prefix of the last evaluation, so the
  system prompt is evaluated once (``warm``, at startup, with the start of an answer's and of a
  follow-up rewrite's prompt); ``prefixes`` keeps both kinds cached as they alternate.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.types import ChatMessage, LLMError, QuestionFit

if TYPE_CHECKING:
    from llama_cpp import Llama

log = logging.getLogger(__name__)

N_CTX = 4096
# Prompt tokens evaluated per llama_decode graph. A cancelled generation is aborted at the next
# graph, so this bounds how long a timed-out prompt evaluation keeps the model busy (128: ~3-9 s).
N_UBATCH = 128
SEED = 0
GAIN_WAIT_S = 5.0  # question scoring waits this long for a busy model, then is skipped
_SETUP_HINT = "run `make install` (or `python -m assistant.model_setup`)"


class LocalLLM:
    name = "local"

    def __init__(self, model_path: Path | str, *, n_threads: int = 0, n_ctx: int = N_CTX, n_ubatch: int = N_UBATCH) -> None:
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise LLMError(f"local model file {self.model_path} is missing; {_SETUP_HINT}")
        self.n_threads = n_threads if n_threads > 0 else (os.cpu_count() or 1)
        self.n_ctx = n_ctx
        self._lock = threading.Lock()  # a plain Lock: the worker thread releases it
        # OpenMP workers that spin between ops collapse throughput when the cores are shared
        # (busy 2-core machine: decoding at 0.3-3 tok/s spinning, 4-6 tok/s passive). libgomp
        # reads this once, when it loads; torch ships its own libgomp.so.1, which llama.cpp
        # then shares, so an entry point that imports torch first must set it before that.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise LLMError(f"llama-cpp-python is not installed; {_SETUP_HINT}") from exc
        try:
            self._llama: Llama = Llama(
                model_path=str(self.model_path), n_ctx=n_ctx, n_batch=512, n_ubatch=n_ubatch,
                n_threads=self.n_threads, n_threads_batch=self.n_threads, seed=SEED, verbose=False,
            )  # fmt: skip
        except (ValueError, RuntimeError, OSError) as exc:
            raise LLMError(f"cannot load local model {self.model_path}: {exc}; {_SETUP_HINT}") from exc
        # Aborting a running llama_decode: see _cancel().
        import llama_cpp

        from assistant.llm.prefixes import PrefixStore

        self._set_abort = llama_cpp.llama_set_abort_callback
        self._abort_cb = llama_cpp.ggml_abort_callback(self._should_abort)  # keep a reference
        self._no_abort_cb = llama_cpp.ggml_abort_callback()  # NULL: no callback
        self._state_lock = threading.Lock()  # guards _active and the abort callback
        self._active: threading.Event | None = None  # cancel flag of the running generation
        self._scorer: Any = None  # likelihood.QuestionScorer, built on first use
        self._prefixes = PrefixStore(self._llama)  # keeps follow-up rewrites cached too

    def __repr__(self) -> str:
        return f"LocalLLM({str(self.model_path)!r}, n_threads={self.n_threads}, n_ctx={self.n_ctx})"

    def _should_abort(self, _data: object) -> bool:
        active = self._active
        return active is not None and active.is_set()

    def _cancel(self, cancel: threading.Event) -> None:
        """Stop the generation that owns ``cancel``, even inside a long prompt evaluation."""
        with self._state_lock:
            cancel.set()
            if self._active is cancel:
                self._set_abort(self._llama.ctx, self._abort_cb, None)

    def close(self) -> None:
        """Free the model's memory (waits for a running generation)."""
        with self._lock:
            if self._scorer is not None:
                self._scorer.close()
            self._llama.close()

    def warm(self, *preambles: Sequence[ChatMessage], timeout_s: float = 120.0) -> float:
        """Evaluate each kind of prompt's fixed start once, so later prompts of that kind reuse its
        KV cache; returns seconds taken. The last stays in the context, the others in the prefix
        store (``prefixes.SLOTS`` kinds): later prompts skip straight to what differs."""
        start = time.perf_counter()
        for messages in preambles:
            deadline = time.monotonic() + timeout_s
            for _ in self._stream(list(messages), 1, timeout_s, deadline, require_text=False):
                pass
        return time.perf_counter() - start

    def question_fit(self, with_lines: Sequence[ChatMessage], bare: Sequence[ChatMessage], question: str) -> QuestionFit | None:
        """How much the notes raise the likelihood of the question's tokens (see ``likelihood``);
        None when it cannot be measured."""
        from assistant.llm import likelihood

        if not self._lock.acquire(timeout=GAIN_WAIT_S):
            return None
        try:
            self._scorer = self._scorer or likelihood.QuestionScorer(self._llama)
            fit: QuestionFit | None = self._scorer.fit(with_lines, bare, question)
            return fit
        except Exception as exc:  # a measurement, never a reason to fail the answer
            log.warning("local model: cannot score the question: %s", exc)
            return None
        finally:
            self._lock.release()

    def stream(self, messages: Sequence[ChatMessage], *, max_tokens: int, timeout_s: float) -> Iterator[str]:
        if timeout_s <= 0:
            raise LLMError(f"timeout must be positive, got {timeout_s}")
        if max_tokens <= 0:
            raise LLMError(f"max_tokens must be positive, got {max_tokens}")
        return self._stream(list(messages), max_tokens, timeout_s, time.monotonic() + timeout_s)

    def _stream(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        timeout_s: float,
        deadline: float,
        *,
        require_text: bool = True,
    ) -> Iterator[str]:
        if not self._lock.acquire(timeout=max(deadline - time.monotonic(), 0.0)):
            raise LLMError(f"local model busy: no turn within {timeout_s:g}s")
        out: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        cancel = threading.Event()
        try:
            worker = threading.Thread(
                target=self._generate,
                args=(messages, max_tokens, out, cancel),
                name="llama-generate",
                daemon=True,
            )
            worker.start()
        except BaseException:
            self._lock.release()
            raise
        # From here the worker owns the lock and releases it when it finishes.
        started = produced = False
        try:
            while True:
                remaining = deadline - time.monotonic()
                item = None
                if remaining > 0:
                    try:
                        item = out.get(timeout=remaining)
                    except queue.Empty:
                        pass
                if item is None:
                    if not started and require_text:
                        raise LLMError(f"local model produced no text within {timeout_s:g}s")
                    if started:
                        log.warning("local model: %gs deadline reached; answer truncated", timeout_s)
                    return
                kind, payload = item
                if kind == "text":
                    started = True
                    produced = produced or not payload.isspace()
                    yield payload
                elif kind == "error":
                    raise LLMError(f"local model failed: {payload}") from payload
                else:  # "end"
                    break
        finally:
            self._cancel(cancel)
        if require_text and not produced:
            raise LLMError("local model returned an empty answer")

    def _generate(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        out: queue.SimpleQueue[tuple[str, Any]],
        cancel: threading.Event,
    ) -> None:
        """Worker thread: runs one completion, holding the lock taken by the caller."""
        with self._state_lock:
            self._active = cancel
        try:
            if cancel.is_set():  # the caller gave up before this thread started
                return
            self._prefixes.restore(messages)
            chunks: Any = self._llama.create_chat_completion(
                messages=[{"role": m.role, "content": m.content} for m in messages],  # type: ignore[misc]
                max_tokens=max_tokens,
                temperature=0.0,
                seed=SEED,
                stream=True,
            )
            try:
                for chunk in chunks:
                    if cancel.is_set():
                        break
                    text = chunk["choices"][0]["delta"].get("content")
                    if text:
                        out.put(("text", text))
            finally:
                chunks.close()
            if not cancel.is_set():
                self._prefixes.save(messages)
        except Exception as exc:  # reported to the caller as LLMError
            out.put(("error", exc))
        finally:
            try:
                with self._state_lock:
                    self._active = None
                    self._set_abort(self._llama.ctx, self._no_abort_cb, None)
            finally:
                self._lock.release()
                out.put(("end", None))
