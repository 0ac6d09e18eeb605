"""Decides whether the notes cover a question ("not in your notes" gate).

Retrieval scores alone do not separate covered from uncovered questions, and
the small model's own yes/no judgement does not either. This gate combines:

1. Named-term evidence (looked up by ``terms``): a *specific* term in the
   question (a tool, command, flag or config key: it has ``-_./=`` or digits,
   or is rare in general English by word frequency, rarer still in an
   all-English question) that appears nowhere in the notes means the notes do
   not cover the question (``git bisect``, ``sinfo``, ``gzip``...). Common English words are never
   counted: they are naturally absent from Chinese notes. Except in three
   positions: written as a flag (``--previous``), right after a command the
   notes run with subcommands (``git stash``, ``terraform destroy``; not in a
   title such as ``helm terminology:``, nor a word for the answer's form:
   ``which kubectl command``), or capitalised in a Chinese question (``用
   Harbor 搭``). Hyphenated prose (``on-chip``, ``re-registers``, ``a
   wall-clock length``) is not a term, and of alternatives (``centos/rhel``,
   ``affinity/anti-affinity``) one in the notes is enough.
2. Retrieval evidence: the best dense similarity and the best BM25 score must
   reach thresholds calibrated on the dev set (``eval answers`` reports them),
   unless the question names a term the notes use (``what is slurm?``).
3. Answer-side checks (in the chain): an answer that itself says the notes do
   not cover it, or that cites nothing, is not grounded. When the model found no
   answer, a named term that the notes mention elsewhere but the chosen lines
   never do (``ldap`` asked, user-account lines found) settles it: not covered;
   so does an operation the lines never show for the command they run
   (``helm uninstall`` asked, ``helm install`` shown).
"""

from __future__ import annotations

from dataclasses import dataclass

from assistant.retrieval import Candidate, Corpus
from assistant.terms import Lines, named_terms, unasked_operations, unknown_terms, unmentioned_terms


@dataclass(frozen=True)
class GateResult:
    grounded: bool
    reason: str  # why not: a key of prompts/messages.json's reason_* texts ("" when grounded)
    unknown_terms: tuple[str, ...]
    top_dense: float
    top_lexical: float


class GroundingGate:
    def __init__(self, *, min_dense: float = 0.22, min_lexical: float = 3.0) -> None:
        self.min_dense = min_dense
        self.min_lexical = min_lexical

    def lacking(self, question: str, lines: str, shown: str, corpus: Corpus) -> list[str]:
        """What the chosen lines (``lines``: with their headings; ``shown``: without) lack of the
        question: terms the notes mention elsewhere but these lines never do; failing those, an
        operation they never show for the command they run (``helm uninstall`` asked, ``helm
        install`` shown)."""
        chosen = Lines.of(lines)
        return unmentioned_terms(question, chosen, Lines.notes(corpus)) or unasked_operations(question, chosen, shown)

    def check(self, question: str, candidates: list[Candidate], corpus: Corpus) -> GateResult:
        top_dense = max((c.dense for c in candidates), default=0.0)
        top_lex = max((c.lexical for c in candidates), default=0.0)
        unknown = tuple(unknown_terms(question, corpus))
        if not candidates:
            return GateResult(False, "nothing_matched", unknown, top_dense, top_lex)
        if unknown:
            return GateResult(False, "unknown_terms", unknown, top_dense, top_lex)
        # Far from every section, unless it names a tool or key the notes use ("in a nutshell, what is
        # slurm?": a word the notes repeat everywhere, so no one section stands out).
        if top_dense < self.min_dense and top_lex < self.min_lexical and not named_terms(question):
            return GateResult(False, "not_close", unknown, top_dense, top_lex)
        return GateResult(True, "", unknown, top_dense, top_lex)
