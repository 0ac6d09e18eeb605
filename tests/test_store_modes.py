"""The same sync + query against embedded Chroma and a Chroma server (the `chroma_url` fixture)."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from index.chunker import CHUNKER_VERSION, Chunker
from index.decode import file_hash
from index.store import NoteStore, make_client
from index.sync import Syncer
from tests.conftest import CountingEmbedder, NetworkBlocked, write_notes

FILES: dict[str, str | bytes] = {
    "k8s.md": "# kubernetes\n\n## pod\nkubectl describe pod nginx   \n\tindented with a tab\n\n"
    "## 部署\n```shell\n# 不是标题\nkubectl apply -f x.yaml\n```\n",
    "crlf.md": "# Windows 笔记\r\n\r\n第一行 ✓ 🚀\r\n  第二行  \r\n",
    "sub/plain.txt": "没有标题的纯文本。\nsecond line\n",
}


@dataclass
class Mode:
    store: NoteStore
    syncer: Syncer
    emb: CountingEmbedder
    notes: Path
    chunker: Chunker
    url: str
    index_dir: Path


@pytest.fixture(params=["embedded", pytest.param("server", marks=pytest.mark.server)])
def mode(request: pytest.FixtureRequest, tmp_path: Path, tokens: Any) -> Iterator[Mode]:
    """Embedded ``PersistentClient``, or ``HttpClient`` against the (CI or private) server."""
    url = request.getfixturevalue("chroma_url") if request.param == "server" else ""
    name = f"notes-{uuid.uuid4().hex[:12]}" if url else "notes"
    client = make_client(tmp_path / "index", url)
    emb = CountingEmbedder()
    store = NoteStore(client, name, emb, CHUNKER_VERSION)
    chunker = Chunker(tokens, 256)
    notes = write_notes(tmp_path / "notes", FILES)
    syncer = Syncer(store, chunker, 5_000_000, tmp_path / "lexical")
    yield Mode(store, syncer, emb, notes, chunker, url, tmp_path / "index")
    if url:
        client.delete_collection(name)


def _expected(m: Mode) -> dict[str, Any]:
    out = {}
    for rel in FILES:
        data = (m.notes / rel).read_bytes()
        for c in m.chunker.chunk(rel, data.decode("utf-8")):
            out[c.id] = (c, file_hash(data))
    return out


def test_records_round_trip_exactly(mode: Mode) -> None:
    report = mode.syncer.sync(mode.notes)
    expected = _expected(mode)
    assert report.embedded == mode.emb.embedded == len(expected) == mode.store.count()
    got = {r.chunk.id: (r.chunk, r.file_hash) for r in mode.store.records()}
    assert got == expected
    k8s = sorted((c for c, _ in got.values() if c.source == "k8s.md"), key=lambda c: c.start_line)
    # "# kubernetes" has no content of its own: its line joins its first child's chunk.
    assert [(c.heading, c.start_line, c.end_line) for c in k8s] == [
        ("kubernetes > pod", 1, 5),
        ("kubernetes > 部署", 7, 11),
    ]
    assert k8s[0].text == "# kubernetes\n\n## pod\nkubectl describe pod nginx   \n\tindented with a tab"
    (crlf,) = [c for c, _ in got.values() if c.source == "crlf.md"]
    assert crlf.text == "# Windows 笔记\n\n第一行 ✓ 🚀\n  第二行  "


def test_query_finds_each_chunk(mode: Mode) -> None:
    mode.syncer.sync(mode.notes)
    for cid, (chunk, _) in _expected(mode).items():
        (hit,) = mode.store.query(mode.emb.embed_query(chunk.embed_text), 1)
        assert hit.chunk == chunk and hit.chunk.id == cid
        assert hit.score == pytest.approx(1.0, abs=1e-4)
    assert len(mode.store.query(mode.emb.embed_query("kubectl"), 50)) == mode.store.count()


def test_resync_and_edit_in_both_modes(mode: Mode) -> None:
    mode.syncer.sync(mode.notes)
    again = mode.syncer.sync(mode.notes)
    assert (again.added, again.updated, again.removed, again.embedded) == (0, 0, 0, 0)
    path = mode.notes / "k8s.md"
    path.write_text(path.read_text("utf-8").replace("nginx", "redis"), "utf-8")
    edited = mode.syncer.sync(mode.notes)
    assert (edited.embedded, edited.added, edited.removed) == (1, 1, 1)
    got = {r.chunk.id: (r.chunk, r.file_hash) for r in mode.store.records()}
    assert got == _expected(mode)


def test_a_second_client_sees_the_same_index(mode: Mode) -> None:
    mode.syncer.sync(mode.notes)
    fresh = make_client(mode.index_dir, mode.url)
    reopened = NoteStore(fresh, mode.store.name, CountingEmbedder(), CHUNKER_VERSION)
    assert reopened.ensure_stamp() == ""
    assert sorted(r.chunk.id for r in reopened.records()) == sorted(_expected(mode))


@pytest.mark.parametrize("address", [("10.255.255.1", 80), ("example.com", 443), ("2001:db8::1", 80, 0, 0)])
def test_outbound_network_is_blocked(address: tuple[Any, ...]) -> None:
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s, pytest.raises(NetworkBlocked):
        s.connect(address)
    with pytest.raises(NetworkBlocked):
        socket.create_connection(address[:2], timeout=1)


def test_loopback_is_allowed() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        with socket.create_connection(server.getsockname(), timeout=5):
            pass
