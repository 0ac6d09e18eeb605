"""OpenAICompatLLM against a real OpenAI-compatible server (llama.cpp's), and against dead ones."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.llm.factory import BACKENDS, default_model_path, make_llm
from assistant.llm.openai_compat import OpenAICompatLLM
from assistant.settings import Settings, SettingsError
from assistant.types import ChatMessage, LLMError
from tests.llm_server import MODEL, PONG, LlamaServer, free_port, llama_server, needs_model

COUNT = [ChatMessage("system", "You are helpful."), ChatMessage("user", "Count from 1 to 5.")]


@pytest.fixture(scope="module")
def server() -> Iterator[LlamaServer]:
    with llama_server(MODEL) as srv:
        yield srv


def collect(llm: OpenAICompatLLM, messages: list[ChatMessage], max_tokens: int = 8, timeout_s: float = 60) -> list[str]:
    return list(llm.stream(messages, max_tokens=max_tokens, timeout_s=timeout_s))


@pytest.mark.slow
@needs_model
def test_streams_answer_from_real_server(server: LlamaServer) -> None:
    llm = OpenAICompatLLM(base_url=server.base_url, model=server.model)
    assert "pong" in "".join(collect(llm, PONG)).lower()
    deltas = collect(llm, COUNT, max_tokens=16)
    assert len(deltas) > 1
    assert "3" in "".join(deltas)


@pytest.mark.slow
@needs_model
def test_factory_builds_openai_backend(server: LlamaServer) -> None:
    llm = make_llm(Settings(llm_backend="openai", openai_base_url=server.base_url, openai_model=server.model))
    assert isinstance(llm, OpenAICompatLLM)
    assert llm.name == "openai"
    assert "pong" in "".join(collect(llm, PONG)).lower()


@pytest.mark.slow
@needs_model
def test_tiny_timeout_against_real_server_raises(server: LlamaServer) -> None:
    llm = OpenAICompatLLM(base_url=server.base_url, model=server.model)
    messages = [ChatMessage("system", "You are helpful."), ChatMessage("user", "Describe TCP in detail, step by step.")]
    start = time.monotonic()
    with pytest.raises(LLMError):
        collect(llm, messages, max_tokens=4, timeout_s=0.05)
    assert time.monotonic() - start < 5


def test_closed_port_fails_fast() -> None:
    llm = OpenAICompatLLM(base_url=f"http://127.0.0.1:{free_port()}/v1", model="any")
    start = time.monotonic()
    with pytest.raises(LLMError, match="cannot reach"):
        collect(llm, PONG, timeout_s=30)
    assert time.monotonic() - start < 5


def test_silent_server_times_out() -> None:
    """A server that accepts connections but never answers is cut at the deadline."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        llm = OpenAICompatLLM(base_url=f"http://127.0.0.1:{port}/v1", model="any")
        start = time.monotonic()
        with pytest.raises(LLMError, match="did not answer within 1s"):
            collect(llm, PONG, timeout_s=1.0)
        assert time.monotonic() - start < 5


def test_model_name_is_required() -> None:
    with pytest.raises(LLMError, match="NOTES_OPENAI_MODEL"):
        make_llm(Settings(llm_backend="openai", openai_base_url="http://127.0.0.1:9/v1"))


def test_factory_backends(tmp_path: Path) -> None:
    assert make_llm(Settings(llm_backend="extractive")) is None
    with pytest.raises(SettingsError) as err:
        make_llm(Settings(llm_backend="gpt-9"))
    for name in BACKENDS:
        assert name in str(err.value)
    assert default_model_path(Settings(models_dir=tmp_path)).parent == tmp_path
    assert default_model_path(Settings(llm_model_path=str(tmp_path / "m.gguf"))) == tmp_path / "m.gguf"
