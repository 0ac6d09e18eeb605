"""The no-LLM answer: the best lines of the notes, quoted verbatim and cited.

Fast and deterministic. It is also the fallback when the LLM backend is down,
times out, or returns nothing usable.
"""

from __future__ import annotations

from dataclasses import replace

from assistant.packing import Evidence
from assistant.types import Citation


def extractive_answer(evidence: list[Evidence], intro: str) -> tuple[str, list[Citation]]:
    """Quote every piece of evidence, best first: the packer already cut it to the lines that matter
    and to the prompt's budget, so a fallback shows the user all the lines the model was given
    (the answering line is sometimes the last piece: the model doubted it, the user need not)."""
    quoted = [replace(e, n=i) for i, e in enumerate(evidence, 1)]
    parts = [intro]
    for i, e in enumerate(quoted, 1):
        heading = f" {e.heading}" if e.heading else ""
        fence = "`" * max(3, _longest_backtick_run(e.text) + 1)
        parts.append(f"[{i}]{heading} ({e.ref}):\n{fence}\n{e.text}\n{fence}")
    cites = [Citation(i, e.source, e.start_line, e.end_line, e.heading, e.text) for i, e in enumerate(quoted, 1)]
    return "\n\n".join(parts), cites


def _longest_backtick_run(text: str) -> int:
    import re

    return max((len(m) for m in re.findall(r"`+", text)), default=0)
