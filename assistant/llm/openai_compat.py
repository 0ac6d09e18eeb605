"""A chat model behind any OpenAI-compatible ``/v1/chat/completions`` server.

Works with llama.cpp's server (``python -m llama_cpp.server``), vLLM, Ollama's
OpenAI endpoint, or the OpenAI API itself. ``langchain_openai`` (and ``openai``)
are imported here only, lazily.

Timeouts (``timeout_s`` is a wall-clock budget for one call):

* connecting gives up after ``min(2 s, timeout_s)``, so a down server fails fast;
* no first text before the deadline -> ``LLMError``;
* deadline reached after some text -> the stream stops and ends normally with
  the text produced so far (a warning is logged). The deadline is checked per
  chunk; a server that stalls mid-stream is cut by the read timeout.
* an answer with no visible text -> ``LLMError``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from assistant.types import ChatMessage, LLMError

if TYPE_CHECKING:
    from langchain_openai import ChatOpenAI

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 2.0
_PLACEHOLDER_KEY = "not-needed"  # local servers ignore the key; the client insists on one


class OpenAICompatLLM:
    name = "openai"

    def __init__(self, *, base_url: str, model: str, api_key: str = "") -> None:
        if not model:
            raise LLMError("the openai backend needs a model name: set NOTES_OPENAI_MODEL")
        self.base_url = base_url.rstrip("/") or None  # None: the client's default (api.openai.com)
        self.model = model
        self._api_key = api_key or _PLACEHOLDER_KEY
        self._clients: dict[float, ChatOpenAI] = {}
        self._clients_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"OpenAICompatLLM(base_url={self.base_url!r}, model={self.model!r})"

    def _client(self, timeout_s: float) -> ChatOpenAI:
        with self._clients_lock:
            client = self._clients.get(timeout_s)
            if client is None:
                import httpx
                from langchain_openai import ChatOpenAI

                timeout = httpx.Timeout(timeout_s, connect=min(CONNECT_TIMEOUT_S, timeout_s))
                client = ChatOpenAI(
                    base_url=self.base_url,
                    model=self.model,
                    api_key=self._api_key,  # type: ignore[arg-type]
                    timeout=timeout,
                    max_retries=0,
                    temperature=0,
                    streaming=True,
                )
                if len(self._clients) >= 4:
                    self._clients.clear()
                self._clients[timeout_s] = client
            return client

    def stream(self, messages: Sequence[ChatMessage], *, max_tokens: int, timeout_s: float) -> Iterator[str]:
        if timeout_s <= 0:
            raise LLMError(f"timeout must be positive, got {timeout_s}")
        return self._stream(list(messages), max_tokens, timeout_s, time.monotonic() + timeout_s)

    def _stream(self, messages: list[ChatMessage], max_tokens: int, timeout_s: float, deadline: float) -> Iterator[str]:
        import httpx
        import openai
        from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

        kinds: dict[str, type[BaseMessage]] = {
            "system": SystemMessage,
            "user": HumanMessage,
            "assistant": AIMessage,
        }
        lc_messages = [kinds[m.role](content=m.content) for m in messages]
        where = self.base_url or "the OpenAI API"
        produced = False  # any visible (non-whitespace) text yet
        started = False  # any text at all yet
        chunks: Iterator[Any] = self._client(timeout_s).stream(lc_messages, max_tokens=max_tokens)
        try:
            for chunk in chunks:
                text = chunk.content if isinstance(chunk.content, str) else chunk.text
                if text:
                    started = True
                    produced = produced or not text.isspace()
                    yield text
                if time.monotonic() > deadline:
                    if not started:
                        raise LLMError(f"{where} sent no text within {timeout_s:g}s")
                    log.warning("openai backend: %gs deadline reached; answer truncated", timeout_s)
                    return
        except (openai.APITimeoutError, httpx.TimeoutException) as exc:
            if not started:
                raise LLMError(f"{where} did not answer within {timeout_s:g}s") from exc
            log.warning("openai backend: stream stalled; answer truncated (%s)", exc)
            return
        except openai.APIConnectionError as exc:
            raise LLMError(f"cannot reach the chat server at {where}: {exc}") from exc
        except openai.APIStatusError as exc:
            raise LLMError(f"chat server at {where} answered HTTP {exc.status_code}: {exc.message}") from exc
        except (openai.OpenAIError, httpx.HTTPError) as exc:
            raise LLMError(f"chat server at {where} failed: {exc}") from exc
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        if not produced:
            raise LLMError(f"chat server at {where} returned an empty answer")
