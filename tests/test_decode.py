"""Decoding notes: UTF-8 (BOM or not), GBK, CRLF; binary and empty files are refused."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from index.chunker import Chunker, split_lines
from index.decode import NotIndexable, decode_bytes, iter_note_files, looks_binary, read_note

GBK_NOTE = """# 运维笔记：磁盘空间不足的排查

今天排查了一台服务器磁盘空间不足的问题。首先使用 df -h 查看各个分区的使用情况，发现根分区已经使用了百分之九十五。
然后用 du -sh /var/log/* 找出占用空间最大的目录，原来是应用日志没有做轮转，单个文件超过了二十个吉字节。

## 处理步骤

1. 停止写日志的服务，避免文件句柄被占用；
2. 压缩旧日志并转移到备份服务器；
3. 配置 logrotate，每天轮转一次，保留七天，超过大小自动压缩；
4. 重新启动服务，并确认磁盘使用率恢复正常。

## 经验总结

定期检查磁盘使用情况非常重要，建议在监控系统中设置告警阈值，例如使用率超过百分之八十时发送通知。
另外，删除正在被进程打开的文件并不会立即释放空间，需要用 lsof | grep deleted 找到对应进程并重启。
"""

MAX = 5_000_000


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_gbk_note_decodes_to_the_same_text(tmp_path: Path) -> None:
    assert len(GBK_NOTE) > 300
    data = GBK_NOTE.encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    doc = read_note(_write(tmp_path, "gbk.md", data), "gbk.md", MAX)
    assert doc.text == GBK_NOTE
    assert doc.encoding.lower().replace("_", "") in {"gb18030", "gbk", "gb2312"}
    assert doc.file_hash == hashlib.sha256(data).hexdigest()
    assert doc.source == "gbk.md"


def test_gbk_note_chunks_like_its_utf8_twin(tokens: Any) -> None:
    text, _ = decode_bytes(GBK_NOTE.encode("gbk"))
    chunker = Chunker(tokens, 256)
    assert chunker.chunk("a.md", text) == chunker.chunk("a.md", GBK_NOTE)
    headings = [c.heading for c in chunker.chunk("a.md", text)]
    assert "运维笔记：磁盘空间不足的排查 > 处理步骤" in headings


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 8,
        b"# looks like markdown\n\x00\x00\x00 then a NUL\n",
        bytes([1, 2, 3, 4, 5, 6, 7, 8]) * 200 + "中文".encode(),
    ],
    ids=["png", "nul-byte", "control-chars"],
)
def test_binary_is_refused(tmp_path: Path, data: bytes) -> None:
    assert looks_binary(data)
    with pytest.raises(NotIndexable, match="binary"):
        decode_bytes(data)
    with pytest.raises(NotIndexable, match="binary"):
        read_note(_write(tmp_path, "x.md", data), "x.md", MAX)


@pytest.mark.parametrize("data", [b"", b"   \n\n\t\r\n"], ids=["zero-bytes", "whitespace"])
def test_empty_file_is_refused(tmp_path: Path, data: bytes) -> None:
    with pytest.raises(NotIndexable, match="empty"):
        read_note(_write(tmp_path, "e.md", data), "e.md", MAX)


def test_too_large_is_refused_before_reading(tmp_path: Path) -> None:
    path = _write(tmp_path, "big.md", b"# big\n" + b"x" * 2_000_000)
    with pytest.raises(NotIndexable, match="too large"):
        read_note(path, "big.md", 1_000_000)


def test_utf8_bom_is_dropped(tokens: Any, tmp_path: Path) -> None:
    doc = read_note(_write(tmp_path, "bom.md", b"\xef\xbb\xbf# \xe6\xa0\x87\xe9\xa2\x98\nbody\n"), "bom.md", MAX)
    assert doc.text == "# 标题\nbody\n"
    assert doc.encoding == "utf-8"
    (chunk,) = Chunker(tokens, 256).chunk("bom.md", doc.text)
    assert chunk.heading == "标题"
    assert (chunk.start_line, chunk.end_line) == (1, 2)
    assert not chunk.text.startswith("\ufeff")


def test_plain_utf8_is_not_guessed(tmp_path: Path) -> None:
    text = "# café\n正文 ünïcödé ✓\n"
    doc = read_note(_write(tmp_path, "u.md", text.encode()), "u.md", MAX)
    assert (doc.text, doc.encoding) == (text, "utf-8")


def test_crlf_lines_match_an_editor(tokens: Any, tmp_path: Path) -> None:
    lines = ["# 标题", "", "第一行", "第二行", "", "## 小节", "内容"]
    data = "\r\n".join(lines).encode() + b"\r\n"
    doc = read_note(_write(tmp_path, "crlf.md", data), "crlf.md", MAX)
    assert split_lines(doc.text) == lines
    chunks = Chunker(tokens, 256).chunk("crlf.md", doc.text)
    assert [(c.start_line, c.end_line, c.heading) for c in chunks] == [(1, 4, "标题"), (6, 7, "标题 > 小节")]
    assert all("\r" not in c.text and "\r" not in c.embed_text for c in chunks)
    assert chunks[0].text == "# 标题\n\n第一行\n第二行"


def test_note_files_are_listed_sorted_without_hidden(tmp_path: Path) -> None:
    for rel in ["b.md", "a/z.txt", ".git/config", "a/.hidden.md", ".obsidian/x.md"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x")
    assert [src for _, src in iter_note_files(tmp_path)] == ["a/z.txt", "b.md"]
