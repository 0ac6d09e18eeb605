"""Pinned evidence: given line ranges become the prompt's evidence, instead of the lines that
retrieval and packing choose.

``eval answers --gold-evidence`` pins each question's gold lines. That measures the reader
ceiling: how well the model answers when the evidence is exactly right and holds nothing else.
Comparing it with a normal run splits the errors into those of choosing the lines and those of
reading them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from assistant.packing import Evidence
from assistant.retrieval import Corpus


class PinnedEvidence:
    def __init__(self, corpus: Callable[[], Corpus], redact: Callable[[str], str] | None) -> None:
        self.corpus = corpus
        self.redact = redact
        self.ranges: tuple[tuple[int, int], ...] = ()  # 1-based, inclusive; set before each question

    def pin(self, ranges: Sequence[Sequence[int]]) -> None:
        self.ranges = tuple((int(r[0]), int(r[1])) for r in ranges)

    def sources(self) -> set[str]:
        """The files in the notes: gold lines name no file, so pinning needs exactly one."""
        return {c.source for c in self.corpus().sequence}

    def evidence(self) -> list[Evidence]:
        """Each pinned range, split where it crosses a section, in the order given."""
        out: list[Evidence] = []
        sections = self.corpus().sequence
        for start, end in self.ranges:
            for chunk in sections:
                a, b = max(start, chunk.start_line), min(end, chunk.end_line)
                if a > b:
                    continue
                lines = chunk.text.split("\n")[a - chunk.start_line : b - chunk.start_line + 1]
                text = "\n".join(lines)
                if self.redact is not None:
                    text = self.redact(text)
                out.append(Evidence(len(out) + 1, chunk.source, chunk.heading, a, b, text))
        return out
