"""Which subcommand a question asks of a tool the notes run with subcommands: ``git stash``,
``terraform destroy``. One the notes never run means they do not cover the question (``terms``).

A tool's name followed by a word is not always a subcommand: ``helm terminology:`` is a title,
``which kubectl command`` names the answer's form, ``slurm marks it as down`` makes the tool the
subject of an English verb, and a third language's own words (``kubectl anzeigen``) are the
asker's wording.
"""

from __future__ import annotations

import re
from functools import lru_cache

from assistant.language import ascii_view, is_foreign_word, third_language
from assistant.words import FORM, HEAD_ZIPF, SETTING, zipf
from index.lexical import STOP_EN

_FOLLOWER = re.compile(r"(?<![\w./-])([a-z][a-z0-9_-]+)(?= +([a-z][a-z0-9_-]*)(:?))")
# a command line: the command first, after a prompt, a list number or sudo
COMMAND_LINE = re.compile(r"^[ \t]*(?:[$#>][ \t]*|\d+[.)][ \t]*)?(?:sudo +)?([a-z][a-z0-9_-]+) +[a-z-]", re.M)
_ANSWER_FORM = FORM | SETTING  # words for what an answer is (command, knob): never a subcommand
VERB_ZIPF = 4.0  # an everyday verb (mark 5.1, show 5.7), not a rare one (bisect 1.9, stash 3.5)
_OBJECT = re.compile(r"\s+(?:it|them|the|a|an|this|that|these|those|its|my|your|our|each|every|all)\b")


@lru_cache(maxsize=8)
def heads(text_lower: str) -> frozenset[str]:
    """Commands the notes run with subcommands (kubectl get, git push): a word that at least two
    different lowercase words follow, that starts a command line (not prose's "pod is..."), and
    that is not an everyday English word."""
    follows: dict[str, set[str]] = {}
    for m in _FOLLOWER.finditer(text_lower):
        follows.setdefault(m.group(1), set()).add(m.group(2))
    run = set(COMMAND_LINE.findall(text_lower))
    return frozenset(h for h, ws in follows.items() if len(ws) >= 2 and h in run and zipf(h) < HEAD_ZIPF)


def subcommands(question: str, notes_lower: str) -> list[tuple[str, str]]:
    """(tool, word) for each word the question puts after a tool the notes run with subcommands."""
    tools = heads(notes_lower)
    foreign = third_language(question)
    low = ascii_view(question).lower()
    out = []
    for m in _FOLLOWER.finditer(low):
        head, word, label = m.groups()
        if head not in tools or word in STOP_EN or word in _ANSWER_FORM or len(word) < 3 or label:
            continue
        if not _verb_of(word, low[m.end(2) :]) and not (foreign and is_foreign_word(word)):
            out.append((head, word))
    return out


def _verb_of(word: str, after: str) -> bool:
    """``slurm marks it as down``, ``kubectl shows the pods``: the tool as the subject of an everyday
    English verb with its object, not a subcommand (``kubectl logs --previous``, ``docker images``)."""
    return word.endswith("s") and not word.endswith("ss") and zipf(word[:-1]) >= VERB_ZIPF and bool(_OBJECT.match(after))
