"""Start a real OpenAI-compatible chat server (llama.cpp's) for tests.

    with llama_server(gguf_path) as server:
        server.base_url  # "http://127.0.0.1:PORT/v1"

Runs ``python -m llama_cpp.server`` (needs ``llama-cpp-python[server]``) on a
free loopback port and waits until ``/v1/models`` answers. The server's output
goes to a temp log, quoted in the error if it fails to start.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.llm.factory import default_model_path
from assistant.settings import load_settings
from assistant.types import ChatMessage

# Shared by the local and openai backend tests: the assembled GGUF and a tiny deterministic prompt.
MODEL = default_model_path(load_settings())
needs_model = pytest.mark.skipif(
    not MODEL.is_file(), reason=f"{MODEL} is absent: run `make install` (python -m assistant.model_setup)"
)
PONG = [
    ChatMessage("system", "You are a terse assistant."),
    ChatMessage("user", "Reply with exactly the word: pong"),
]

MODEL_ALIAS = "local-test-model"


@dataclass(frozen=True)
class LlamaServer:
    base_url: str  # ends in /v1
    model: str
    pid: int


class ServerStartError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _models_ready(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=2) as resp:
            return resp.status == 200 and bool(json.load(resp).get("data"))
    except (OSError, ValueError, urllib.error.URLError):
        return False


@contextmanager
def llama_server(
    model_path: Path, *, n_ctx: int = 2048, n_threads: int = 0, start_timeout_s: float = 180.0
) -> Iterator[LlamaServer]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    threads = n_threads if n_threads > 0 else (os.cpu_count() or 1)
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model_path),
        "--model_alias",
        MODEL_ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        str(n_ctx),
        "--n_threads",
        str(threads),
        "--n_threads_batch",
        str(threads),
    ]
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8", errors="replace") as log:
        # Passive OpenMP waiting: spinning workers collapse throughput on a busy 2-core machine.
        env = {**os.environ, "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY", "PASSIVE")}
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        try:
            deadline = time.monotonic() + start_timeout_s
            while not _models_ready(base_url):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    tail = log.read()[-3000:]
                    why = f"exited with {proc.returncode}" if proc.poll() is not None else "timed out"
                    raise ServerStartError(f"llama_cpp.server {why} (cmd: {' '.join(cmd)}):\n{tail}")
                time.sleep(0.25)
            yield LlamaServer(base_url=base_url, model=MODEL_ALIAS, pid=proc.pid)
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=15)
