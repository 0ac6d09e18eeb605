"""Last line of defence on generated text: no credential from the notes leaves.

Passages are redacted before the model sees them, so the model cannot copy a
secret; it could still guess one from context. Every credential value found in
the raw text of the retrieved sections is replaced wherever it appears in the
answer, and the answer is run through the redactor itself. While streaming,
the last partial word is held back, so a value split across tokens is caught.
"""

from __future__ import annotations

import re

from assistant.search import SearchResult
from assistant.secrets import REDACTED, Redactor

MIN_SECRET_LEN = 4
_TAIL = re.compile(r"[\x21-\x7e]+\Z")  # a trailing run of printable, non-space ASCII
_BREAKS = frozenset("`()[]{}<>\"',;")  # delimiters: what follows one is a new word


def _before_partial(raw: str, cut: int, secrets: tuple[str, ...]) -> int:
    """``cut``, moved back to where the text starts to spell a known secret (its first k characters)."""
    for v in secrets:
        for k in range(min(len(v), cut), 0, -1):
            if raw.endswith(v[:k], 0, cut):
                cut -= k
                break
    return cut


class OutputGuard:
    def __init__(self, redactor: Redactor, enabled: bool = True) -> None:
        self.redactor = redactor
        self.enabled = enabled  # False only for the local CLI's explicit --show-secrets

    def secrets_in(self, result: SearchResult) -> tuple[str, ...]:
        """Credential values in the raw text of the retrieved sections, longest first (once per answer)."""
        if not self.enabled:
            return ()
        values = {
            f.value for c in result.candidates[:10] for f in self.redactor.find(c.chunk.text) if len(f.value) >= MIN_SECRET_LEN
        }
        return tuple(sorted(values, key=len, reverse=True))

    def clean(self, text: str, secrets: tuple[str, ...]) -> str:
        if not self.enabled:
            return text
        for v in secrets:
            text = re.sub(rf"(?<![A-Za-z0-9_]){re.escape(v)}(?![A-Za-z0-9_])", REDACTED, text)
        return self.redactor.redact(text)

    def streamable(self, raw: str, secrets: tuple[str, ...]) -> str:
        """The cleaned text up to the last character that cannot be part of a credential
        (whitespace, any non-ASCII character such as Chinese, a quote or bracket): safe to
        show already. The word of printable ASCII at the end may still be growing into a
        secret, and so may text that spells the start of a known secret value."""
        m = _TAIL.search(raw)
        cut = len(raw)
        if m:  # show the run up to its last quote or bracket: a value starts after one, never inside
            cut = m.start() + max((i + 1 for i, ch in enumerate(m.group(0)) if ch in _BREAKS), default=0)
            cut = _before_partial(raw, cut, secrets)
        return self.clean(raw[:cut], secrets) if cut > 0 else ""
