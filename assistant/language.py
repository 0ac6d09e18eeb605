"""Which language a question is in, so the answer comes back in it.

``zh`` when it has Chinese characters (mixed Chinese/English questions are
answered in Chinese, as their asker reads both), ``en`` when its words are
mostly English, ``other`` for any third language. A third-language question is
answered in English: asked to answer in German, French or Spanish, the 1.5B
model replies NOT_IN_NOTES even when the lines answer it (``kubectl logs`` for
"Wie kann ich die Logs eines Pods anzeigen?"), and in English it answers.
"""

from __future__ import annotations

import re
from functools import lru_cache

_CJK = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_LETTERS = re.compile(r"[^\W\d_]+")
_ASCII_OR_CHINESE = re.compile(r"[A-Za-z\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\uac00-\ud7af]")
_WORD = re.compile(r"[^\W\d_]{2,}")
# Six major languages besides English: a question mostly in one of them is a third-language question.
_OTHER = ("fr", "de", "es", "it", "pt", "nl")
FOREIGN_GAP = 1.0  # a foreign word is this much (Zipf) more frequent in another language than in English


def has_chinese(text: str) -> bool:
    """Whether ``text`` has any Chinese character (an English word set in it is then a term)."""
    return _CJK.search(text) is not None


def detect_language(text: str) -> str:
    if _KANA_HANGUL.search(text):
        return "other"
    if len(_CJK.findall(text)) >= 2:
        return "zh"
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return "en"
    if any(not w.isascii() for w in words):
        return "other"
    # "Wie kann ich die Logs anzeigen?", "Comment voir les logs d'un pod ?": more words that lean to
    # another language (kann, anzeigen; voir, les) than English ones (logs, pod).
    foreign = sum(is_foreign_word(w) for w in words)
    english = sum(_leans_english(w) for w in words)
    return "other" if foreign >= 2 and foreign > english else "en"


@lru_cache(maxsize=4096)
def frequencies(word: str) -> tuple[float, float]:
    """A lowercase word's Zipf frequency in English, and its highest in the six other languages."""
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "en"), max(zipf_frequency(word, lang) for lang in _OTHER)


def is_foreign_word(word: str, least: float = 2.5) -> bool:
    """An everyday word of another language (anzeigen, voir, veo), not of English."""
    en, other = frequencies(word.lower())
    return other >= least and other - en >= FOREIGN_GAP


def _leans_english(word: str) -> bool:
    en, other = frequencies(word)
    return en >= 3.0 and en >= other - 0.5


def third_language(question: str) -> bool:
    """A question in neither English nor Chinese: its everyday words (anzeigen, veo, configurer) are
    not tools the notes lack (``is_foreign_word``: names used alike in every language, such as istio
    or kafka, stay terms), and its words for an operation are not English ones."""
    return not has_chinese(question) and detect_language(question) == "other"


def ascii_view(question: str) -> str:
    """The question with each word that has a letter beyond ASCII and Chinese (redémarrer, größe)
    blanked, so no piece of it reads as an ASCII term ("red", "marrer"). Offsets are kept."""
    return _LETTERS.sub(lambda m: m.group(0) if _ASCII_OR_CHINESE.fullmatch(m.group(0)) else " " * len(m.group(0)), question)
