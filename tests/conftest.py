"""Shared fixtures for the ingest tests.

At import: model hubs are forced offline and every outbound connection is
refused (only loopback and AF_UNIX sockets may connect), for the whole session.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT / "notes" / "ops-notes.md"
VENV_BIN = Path(sys.executable).parent

_LOOPBACK = {"127.0.0.1", "localhost", "::1"}


class NetworkBlocked(OSError):
    """Raised instead of any connection that would leave this machine."""


def _allowed(family: int, address: Any) -> bool:
    if getattr(socket, "AF_UNIX", None) is not None and family == socket.AF_UNIX:
        return True
    host = address[0] if isinstance(address, tuple) and address else address
    if isinstance(host, bytes):
        host = host.decode(errors="replace")
    return isinstance(host, str) and host.lower() in _LOOPBACK


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_create_connection = socket.create_connection


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if not _allowed(self.family, address):
        raise NetworkBlocked(f"tests may not open network connections (to {address!r})")
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    if not _allowed(self.family, address):
        raise NetworkBlocked(f"tests may not open network connections (to {address!r})")
    return _real_connect_ex(self, address)


def _guarded_create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
    if not _allowed(socket.AF_INET, address):
        raise NetworkBlocked(f"tests may not open network connections (to {address!r})")
    return _real_create_connection(address, *args, **kwargs)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.create_connection = _guarded_create_connection


class CountingEmbedder:
    """A real ``Embedder``: hashed character bigrams, L2-normalised, no model.

    Similar texts get similar vectors; identical texts get identical vectors.
    ``embedded`` counts every text passed to ``embed_passages``.
    """

    def __init__(self, name: str = "counting-fake", dim: int = 64) -> None:
        self.name = name
        self.dim = dim
        self.embedded = 0
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        grams = [text[i : i + 2] for i in range(max(1, len(text) - 1))]
        for g in grams:
            h = int.from_bytes(hashlib.blake2b(g.encode("utf-8"), digest_size=8).digest(), "big")
            v[h % self.dim] += 1.0 if (h >> 32) & 1 else -1.0
        n = float(np.linalg.norm(v))
        if n == 0.0:
            v[0] = 1.0
            n = 1.0
        return v / n

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.calls += 1
        self.embedded += len(texts)
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


def file_digests(folder: Path) -> dict[str, str]:
    """sha256 of every file under ``folder`` (to prove notes are never written)."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def write_notes(folder: Path, files: dict[str, str | bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    return folder


@pytest.fixture(scope="session")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from index.tokens import TokenCounter

    return TokenCounter(tmp_path_factory.mktemp("tiktoken"))


@pytest.fixture(scope="session")
def use_embedder() -> Any:
    """The real Google USE multilingual model (loads its bundled weights)."""
    from index.embedders import UseEmbedder

    return UseEmbedder()


@pytest.fixture
def counting_embedder() -> CountingEmbedder:
    return CountingEmbedder()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_heartbeat(url: str, proc: subprocess.Popen[bytes] | None, log: Path | None) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    detail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"chroma server at {url} did not answer its heartbeat\n{detail}")


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """NOTES_TEST_CHROMA_URL when CI started a server; else a private one on a free port."""
    given = os.environ.get("NOTES_TEST_CHROMA_URL", "").strip()
    if given:
        url = given.rstrip("/")
        if not re.match(r"^https?://", url):
            url = "http://" + url
        _wait_heartbeat(url, None, None)
        yield url
        return
    chroma = VENV_BIN / "chroma"
    exe = str(chroma) if chroma.exists() else shutil.which("chroma")
    if exe is None:
        raise RuntimeError("the `chroma` CLI is not installed in the venv")
    tmp = tmp_path_factory.mktemp("chroma-server")
    port = _free_port()
    log = tmp / "chroma.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [exe, "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(tmp / "db")],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"},
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_heartbeat(url, proc, log)
        yield url
    finally:
        stop_process(proc, 15)


def stop_process(proc: subprocess.Popen[Any], timeout_s: float) -> None:
    """Terminate a server the tests started; kill it if it will not go."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def fake() -> Iterator[Any]:
    """The recording fake Slack Web API on 127.0.0.1 (tests/fake_slack_api.py)."""
    from tests.fake_slack_api import FakeSlackApi

    api = FakeSlackApi().start()
    yield api
    api.stop()


def ref_covering(text: str, line: int, source: str = "ops-notes.md") -> str | None:
    """The first ``source:start-end`` reference in ``text`` whose range holds ``line``."""
    for m in re.finditer(rf"{re.escape(source)}:(\d+)-(\d+)", text):
        if int(m.group(1)) <= line <= int(m.group(2)):
            return m.group(0)
    return None
