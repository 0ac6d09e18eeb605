"""Pure-Python half of the web adapter: stream events in, chat markdown out.

No Gradio here, so all of it is unit-testable with a fake ``Assistant``.
A chat exchange is kept as a JSON-able *record* (question, history, checked
answer, citations); the chat window is rebuilt from the records, and the
history sent to the assistant is built from them too (the checked answer
text, never the rendered markdown).

Citations render as ``<details>`` elements: the summary names the range
(``file:start-end`` and heading path), opening it shows the cited lines,
numbered from ``start_line``. Citation text is already redacted upstream.
"""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.types import Answer, Citation, Passage, StreamEvent, Turn

PENDING = "_Searching your notes…_"
Record = dict[str, Any]
Message = dict[str, str]


def numbered(text: str, start_line: int) -> str:
    """``text`` with each line prefixed by its line number in the note."""
    lines = text.split("\n")
    width = len(str(start_line + len(lines) - 1))
    return "\n".join(f"{n:>{width}} | {line}".rstrip() for n, line in enumerate(lines, start_line))


def _fenced(text: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _details(label: str, ref: str, heading: str, text: str, start_line: int) -> str:
    summary = f"{html.escape(label)} <code>{html.escape(ref)}</code>"
    if heading:
        summary += f" · {html.escape(heading)}"
    body = _fenced(numbered(text, start_line))
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def citation_block(c: Citation) -> str:
    return _details(f"[{c.n}]", c.ref, c.heading, c.text, c.start_line)


def passage_block(p: Passage) -> str:
    return _details("•", p.ref, p.heading, p.text, p.start_line)


def sources_list(answer: Answer) -> str:
    """Plain markdown list of the citations (used by the ``/ask`` API)."""
    return "\n".join(f"- [{c.n}] `{c.ref}` {c.heading}".rstrip() for c in answer.citations)


def format_answer(answer: Answer, *, searched_for: str = "", details: bool = True) -> str:
    """The checked answer as markdown: text, notices, then sources (or nearest sections)."""
    parts = [f"_searched for: {searched_for}_"] if searched_for else []
    parts.append(answer.text.strip())
    parts += [f"> ⚠️ {n}" for n in answer.notices]
    if answer.citations:
        if details:
            parts.append("**Sources**\n\n" + "\n\n".join(citation_block(c) for c in answer.citations))
        else:
            parts.append("Sources:\n" + sources_list(answer))
    elif not answer.grounded and answer.nearest:
        if details:
            parts.append("**Nearest sections**\n\n" + "\n\n".join(passage_block(p) for p in answer.nearest))
        else:
            parts.append("Nearest sections:\n" + "\n".join(f"- `{p.ref}` {p.heading}".rstrip() for p in answer.nearest))
    return "\n\n".join(p for p in parts if p)


@dataclass
class StreamRenderer:
    """Folds ``StreamEvent``s into the markdown shown in the pending chat bubble.

    ``searched`` is shown only for follow-ups (when the query was rewritten from
    history); ``token`` deltas are appended; ``done`` replaces everything with the
    checked answer, which is authoritative.
    """

    follow_up: bool = False
    searched_for: str = ""
    streamed: str = ""
    answer: Answer | None = None
    markdown: str = field(default=PENDING)

    def feed(self, event: StreamEvent) -> str:
        if event.kind == "searched":
            self.searched_for = event.text if self.follow_up else ""
        elif event.kind == "token":
            self.streamed += event.text
        elif event.kind == "done" and event.answer is not None:
            self.answer = event.answer
            self.markdown = format_answer(event.answer, searched_for=self.searched_for)
            return self.markdown
        header = f"_searched for: {self.searched_for}_\n\n" if self.searched_for else ""
        self.markdown = header + (self.streamed or PENDING)
        return self.markdown


def history_of(records: Sequence[Record]) -> list[Turn]:
    """The conversation so far, as the assistant expects it (failed turns left out)."""
    turns: list[Turn] = []
    for r in records:
        if not r.get("error"):
            turns += [Turn("user", r["question"]), Turn("assistant", r["answer"])]
    return turns


def answer_record(question: str, history: Sequence[Turn], answer: Answer, markdown: str) -> Record:
    cites = [
        {"n": c.n, "source": c.source, "start_line": c.start_line, "end_line": c.end_line, "heading": c.heading}
        for c in answer.citations
    ]
    return {
        "id": uuid.uuid4().hex,
        "question": question,
        "history": [{"role": t.role, "content": t.content} for t in history],
        "answer": answer.text,
        "markdown": markdown,
        "citations": cites,
        "grounded": answer.grounded,
        "backend": answer.backend,
        "searched_for": answer.searched_for,
    }


def error_record(question: str, message: str) -> Record:
    text = f"⚠️ {message}"
    return {"id": uuid.uuid4().hex, "question": question, "answer": text, "markdown": text, "error": True}


def messages_of(records: Sequence[Record], pending: tuple[str, str] | None = None) -> list[Message]:
    """Chat messages: two per record (user, assistant), plus an optional pending exchange."""
    out: list[Message] = []
    for r in records:
        out += [{"role": "user", "content": r["question"]}, {"role": "assistant", "content": r["markdown"]}]
    if pending is not None:
        out += [{"role": "user", "content": pending[0]}, {"role": "assistant", "content": pending[1]}]
    return out


def record_at(records: Sequence[Record], message_index: int | Sequence[int]) -> Record | None:
    """The record behind chat message ``message_index`` (the answers to vote on), if any."""
    index = message_index if isinstance(message_index, int) else message_index[0]
    i, is_answer = divmod(index, 2)
    if not is_answer or not 0 <= i < len(records) or records[i].get("error"):
        return None
    return records[i]
