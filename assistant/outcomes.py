"""The answers the chain gives instead of the model's: the notes quoted, or "not in your notes".

Each says why, in the question's language (``prompts/messages.json``'s
``reason_*`` texts), so a user can tell a fallback from an answer and a
refusal from an empty index.
"""

from __future__ import annotations

from assistant.chain_config import Draft
from assistant.extractive import extractive_answer
from assistant.prompts import Prompts
from assistant.types import Answer


class Outcomes:
    def __init__(self, prompts: Prompts, backend: str, nearest: int) -> None:
        self.prompts = prompts
        self.backend = backend  # the chain's: a refusal names the backend that was asked
        self.nearest = nearest

    def fallback(self, d: Draft, reason: str, **values: str) -> Answer:
        """The notes quoted instead of the model's answer, saying why (``reason``: a reason_* key)."""
        why = self.prompts.message(f"reason_{reason}", d.lang, **values)
        return self.extractive(d, [self.prompts.message("fallback_notice", d.lang, reason=why)])

    def extractive(self, d: Draft, notices: list[str], intro: str = "extractive_intro") -> Answer:
        """The lines the model was (or would have been) given, quoted verbatim and cited, under
        ``intro`` (a messages key)."""
        assert d.result is not None
        text, cites = extractive_answer(list(d.evidence), self.prompts.message(intro, d.lang))
        return Answer(text, cites, True, d.standalone, "extractive", notices=list(d.notices) + notices)

    def unanswered(self, d: Draft) -> Answer:
        """The model found no answer in lines the gate found on topic: they are quoted under a first
        line that says so, since it is often wrong there (a notice after the lines came too late)."""
        return self.extractive(d, [], intro="model_no_answer")

    def refusal(self, d: Draft, reason: str, **values: str) -> Answer:
        """Says "not in your notes" in the question's language, with why and the nearest sections."""
        assert d.result is not None
        nearest = d.result.passages[: self.nearest]
        why = self.prompts.message(f"reason_{reason}", d.lang, **values)
        lines = [self.prompts.message("not_in_notes", d.lang, reason=why)]
        lines += [f"- {p.heading or p.source} ({p.ref})" for p in nearest]
        return Answer("\n".join(lines), [], False, d.standalone, self.backend, nearest, list(d.notices))
