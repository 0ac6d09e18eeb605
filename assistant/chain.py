"""The answer chain: condense -> retrieve -> gate -> pack -> prompt -> generate -> check.

The preparation steps are LangChain runnables composed into one sequence;
generation streams from the LLM backend, and the result is checked (citations,
verbatim commands, secrets) before it becomes an ``Answer``. ``answer()`` and
``stream()`` are the public entry points; retrieval stays callable on its own
through ``Searcher``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any

from assistant.chain_config import ChainConfig, Draft
from assistant.citations import MARKER, attribute, check
from assistant.condense import Condenser
from assistant.grounding import GroundingGate
from assistant.guard import OutputGuard
from assistant.language import detect_language
from assistant.linescore import LineScorer
from assistant.outcomes import Outcomes
from assistant.packing import select
from assistant.pinned import PinnedEvidence
from assistant.prompts import Prompts
from assistant.replies import SENTINEL, echoes, looping, may_be_sentinel, prompt_echo, restart
from assistant.search import Searcher
from assistant.types import LLM, Answer, ChatMessage, LLMError, QuestionFit, QuestionScoring, StreamEvent, Turn, Warmable
from index.tokens import TokenCounter

WARM_UP_QUESTION = "kubectl 怎么看 pod 的日志 (warm-up)"


class AnswerChain:
    def __init__(
        self,
        *,
        searcher: Searcher,
        llm: LLM | None,
        prompts: Prompts,
        tokens: TokenCounter,
        lines: LineScorer,
        gate: GroundingGate,
        guard: OutputGuard,
        config: ChainConfig,
        pinned: PinnedEvidence | None = None,
    ) -> None:
        self.searcher = searcher
        self.llm = llm
        self.prompts = prompts
        self.tokens = tokens
        self.lines = lines
        self.gate = gate
        self.guard = guard
        self.config = config
        self.pinned = pinned  # eval's reader ceiling: these lines are the evidence
        self.backend = llm.name if llm is not None else "extractive"
        self.outcomes = Outcomes(prompts, self.backend, config.nearest)
        self.condenser = Condenser(llm, prompts, timeout_s=min(15.0, config.timeout_s))
        self._prepare: Any = None

    def warm(self) -> None:
        """Load what the first question would otherwise wait for: the retrieval path (embedding
        model, word segmentation, language detection: about 4 s cold) and the KV cache of the
        prompts' fixed starts: a follow-up rewrite's instructions, then an answer's system prompt
        (last: it stays live for the first question)."""
        self.prepare(WARM_UP_QUESTION)
        if isinstance(self.llm, Warmable):
            answer = self._prompt(Draft("", (), "en")).messages
            try:
                self.llm.warm(self.condenser.preamble(), answer)
            except LLMError:
                pass  # the first question will fall back and say why

    # -- preparation: a LangChain runnable sequence -------------------------------------
    def prepare(self, question: str, history: Sequence[Turn] = ()) -> Draft:
        if self._prepare is None:
            from langchain_core.runnables import RunnableLambda

            self._prepare = (
                RunnableLambda(self._condense, name="condense")
                | RunnableLambda(self._retrieve, name="retrieve")
                | RunnableLambda(self._pack, name="pack")
                | RunnableLambda(self._prompt, name="prompt")
            )
        cleaned, notices = self.searcher.prepare(question)  # raises QueryError early
        draft = Draft(cleaned, tuple(history), detect_language(cleaned), notices=tuple(notices))
        result: Draft = self._prepare.invoke(draft)
        return result

    def _condense(self, d: Draft) -> Draft:
        if not d.history:
            return d
        return replace(d, standalone=self.condenser.standalone(d.question, d.history))

    def _retrieve(self, d: Draft) -> Draft:
        result = self.searcher.search(d.question, d.history, k=self.config.k, standalone=d.standalone or None)
        corpus = self.searcher.retriever.corpus()
        # Named terms are judged on what the user wrote (question and earlier turns), never on
        # the model's rewrite, which may add terms of its own.
        asked = " ".join([t.content for t in d.history if t.role == "user"][-1:] + [d.question])
        gate = self.gate.check(asked, result.candidates, corpus)
        return replace(d, standalone=result.query, result=result, gate=gate, secrets=self.guard.secrets_in(result))

    def _pack(self, d: Draft) -> Draft:
        assert d.result is not None
        if self.pinned is not None:
            return replace(d, evidence=tuple(self.pinned.evidence()))
        passages = d.result.context or d.result.passages
        scored = self.lines.score(d.result.query, passages, focus=d.question if d.history else "")
        ev = select(scored, self.tokens, budget=self.config.context_tokens)
        return replace(d, evidence=tuple(ev))

    def _prompt(self, d: Draft) -> Draft:
        user = self.prompts.answer.render(
            passages=d.evidence,
            question=d.question,
            language=self.prompts.message("language_names", d.lang),
        )
        return replace(d, messages=(ChatMessage("system", self.prompts.system), ChatMessage("user", user)))

    # -- generation and checks ---------------------------------------------------------------
    def answer(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        final = None
        for event in self.stream(question, history):
            if event.kind == "done":
                final = event.answer
        assert final is not None
        return final

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[StreamEvent]:
        d = self.prepare(question, history)
        assert d.result is not None and d.gate is not None
        yield StreamEvent("searched", d.standalone)
        if not d.gate.grounded or not d.evidence:
            refusal = self.outcomes.refusal(d, d.gate.reason or "nothing_matched", terms=", ".join(d.gate.unknown_terms))
            yield StreamEvent("done", answer=refusal)
            return
        if self.llm is None:
            yield StreamEvent("done", answer=self.outcomes.extractive(d, []))
            return
        raw = ""
        emitted = 0
        headers = [f"[{e.n}] {e.heading}" for e in d.evidence]
        try:
            for delta in self.llm.stream(d.messages, max_tokens=self.config.max_tokens, timeout_s=self.config.timeout_s):
                raw += delta
                if looping(raw):  # leaving the loop stops the generation
                    break
                if prompt_echo(raw, headers) is not None:  # it writes out its prompt: stop there
                    break
                cut = restart(raw) if "\n" in delta else None
                if cut is not None:  # the answer started over: keep it once
                    raw = raw[:cut]
                    break
                if may_be_sentinel(raw):
                    continue  # might be the "not in notes" sentinel: hold back
                safe = self.guard.streamable(raw, d.secrets)
                if len(safe) > emitted:
                    yield StreamEvent("token", safe[emitted:])
                    emitted = len(safe)
        except LLMError as exc:
            yield StreamEvent("done", answer=self.outcomes.fallback(d, "llm_error", detail=str(exc)))
            return
        if looping(raw):
            yield StreamEvent("done", answer=self.outcomes.fallback(d, "looping"))
            return
        copied = prompt_echo(raw + "\n", headers)  # its last line is complete now
        if copied is not None:  # keep what came before the copy, if anything
            raw = raw[:copied]
            if not raw.strip():
                yield StreamEvent("done", answer=self.outcomes.fallback(d, "unusable"))
                return
        final, doubted = self._finish(d, raw)
        if doubted and final.grounded:  # the model found no answer: do the lines even name it?
            missing = self.gate.lacking(d.question, _lines_text(d), _shown(d), self.searcher.retriever.corpus())
            if missing:
                final = self.outcomes.refusal(d, "lines_lack_terms", terms=", ".join(missing))
        if not emitted:  # e.g. the held-back sentinel: show the checked answer while the question is scored
            yield StreamEvent("token", final.text)
        checked = final.grounded and raw.strip() and self.config.question_check
        fit = self._question_fit(d) if checked else None  # after generation: TTFT unchanged
        if fit is not None and self.config.unaddressed(fit, doubted):
            final = self.outcomes.refusal(d, "lines_miss")
        yield StreamEvent("done", answer=final)

    def _question_fit(self, d: Draft) -> QuestionFit | None:
        """How much the chosen lines raise the model's likelihood of the question (local model only)."""
        if not isinstance(self.llm, QuestionScoring):
            return None
        bare = self._prompt(replace(d, evidence=())).messages
        return self.llm.question_fit(d.messages, bare, d.question)

    def _finish(self, d: Draft, raw: str) -> tuple[Answer, bool]:
        """The checked answer, and whether the model doubted the lines: it said NOT_IN_NOTES, or
        invented most of its commands (the question check then wants stronger evidence)."""
        assert d.result is not None
        text = raw.strip()
        if not text:
            return self.outcomes.fallback(d, "empty"), False
        if SENTINEL in text:
            # The gate found the notes on topic, and there the 1.5B model's own "not in notes" is
            # often wrong (12 of 78 covered dev and held-out questions). Show the lines instead.
            return self.outcomes.unanswered(d), True
        if echoes(text, d.question):
            return self.outcomes.fallback(d, "unusable"), False
        text = self.guard.clean(text, d.secrets)
        if not MARKER.search(text):  # the model cited nothing: each paragraph to the passage it repeats
            attributed = attribute(text, list(d.evidence))
            if attributed is None:
                return self.outcomes.fallback(d, "unusable"), False
            text = attributed
        checked = check(text, list(d.evidence), self.prompts.message("not_verbatim", d.lang))
        invented = checked.unsupported_spans
        if invented and 2 * invented >= checked.code_spans:
            # At least half the commands the model gave are absent from the notes: more invention
            # than notes, so quote the notes instead (a lone stray command is only flagged).
            if invented >= self.config.invented_commands:
                return self.outcomes.refusal(d, "invented_commands"), True
            return self.outcomes.fallback(d, "commands_not_in_notes"), True
        text, cites = checked.text, checked.citations
        if not cites:
            return self.outcomes.fallback(d, "no_citation"), False
        return Answer(text, cites, True, d.standalone, self.backend, notices=list(d.notices)), False


def _lines_text(d: Draft) -> str:
    """The lines the model was given, headings included."""
    return "\n".join(f"{e.heading}\n{e.text}" for e in d.evidence)


def _shown(d: Draft) -> str:
    """The lines the model was given, without their headings."""
    return "\n".join(e.text for e in d.evidence)
