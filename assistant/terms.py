"""What a question names, and whether given text mentions it: the term lookups behind the
grounding gate (``grounding``), also used to weight lines (``linescore``) and rewrites (``condense``).

A *specific* term is a tool, command, flag or config key: it has ``-_./=`` or
digits, or is rare in general English by word frequency (rarer still in an
all-English question). Common English words count only as a flag
(``--previous``), right after a command the notes run with subcommands
(``git stash``), or as a capitalised name in a Chinese question (``用 Harbor 搭``);
hyphenated English that describes a noun (``a wall-clock length``) is prose.
In a third-language question, that language's everyday words (anzeigen,
configurer) are the asker's wording, not terms. Terms are looked up in
``Lines``: the whole notes, or the lines an answer was given; a glossary
translation or both parts of the notes' own CamelCase identifiers also count
as mentioned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.language import ascii_view, has_chinese, is_foreign_word, third_language
from assistant.retrieval import Corpus
from assistant.subcommands import COMMAND_LINE, subcommands
from assistant.words import (
    HEAD_ZIPF,
    NOT_OPERATIONS,
    NOT_OPERATIONS_ZH,
    alternatives,
    is_modifier,
    is_prose,
    is_specific,
    zipf,
)
from index.lexical import STOP_EN as _STOP
from index.lexical import expand, outermost, rooted, tokenize

_IDENTIFIER = re.compile(r"[\d_./=+:-]|[a-z][A-Z]")
ASCII_TERM = re.compile(r"[A-Za-z][A-Za-z0-9_.+=/:-]*[A-Za-z0-9]|[A-Za-z]{2,}")
_ALNUM = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_CAMEL = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+")
_CONFIG_FILE = re.compile(r"([A-Za-z][\w-]*)\.(?:conf|cfg|cnf|ini|ya?ml|json|toml|properties)")
# An operation the lines lack is one to four words (``uninstall``; ``check, existing, expires,
# subject``): the most among 22 uncovered questions refused this way on the seen sets. A question
# whose words the lines lack by the handful (7 and 10, three covered questions there: ``I fired
# off three copies of my app...``) is a paraphrase that shares no words with them, which says
# nothing about a missing operation.
MAX_OPERATION_WORDS = 5
# A capitalised word in a Chinese question names a product (Harbor 4.2, Jenkins 3.8), unless it is an
# everyday word that opens a sentence (Explain 4.9, Please 5.7).
NAME_ZIPF = 4.7
_NAME = re.compile(r"(?<![A-Za-z0-9_./=-])[A-Z][a-z]{2,}(?![A-Za-z0-9_./=-])")
_PLAIN = re.compile(r"(?<![A-Za-z0-9_./=-])[A-Za-z][A-Za-z0-9]*(?![A-Za-z0-9_./=-])")  # a plain word: no identifier, no flag


def identifiers(question: str) -> list[str]:
    """The identifiers a question names (JobCompType, sched/hold, KillWait=30, -LLL): written with
    symbols, digits or inner capitals, unlike ordinary words (CPU, FUTURE and node are not)."""
    question = ascii_view(question)
    out = []
    for m in ASCII_TERM.finditer(question):
        term = m.group(0).strip(".:-/")
        if len(term) >= 3 and _IDENTIFIER.search(term) and term not in out:
            out.append(term)
    return out


def named_terms(question: str) -> list[tuple[str, bool]]:
    """The specific ASCII terms a question names, each with whether it was written as a flag."""
    out = []
    prose = not has_chinese(question)
    foreign = third_language(question)
    question = ascii_view(question)
    for m in ASCII_TERM.finditer(question):
        term = m.group(0).strip(".:-/")
        before = question[: m.start()]
        dashes = len(before) - len(before.rstrip("-"))
        if dashes and before[:-dashes][-1:].isalnum():  # "7-day", "x-ray": a hyphen inside a word, no flag
            dashes = 0
        path = before.endswith("/")  # /home/html: a path, not words offered as alternatives
        if all(len(p) == 1 for p in term.split(".")):  # e.g., i.e.: an abbreviation, not a name
            continue
        if dashes:  # written as a flag (--previous): a term of art however common the word
            out.append(("-" * min(dashes, 2) + term, True))
        elif foreign and term.isalpha() and is_foreign_word(term):
            continue  # "Wie kann ich ... anzeigen?": the asker's language, not a tool's name
        elif is_specific(term, prose) and (path or not is_prose(term, prose)):
            if prose and is_modifier(term, question[m.end() :]):
                continue  # "a wall-clock length": the user's own English, not a tool's name
            out.append((term, False))
    return out


@dataclass(frozen=True)
class Lines:
    """Text that terms are looked up in: the whole notes, or the lines an answer was given."""

    text: str  # as written (the case of CamelCase identifiers)
    text_lower: str
    vocabulary: frozenset[str]  # its lexical tokens

    @classmethod
    def of(cls, text: str) -> Lines:
        return cls(text, text.lower(), frozenset(tokenize(text)))

    @classmethod
    def notes(cls, corpus: Corpus) -> Lines:
        return cls(corpus.text, corpus.text_lower, corpus.lexical.vocabulary)

    def mentions(self, term: str) -> bool:
        low = term.lower()
        if low in self.text_lower:
            return True
        # a plural is mentioned by its singular, as a word or inflected: "gpus" by gres/gpu, "marks"
        # by "marked" ("redis" is not mentioned by "redirect")
        return len(low) >= 4 and low.endswith("s") and _inflected(low[:-1], self.text_lower)


def _inflected(word: str, text: str) -> bool:
    return re.search(re.escape(word) + r"(?:s|es|d|ed|ing)?(?![a-z0-9])", text) is not None


def unmentioned_terms(question: str, lines: Lines, notes: Lines) -> list[str]:
    """Specific terms of the question that the notes mention as written but ``lines`` (those an
    answer was given) never do: the notes speak of them elsewhere, not in these lines."""
    return [t for t in _missing(question, lines, parts=True) if notes.mentions(t)]


def unasked_operations(question: str, lines: Lines, shown: str) -> list[str]:
    """When the question names a command that the lines run (``helm``), its other words that they
    never say (``uninstall``; ``删除`` in ``sacctmgr 怎么删除一个用户``): the operation asked for is
    not the one the lines show (``helm install``). ``lines``: the chosen lines with their
    headings, where a word or its glossary translation counts as said; ``shown``: the lines
    alone, whose command lines count."""
    run = {c for c in COMMAND_LINE.findall(shown.lower()) if zipf(c) < HEAD_ZIPF}
    words = [w.lower() for w in _PLAIN.findall(ascii_view(question))]
    if not run.intersection(words) or third_language(question):  # its words for the operation: not English
        return []
    out: list[str] = []
    for w in words:
        if len(w) >= 3 and w not in NOT_OPERATIONS and w not in run and w not in out and not _known(w, lines):
            out.append(w)
    out += [w for w in _chinese_words(question) if w not in NOT_OPERATIONS_ZH and not _said(w, lines)]
    return out if len(out) <= MAX_OPERATION_WORDS else []


def _said(word: str, lines: Lines) -> bool:
    """A Chinese word counts as said when the lines hold its first character, which carries a
    verb's meaning (删掉: 删 of 删除; the whole word holds it too), or a glossary term that starts
    the same (删除: delete, rm; the word's own translations are among them)."""
    return word[0] in lines.text or any(t in lines.vocabulary for t in rooted(word))


def _chinese_words(question: str) -> list[str]:
    """The question's Chinese words of two or more characters, each once, without those inside a
    longer one (有效期, not also 有效 and 效期)."""
    return outermost(t for t in dict.fromkeys(tokenize(question)) if has_chinese(t) and len(t) >= 2)


def unknown_terms(question: str, corpus: Corpus) -> list[str]:
    """Specific ASCII terms of the question that the notes never mention."""
    notes = Lines.notes(corpus)
    out = _missing(question, notes)
    if has_chinese(question):  # "用 Harbor 搭": a capitalised name set in Chinese, however common the word
        found = dict.fromkeys(_NAME.findall(ascii_view(question)))
        names = [n for n in found if n.lower() not in _STOP and zipf(n.lower()) < NAME_ZIPF]
        out += [n for n in names if n not in out and not _known(n, notes)]
    for head, word in subcommands(question, corpus.text_lower):
        if not _known(word, notes) and not {word, f"{head} {word}"} & set(out):
            out.append(f"{head} {word}")  # git stash, terraform destroy: the notes never run it
    return out


def _missing(question: str, lines: Lines, parts: bool = False) -> list[str]:
    out = []
    for term, flag in named_terms(question):
        if _known(term, lines, translate=not flag):
            continue
        if any(_known(alt, lines) for alt in alternatives(term)):  # centos/rhel: one is enough
            continue
        # slurm.conf in lines headed "slurm" that name gres.conf: each part is there; a config
        # file's lines need only name its tool (slurm.conf: where the answer is, not what is asked)
        pieces = tokenize(term)[1:]
        if parts and pieces and all(p in lines.vocabulary for p in pieces):
            continue
        config = _CONFIG_FILE.fullmatch(term)
        if parts and config and config.group(1).lower() in lines.vocabulary:
            continue
        if term not in out:
            out.append(term)
    return out


def _known(term: str, lines: Lines, translate: bool = True) -> bool:
    if lines.mentions(term):
        return True
    # key=value as the user wrote it: known when both sides are in the lines.
    if "=" in term and all(lines.mentions(part) for part in term.split("=") if part):
        return True
    toks = tokenize(term)
    # A word is also known when a translation of it (glossary) is in the lines.
    if translate and len(toks) == 1 and any(t in lines.vocabulary for t in expand(toks)):
        return True
    return translate and _joins_identifier_parts(term, lines)


def _joins_identifier_parts(term: str, lines: Lines) -> bool:
    """``walltime``: two parts of the notes' own CamelCase identifiers (MaxWall, OverTimeLimit)
    written as one word: the same vocabulary, not a term the notes lack."""
    word = term.lower()
    if not word.isalpha():
        return False
    parts = _identifier_parts(lines.text)
    return any(word[:i] in parts and word[i:] in parts for i in range(3, len(word) - 2))


@lru_cache(maxsize=8)
def _identifier_parts(text: str) -> frozenset[str]:
    """The parts (3+ letters) of the CamelCase identifiers in ``text``: MaxWall -> max, wall."""
    parts: set[str] = set()
    for ident in _ALNUM.findall(text):
        pieces = _CAMEL.findall(ident)
        if len(pieces) > 1:
            parts.update(p.lower() for p in pieces if len(p) >= 3)
    return frozenset(parts)
