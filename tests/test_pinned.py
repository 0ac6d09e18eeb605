"""Pinned evidence (eval's reader ceiling): exactly the given lines, per section, redacted."""

from __future__ import annotations

from dataclasses import replace
from types import SimpleNamespace

from assistant.pinned import PinnedEvidence
from assistant.secrets import Redactor
from index.models import Chunk


def _chunk(heading: str, start: int, lines: list[str]) -> Chunk:
    text = "\n".join(lines)
    return Chunk("ops.md", heading, start, start + len(lines) - 1, text, text, "h", f"id{start}")


CORPUS = SimpleNamespace(
    sequence=(
        _chunk("redis", 1, ["# redis", "maxmemory 2gb", "requirepass Qz8vLm2pWx"]),
        _chunk("nginx", 4, ["# nginx", "nginx -s reload", "nginx -t"]),
    )
)


def test_pinning_knows_the_files_of_the_notes() -> None:
    two = SimpleNamespace(sequence=(*CORPUS.sequence, replace(CORPUS.sequence[0], source="other.md")))
    assert PinnedEvidence(lambda: CORPUS, None).sources() == {"ops.md"}  # type: ignore[arg-type,return-value]
    assert PinnedEvidence(lambda: two, None).sources() == {"ops.md", "other.md"}  # type: ignore[arg-type,return-value]


def test_a_range_across_two_sections_becomes_one_piece_per_section_with_its_heading() -> None:
    pinned = PinnedEvidence(lambda: CORPUS, None)  # type: ignore[arg-type,return-value]
    pinned.pin([[5, 5], [2, 4]])
    ev = pinned.evidence()
    assert [(e.n, e.heading, e.start_line, e.end_line, e.text) for e in ev] == [
        (1, "nginx", 5, 5, "nginx -s reload"),
        (2, "redis", 2, 3, "maxmemory 2gb\nrequirepass Qz8vLm2pWx"),
        (3, "nginx", 4, 4, "# nginx"),
    ]


def test_pinned_lines_are_redacted_unless_secrets_are_shown() -> None:
    pinned = PinnedEvidence(lambda: CORPUS, Redactor().redact)  # type: ignore[arg-type,return-value]
    pinned.pin([[3, 3]])
    (ev,) = pinned.evidence()
    assert "Qz8vLm2pWx" not in ev.text and "[redacted]" in ev.text
    pinned.pin([[9, 12]])  # outside the notes: nothing
    assert pinned.evidence() == []
