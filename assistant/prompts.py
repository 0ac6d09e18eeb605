"""Prompt files from ``prompts/``, rendered strictly (a missing variable is an error).

Files are read when a ``Prompts`` is built (by the composition root), never at
import time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.settings import ROOT

PROMPTS_DIR = ROOT / "prompts"


class PromptError(RuntimeError):
    pass


@dataclass(frozen=True)
class Prompts:
    system: str
    answer: Any  # jinja2.Template
    condense: Any
    messages: dict[str, dict[str, str]]

    @classmethod
    def load(cls, folder: Path = PROMPTS_DIR) -> Prompts:
        from jinja2 import Environment, StrictUndefined

        env = Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
        try:
            read = lambda name: (folder / name).read_text(encoding="utf-8")  # noqa: E731
            return cls(
                system=read("system.txt").strip(),
                answer=env.from_string(read("answer.txt")),
                condense=env.from_string(read("condense.txt")),
                messages=json.loads(read("messages.json")),
            )
        except (OSError, ValueError) as exc:
            raise PromptError(f"cannot load the prompts in {folder}: {exc}") from exc

    def message(self, key: str, lang: str, **values: str) -> str:
        table = self.messages[key]
        return table.get(lang, table["en"]).format(**values)
