"""Lexical side of retrieval: a BM25 index (bm25s) with a Chinese/English tokenizer.

The tokenizer keeps technical tokens whole (``kubectl``, ``--replicas=3``,
``/etc/slurm/slurm.conf``, ``ctrl+k``, ``10.50.114.157/32``, ``MinJobAge``) and
also emits their parts, so a question can match either. Chinese runs are cut
with jieba's search mode. The index is persisted in the index dir and rebuilt
only by the sync, never per query.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]+|[A-Za-z0-9_$@%~.+=:/\\-]*[A-Za-z0-9_$%~]+[A-Za-z0-9_$@%~.+=:/\\-]*")
_PARTS = re.compile(r"[a-z0-9]+")

_CAMEL = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
_STOP_EN = set(
    "a an the of to in on for and or is are be do does did how what which who when where why i my me we "
    "you your it its this that with by from at as can could should would will there their them then "
    "use using used get set make want need have has into out up down about any all so if not no".split()
)
STOP_EN = frozenset(_STOP_EN)
_STOP_ZH = set(
    "的 了 是 在 和 与 或 及 怎么 怎样 如何 什么 哪些 哪个 一个 这个 那个 吗 呢 吧 啊 我 你 他 它 要 想 "
    "能 会 可以 用 把 被 对 就 都 也 还 有 没有 里 中 上 下 时候 分别 一下 么 啥 干嘛".split()
)


@lru_cache(maxsize=1)
def _jieba() -> Any:
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba


def tokenize(text: str) -> list[str]:
    out: list[str] = []
    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        if "\u3400" <= tok[0] <= "\ufaff" and re.match(rf"[{_CJK}]", tok[0]):
            out += [w for w in _jieba().lcut_for_search(tok) if w not in _STOP_ZH]
            continue
        low = tok.lower().rstrip(".:=-/")
        if not low:
            continue
        if low.isalpha():
            if low not in _STOP_EN and len(low) > 1:
                identifier = any(ch.isupper() for ch in tok[1:])  # MinJobAge, SBATCH: keep whole
                out.append(low if identifier else _stem(low))
            camel = [c.lower() for c in _CAMEL.findall(tok)]
            out += [_stem(c) for c in camel if c != low and len(c) > 1 and c not in _STOP_EN]
            continue
        out.append(low)
        parts = {p for p in _PARTS.findall(low) if p != low and len(p) > 1} - _STOP_EN
        out += sorted(parts | {_stem(p) for p in parts})
    return out


def _stem(word: str) -> str:
    """A deliberately tiny English stemmer: plural, -ed and -ing endings, final e."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, repl in (("ies", "y"), ("sses", "ss"), ("ing", ""), ("ed", ""), ("s", "")):
        if word.endswith(suffix) and not word.endswith("ss") and len(word) - len(suffix) >= 4:
            word = word[: len(word) - len(suffix)] + repl
            break
    return word[:-1] if len(word) > 4 and word.endswith("e") else word


@lru_cache(maxsize=1)
def _glossary() -> dict[str, frozenset[str]]:
    """token -> its translations/synonyms, from ``data/glossary.tsv``."""
    out: dict[str, set[str]] = {}
    path = Path(__file__).with_name("data") / "glossary.tsv"
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        en, _, zh = line.partition("\t")
        terms = {t for w in en.split(",") + zh.split(",") for t in tokenize(w.strip())}
        for t in terms:
            out.setdefault(t, set()).update(terms - {t})
    return {k: frozenset(v) for k, v in out.items()}


def expand(tokens: list[str]) -> list[str]:
    """The query's tokens plus their cross-lingual equivalents (each added once)."""
    gloss = _glossary()
    extra: set[str] = set()
    for t in tokens:
        extra |= gloss.get(t, frozenset())
    return tokens + sorted(extra - set(tokens))


def outermost(words: Iterable[str]) -> list[str]:
    """The words not inside a longer one of them, in order: jieba's search mode also emits 网络 and
    接口 for 网络接口, one concept."""
    ws = list(words)
    return [w for w in ws if not any(w != u and w in u for u in ws)]


