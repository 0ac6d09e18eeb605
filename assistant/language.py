"""Which language a question is in, so the answer comes back in it.

``zh`` when it has Chinese characters (mixed Chinese/English questions are
answered in Chinese, as their asker reads both), ``en`` when its words are
mostly English, ``other`` for any third language (the model is then told to
answer in the question's language).
"""

from __future__ import annotations

import re

_CJK = re.compile(r"[\u4e00-\u9fff\u3400-\u4dbf]")
_KANA_HANGUL = re.compile(r"[\u3040-\u30ff\uac00-\ud7af]")
_WORD = re.compile(r"[^\W\d_]{2,}")


def has_chinese(text: str) -> bool:
    """Whether ``text`` has any Chinese character (an English word set in it is then a term)."""
    return _CJK.search(text) is not None


def detect_language(text: str) -> str:
    if _KANA_HANGUL.search(text):
        return "other"
    if len(_CJK.findall(text)) >= 2:
        return "zh"
    words = _WORD.findall(text)
    if not words:
        return "en"
    if any(not w.isascii() for w in words):
        return "other"
    from wordfreq import zipf_frequency

    english = sum(zipf_frequency(w.lower(), "en") >= 3.0 for w in words)
    other = sum(zipf_frequency(w.lower(), "fr") >= 3.0 or zipf_frequency(w.lower(), "de") >= 3.0 for w in words)
    return "other" if other > english * 1.5 and other >= 2 else "en"
