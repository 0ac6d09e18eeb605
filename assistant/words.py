"""What kind of word a question word is: an ordinary English word, or a tool, command, flag or
key (``is_specific``); English prose joined by hyphens or slashes (``is_prose``); and the word lists
behind the term lookups of ``terms``: words that never name an operation, in English and Chinese."""

from __future__ import annotations

import re
from functools import lru_cache

from index.lexical import STOP_EN

RARE_ZIPF = 3.0
# In an all-English question a plain word must be rarer to count: prose words ("endpoint", 2.9)
# are naturally absent from Chinese notes, while an English word set in a Chinese question is a
# term chosen on purpose ("taint", 3.0). Tools named in English questions: gzip 1.8, rsync 1.9.
RARE_ZIPF_PROSE = 2.5
HEAD_ZIPF = 4.0  # a command the notes run (git, kubectl, helm) is rarer than everyday words (name, type)
_WORDS = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_NUMBERED = re.compile(r"([A-Za-z]+)\d+")  # L1, v2: a name and its number
_NEXT_WORD = re.compile(r"\s+([A-Za-z]+)")

# Words about the form of an answer, not the operation asked for ("which option", "the command").
FORM = frozenset("option options command commands flag flags syntax example examples way parameter argument line cli".split())
# What a config key is called: after a tool's name ("which slurm knob") it is no subcommand.
SETTING = frozenset("setting settings knob knobs".split())
# Words of time, degree and number: they say when or how much, never which operation ("right now");
# nor do quantifiers, prepositions and conjunctions ("show every resource at once", "one particular
# node", "what Cookie header do I send along").
FUNCTION = frozenset(
    "now right currently already still yet again just only also even really very too much many more most less "
    "some something anything nothing everything one two three four five first second third other another same own "
    "every each both either neither several whole particular once instead together along under while without "
    "whether within across among around during until since".split()
)
NOT_OPERATIONS = STOP_EN | FORM | FUNCTION
# The same in Chinese: how a question asks, when and how much, not which operation.
NOT_OPERATIONS_ZH = frozenset(
    "为什么 是否 能否 能不能 需要 应该 可能 已经 还是 或者 以及 然后 的话 这些 那些 我们 自己 现在 当前 目前 之后 以后 "
    "之前 以前 不想 想要 如果 怎么办 一次 一台 某个 某一 一些 所有 每个 两个 区别 作用 意思 命令 参数 选项 方法 写法 "
    "例子 语法 步骤 办法 方式 默认 多长 多大 多少 多久".split()
)
PARTICLES = frozenset("to in on of up by off out non pre sub the and per via multi cross self semi inter".split())
INFLECTIONS = (("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("ation", "ate"), ("ation", "e"))  # -> stem


@lru_cache(maxsize=4096)
def zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return float(zipf_frequency(word, "en"))


def is_specific(term: str, prose: bool = False) -> bool:
    """A tool, command, flag or key rather than an ordinary English word (``prose``: in an
    all-English question)."""
    if any(ch in term for ch in "-_./=+:") or any(ch.isdigit() for ch in term):
        return True
    return len(term) >= 3 and _word_zipf(term.lower()) < (RARE_ZIPF_PROSE if prose else RARE_ZIPF)


def _word_zipf(word: str) -> float:
    """A word's frequency, or its stem's when higher: an inflected word is English, not a tool name
    (``evicts`` 1.7 is ``evict`` 3.0, ``invalidation`` is ``invalidate``; ``gzip`` and ``iptables``
    have no common stem)."""
    stems = [word[: -len(end)] + base for end, base in INFLECTIONS if word.endswith(end) and len(word) - len(end) >= 4]
    return max([zipf(word)] + [zipf(s) for s in stems])


def is_modifier(term: str, after: str) -> bool:
    """``wall-clock length``, ``root-owned script``, ``read-ahead invalidation``: ordinary English
    words joined by hyphens that describe what follows them (``after``), or end in a participle:
    an adjective of the user's own prose, not a command (``port-forward a service``)."""
    parts = term.split("-")
    if len(parts) < 2 or not all(p.isalpha() and not is_specific(p, True) for p in parts):
        return False
    if parts[-1].lower().endswith(("ed", "ing")):
        return True
    following = _NEXT_WORD.match(after)
    return following is not None and following.group(1).lower() not in STOP_EN


def alternatives(term: str) -> list[str]:
    """``daemon/service``, ``affinity/anti-affinity``, ``L1/L2/L3``: words, or one name numbered,
    offered as alternatives (not a path such as sched/hold or apps/v1)."""
    parts = term.split("/")
    if len(parts) < 2:
        return []
    numbered = {m.group(1) if m else None for m in map(_NUMBERED.fullmatch, parts)}
    return parts if all(_WORDS.fullmatch(p) for p in parts) or (len(numbered) == 1 and None not in numbered) else []


def is_prose(term: str, prose: bool = False) -> bool:
    """``on-chip``, ``re-registers``, ``multi-node``, ``rarely-used``: English words joined by
    hyphens, one of them a particle or a prefix, or led by an adverb (not a command such as
    ``port-forward``); ``credentials/endpoint``: ordinary words offered as alternatives
    (``prose``: in an all-English question)."""
    parts = term.split("-")
    if len(parts) > 1 and all(p.isalpha() for p in parts):
        return any(len(p) < 3 or p.lower() in PARTICLES for p in parts) or parts[0].lower().endswith("ly")
    words = alternatives(term)
    return bool(words) and all("-" not in w and not is_specific(w, prose) for w in words)