def rooted(word: str) -> list[str]:
    """The glossary's Chinese terms that start as ``word`` does, with their equivalents: 删掉 finds
    删除 and so delete, remove, rm (a Chinese verb's first character carries its meaning)."""
    gloss = _glossary()
    return sorted({t for k, v in gloss.items() if k[:1] == word[:1] and not k.isascii() for t in v | {k}})


TOKENIZER_VERSION = "zh-en-v1"  # bump when tokenize() or the glossary changes


def _text_key(text: str) -> str:
    import hashlib

    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class LexicalIndex:
    """BM25 over chunk ids; ``scores`` returns ``{chunk_id: score}`` for matches."""

    def __init__(self, ids: list[str], model: Any, expand: bool = True) -> None:
        self.ids = ids
        self.model = model
        self.expand = expand
        self._vocab: frozenset[str] | None = None
        self._df: Any = None  # document frequency per token id, from the BM25 matrix
        self.tokens: dict[str, list[str]] = {}  # text hash -> tokens, reused by the next rebuild

    @classmethod
    def build(cls, docs: list[tuple[str, str]], known: dict[str, list[str]] | None = None) -> LexicalIndex:
        """``docs``: (chunk id, text). ``known``: tokens already computed, keyed by text hash."""
        import bm25s

        known = known or {}
        cache: dict[str, list[str]] = {}
        corpus = []
        for _, text in docs:
            key = _text_key(text)
            toks = cache.get(key) or known.get(key)
            if toks is None:
                toks = tokenize(text) or ["\u2205"]
            cache[key] = toks
            corpus.append(toks)
        model = bm25s.BM25(k1=1.2, b=0.75)
        if docs:
            model.index(corpus, show_progress=False)
        index = cls([cid for cid, _ in docs], model)
        index.tokens = cache
        return index

    @property
    def vocabulary(self) -> frozenset[str]:
        if self._vocab is None:
            self._vocab = frozenset(getattr(self.model, "vocab_dict", None) or {})
        return self._vocab

    def idf(self, tokens: set[str]) -> dict[str, float]:
        """BM25's inverse document frequency of each token (a token the notes lack gets the maximum)."""
        n = len(self.ids)
        if not n:
            return dict.fromkeys(tokens, 0.0)
        if self._df is None:
            self._df = np.diff(self.model.scores["indptr"])
        vocab = getattr(self.model, "vocab_dict", None) or {}
        out = {}
        for t in tokens:
            i = vocab.get(t)
            df = int(self._df[i]) if i is not None and i < len(self._df) else 0
            out[t] = math.log(1 + (n - df + 0.5) / (df + 0.5))
        return out

    def scores(self, query: str, limit: int) -> dict[str, float]:
        if not self.ids:
            return {}
        tokens = tokenize(query)
        ids = self.model.get_tokens_ids(expand(tokens) if self.expand else tokens)
        if not ids:
            return {}
        s = self.model.get_scores_from_ids(ids)
        top = np.argsort(-s)[:limit]
        return {self.ids[i]: float(s[i]) for i in top if s[i] > 0}

    def save(self, folder: Path) -> None:
        tmp = folder.with_name(folder.name + ".tmp")
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / "version").write_text(TOKENIZER_VERSION, encoding="utf-8")
        (tmp / "tokens.json").write_text(json.dumps(self.tokens, ensure_ascii=False), encoding="utf-8")
        (tmp / "ids.json").write_text(json.dumps(self.ids), encoding="utf-8")
        if self.ids:
            self.model.save(str(tmp / "bm25"))
        old = folder.with_name(folder.name + ".old")
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        if old.exists():
            import shutil

            shutil.rmtree(old)

    @staticmethod
    def is_current(folder: Path) -> bool:
        try:
            version = (folder / "version").read_text(encoding="utf-8")
        except OSError:
            return False
        return version == TOKENIZER_VERSION and (folder / "ids.json").exists()

    @staticmethod
    def known_tokens(folder: Path) -> dict[str, list[str]]:
        """Tokens of the previous build (same tokenizer version), so a sync re-tokenizes only new text."""
        if not LexicalIndex.is_current(folder):
            return {}
        try:
            data = json.loads((folder / "tokens.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        import bm25s

        ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        model = bm25s.BM25.load(str(folder / "bm25")) if ids else bm25s.BM25()
        return cls(ids, model)
