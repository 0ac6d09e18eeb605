"""Typed records and small Protocols shared across the query side.

Adapters (CLI, web UI, Slack) depend only on these, never on how retrieval or
generation works inside.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable


@dataclass(frozen=True)
class Turn:
    role: Literal["user", "assistant"]
    content: str


@dataclass(frozen=True)
class Passage:
    """Exact source lines found for a question (``text`` may be redacted)."""

    source: str
    heading: str
    start_line: int
    end_line: int
    text: str
    score: float

    @property
    def ref(self) -> str:
        return f"{self.source}:{self.start_line}-{self.end_line}"


@dataclass(frozen=True)
class Citation:
    """What an ``[n]`` marker in an answer points to."""

    n: int
    source: str
    start_line: int
    end_line: int
    heading: str
    text: str  # the cited lines, redacted

    @property
    def ref(self) -> str:
        return f"{self.source}:{self.start_line}-{self.end_line}"


@dataclass(frozen=True)
class Answer:
    text: str  # what the assistant says, with [n] markers
    citations: list[Citation]
    grounded: bool  # False: "not in your notes"
    searched_for: str  # the standalone query used for retrieval
    backend: str  # "local", "openai", "extractive"
    nearest: list[Passage] = field(default_factory=list)  # shown when not grounded
    notices: list[str] = field(default_factory=list)  # fallbacks, truncation...


@dataclass(frozen=True)
class StreamEvent:
    """``searched`` (text=query), ``token`` (text=delta), then one ``done`` with the answer.

    The final ``Answer.text`` is authoritative: citation checking may renumber
    or drop markers that were streamed.
    """

    kind: Literal["searched", "token", "done"]
    text: str = ""
    answer: Answer | None = None


class Assistant(Protocol):
    def answer(self, question: str, history: Sequence[Turn] = ()) -> Answer: ...

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[StreamEvent]: ...


@dataclass(frozen=True)
class ChatMessage:
    role: Literal["system", "user", "assistant"]
    content: str


class LLM(Protocol):
    """A chat model that streams text deltas. Raises ``LLMError`` when unusable."""

    name: str

    def stream(self, messages: Sequence[ChatMessage], *, max_tokens: int, timeout_s: float) -> Iterator[str]: ...


@dataclass(frozen=True)
class QuestionFit:
    """How much the chosen lines make the question's tokens more expected, in nats per token."""

    gain: float  # the mean over the question's scored tokens
    weakest: float  # the lowest over its words (no punctuation, no English stop word): a concept the lines make less expected


@runtime_checkable
class QuestionScoring(Protocol):
    """A model that can say how much the chosen lines make the question more likely (the local one)."""

    def question_fit(
        self, with_lines: Sequence[ChatMessage], bare: Sequence[ChatMessage], question: str
    ) -> QuestionFit | None: ...


@runtime_checkable
class Warmable(Protocol):
    """A model that can evaluate fixed prompt preambles ahead of the first question (the local one)."""

    def warm(self, *preambles: Sequence[ChatMessage]) -> float: ...


class LLMError(RuntimeError):
    """The backend is down, timed out, or returned nothing usable."""
