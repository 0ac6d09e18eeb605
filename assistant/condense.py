"""Follow-up questions become standalone search queries.

The LLM rewrites the last question with its conversation (``prompts/condense.txt``).
A 1.5B model often answers instead of rewriting, so a rewrite is used only when
it looks like a question about the same thing: no citation markers or code
blocks, every identifier the user typed (``KillWait=30``) kept, every flag kept
as typed (``-n``, not ``-N``), and at least one word in common with the
question. Otherwise the cheap condensation is used: the previous user turn plus
the question, which carries the topic.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.citations import MARKER
from assistant.prompts import Prompts
from assistant.search import condense
from assistant.terms import identifiers
from assistant.types import LLM, ChatMessage, LLMError, Turn
from index.lexical import tokenize

_CODE_BLOCK = re.compile(r"```.*?```", re.S)
_FLAG = re.compile(r"(?<![\w-])--?[A-Za-z][\w-]*")
HISTORY_CHARS = 200  # of each earlier turn: the topic, not the whole answer
MAX_TOKENS = 48


def _brief(turn: Turn) -> Turn:
    text = MARKER.sub("", _CODE_BLOCK.sub("", turn.content)).strip()
    return Turn(turn.role, text[:HISTORY_CHARS])


def usable(rewrite: str, question: str) -> bool:
    if not 2 <= len(rewrite) <= 300 or "`" in rewrite or MARKER.search(rewrite):
        return False
    low = rewrite.lower()
    if any(n.lower() not in low for n in identifiers(question)):
        return False
    if any(not re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", rewrite) for f in _FLAG.findall(question)):
        return False  # a flag kept as typed: -n is not -N
    asked = set(tokenize(question))
    return not asked or bool(asked & set(tokenize(rewrite)))


class Condenser:
    def __init__(self, llm: LLM | None, prompts: Prompts, timeout_s: float) -> None:
        self.llm = llm
        self.prompts = prompts
        self.timeout_s = timeout_s

    def preamble(self) -> list[ChatMessage]:
        """A rewrite prompt with no conversation: the fixed start every rewrite shares (to warm)."""
        return self._messages("", ())

    def _messages(self, question: str, history: Sequence[Turn]) -> list[ChatMessage]:
        prompt = self.prompts.condense.render(history=[_brief(t) for t in history[-2:]], question=question)
        # The same system message as answers: it keeps llama.cpp's cached prefix (the template
        # would otherwise insert its own default system prompt and evict ours).
        return [ChatMessage("system", self.prompts.system), ChatMessage("user", prompt)]

    def standalone(self, question: str, history: Sequence[Turn]) -> str:
        cheap = condense(question, history)
        if self.llm is None or not history:
            return cheap
        try:
            text = "".join(self.llm.stream(self._messages(question, history), max_tokens=MAX_TOKENS, timeout_s=self.timeout_s))
        except LLMError:
            return cheap
        line = text.strip().split("\n")[0].strip().strip("\"'“”")
        return line if usable(line, question) else cheap
