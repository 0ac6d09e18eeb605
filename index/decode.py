"""Read a note file into text, or say clearly why it cannot be indexed.

UTF-8 (with or without BOM) is tried first; anything else goes through
charset-normalizer, which handles GBK/GB18030, Big5, Shift-JIS and Latin
encodings. Files that look binary (NUL bytes, many control characters) or are
larger than the configured limit are refused with a reason. Files are opened
read-only: nothing here ever writes a note.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from index.models import Document

SUFFIXES = (".md", ".markdown", ".txt")
_SNIFF = 8192


class NotIndexable(Exception):
    """The file is skipped; ``str(exc)`` is the reason shown in the report."""


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def looks_binary(data: bytes) -> bool:
    head = data[:_SNIFF]
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13, 27))
    return bool(head) and control / len(head) > 0.05


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Return ``(text, encoding)`` or raise :class:`NotIndexable`."""
    if looks_binary(data):
        raise NotIndexable("binary file (not text)")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None or best.encoding is None:
        raise NotIndexable("unknown text encoding (not UTF-8, GBK or another known charset)")
    enc = best.encoding
    # GB2312 is a subset of GB18030: decode with the superset so rare characters survive.
    if enc.replace("_", "").lower() in {"gb2312", "gbk"}:
        enc = "gb18030"
    return data.decode(enc, errors="replace"), enc


def read_note(path: Path, source: str, max_bytes: int) -> Document:
    size = path.stat().st_size
    if size > max_bytes:
        raise NotIndexable(f"too large ({size / 1e6:.1f} MB > limit {max_bytes / 1e6:.1f} MB; raise NOTES_MAX_FILE_MB)")
    with path.open("rb") as fh:
        data = fh.read()
    if not data.strip():
        raise NotIndexable("empty file")
    text, encoding = decode_bytes(data)
    return Document(source=source, text=text, encoding=encoding, file_hash=file_hash(data))


def iter_note_files(notes_dir: Path) -> list[tuple[Path, str]]:
    """All candidate files under ``notes_dir`` (hidden paths skipped), sorted."""
    found = []
    for path in sorted(notes_dir.rglob("*")):
        rel = path.relative_to(notes_dir)
        if any(part.startswith(".") for part in rel.parts) or not path.is_file():
            continue
        found.append((path, rel.as_posix()))
    return found
