"""Find credentials in note text and redact them as ``[redacted]``.

Generic rules only, never a special-cased value:
- ``KEY=VALUE`` / ``KEY: VALUE`` / ``"KEY": "VALUE"`` where the key names a
  credential (``password``, ``passwd``, ``*Pass``, ``secret``, ``token``,
  ``api_key``, ``private-key``...), including ``--from-literal=password=…``,
  form bodies (``&password=…``) and Terraform (``password = "…"``);
- config lines ``auth_pass VALUE`` (a credential key at line start, space
  separated);
- password flags of well-known tools (``ldapsearch -w``, ``mysql -p…``,
  ``sshpass -p``, ``curl -u user:pass``, ``--password VALUE``);
- ``echo VALUE > …password`` (a credential written to a file);
- credentials in URLs (``scheme://user:pass@host``), bearer tokens, private
  key blocks, well-known token prefixes, and long high-entropy strings with
  mixed character classes (hex-only strings such as commit ids are left alone).

Values that are references, not secrets (``$token``, ``<password>``, paths,
URLs) are left as they are. Only the value is replaced: the key stays, so an
answer can still explain how a credential is set.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

REDACTED = "[redacted]"
_KEY = r"[A-Za-z0-9_.-]*(?:passw(?:or)?d|pwd|pass|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?)"
_SPACED_KEY = r"[A-Za-z0-9_-]*[A-Za-z0-9_](?:passw(?:or)?d|pwd|pass|secret|token)"
_VALUE = r"(?P<value>\"[^\"\n]*\"|'[^'\n]*'|[^\s&'\",;}#)\]]+)"

_RULES: list[re.Pattern[str]] = [
    # key = value, key: value, "key": "value" (JSON, YAML, env files, form bodies, HCL)
    re.compile(rf"(?i)(?<![\w-])[\"']?{_KEY}[\"']?\s*(?:=|:(?!//))\s*{_VALUE}"),
    # config lines: `auth_pass secret`, `requirepass secret` (a compound key, space separated)
    re.compile(rf"(?im)(?:^|(?<=[\s\u3000-\uffff])){_SPACED_KEY}[ \t]+(?P<value>[^\s#=:-][^\s#=]*)(?=\s|$)"),
    # password flags of well-known tools
    re.compile(r"(?i)\b(?:ldap\w*|slappasswd)\b[^\n]*?\s-w\s+(?P<value>[^\s'\"]+)"),
    re.compile(r"(?i)\b(?:mysql|mysqladmin|mysqldump)\b[^\n]*?\s-p(?P<value>[^\s'\"]+)"),
    re.compile(r"(?i)\bsshpass\b[^\n]*?\s-p\s*(?P<value>[^\s'\"]+)"),
    re.compile(r"(?i)\bcurl\b[^\n]*?\s(?:-u|--user)\s+['\"]?[^:\s'\"]+:(?P<value>[^\s'\"]+)"),
    re.compile(r"(?i)(?<![\w-])--pass(?:word|wd)?[ =](?P<value>[^\s'\"]+)"),
    # echo VALUE > ./password
    re.compile(rf"(?i)\becho\s+(?:-n\s+)?(?P<value>[^\s>|]+)\s*>>?\s*\S*{_KEY}\b"),
    # scheme://user:password@host
    re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^/\s:@]+:(?P<value>[^@\s/]+)@"),
    # Authorization: Bearer xxx / Basic xxx (a token, not a word: "basic authentication" is prose)
    re.compile(
        r"(?i)\b(?:bearer|basic)\s+(?P<value>(?-i:(?=[A-Za-z0-9_.~+/=-]*(?:[0-9.~+/=-]|[a-z][A-Z])))[A-Za-z0-9_.~+/=-]{12,})"
    ),
    # well-known token shapes
    re.compile(r"(?P<value>\b(?:AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|xox[baprs]-[A-Za-z0-9-]{10,}|sk-[A-Za-z0-9]{20,}))"),
    re.compile(r"(?P<value>\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,})"),
]
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----(?P<value>.*?)(?:-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S)
_LONG_TOKEN = re.compile(r"(?<![\w/.-])[A-Za-z0-9+/_-]{32,}={0,2}(?![\w/.-])")


def _is_reference(value: str) -> bool:
    v = value.strip("\"'")
    return (
        not v
        or v[0] in "$<{%/"
        or v.startswith(("./", "~/", "http://", "https://"))
        or v.lower() in {"none", "null", "true", "false", "***", REDACTED}
    )


def _entropy(s: str) -> float:
    counts = Counter(s)
    return -sum(n / len(s) * math.log2(n / len(s)) for n in counts.values())


def _looks_random(token: str) -> bool:
    classes = sum(bool(re.search(p, token)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    return classes == 3 and _entropy(token) >= 4.0


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    value: str


class Redactor:
    """Finds credential values in text; ``redact`` replaces each with ``[redacted]``."""

    def find(self, text: str) -> list[Finding]:
        spans: list[Finding] = []
        for rule in [*_RULES, _PRIVATE_KEY]:
            for m in rule.finditer(text):
                value = m.group("value")
                start, end = m.span("value")
                if text.startswith(REDACTED, start):  # already redacted ("password=[redacted]" stays as it is)
                    continue
                if _is_reference(value) and rule is not _PRIVATE_KEY:
                    continue
                if value[:1] in "\"'" and value[-1:] == value[:1] and len(value) >= 2:
                    start, end = start + 1, end - 1
                if end > start:
                    spans.append(Finding(start, end, text[start:end]))
        for m in _LONG_TOKEN.finditer(text):
            if _looks_random(m.group(0)):
                spans.append(Finding(m.start(), m.end(), m.group(0)))
        # A value found once is a secret wherever else it stands in the same text
        # ("-w admin" also hides "admin的密码" on the next line).
        for value in {f.value for f in spans if len(f.value) >= 4}:
            for m in re.finditer(rf"(?<![A-Za-z0-9_]){re.escape(value)}(?![A-Za-z0-9_])", text):
                spans.append(Finding(m.start(), m.end(), value))
        return _merge(spans)

    def redact(self, text: str) -> str:
        out, last = [], 0
        for f in self.find(text):
            out.append(text[last : f.start])
            out.append(REDACTED)
            last = f.end
        out.append(text[last:])
        return "".join(out)


class NoRedaction(Redactor):
    """Only for the local CLI's explicit ``--show-secrets``."""

    def find(self, text: str) -> list[Finding]:
        return []


def _merge(spans: list[Finding]) -> list[Finding]:
    merged: list[Finding] = []
    for f in sorted(spans, key=lambda f: (f.start, -f.end)):
        if merged and f.start < merged[-1].end:
            last = merged[-1]
            if f.end > last.end:
                merged[-1] = Finding(last.start, f.end, "")
            continue
        merged.append(f)
    return merged
