"""Domain errors that the entry points turn into one clear line."""

from __future__ import annotations

from assistant.prompts import PromptError
from assistant.search import QueryError
from assistant.settings import SettingsError
from assistant.types import LLMError
from assistant.wiring import LockBusy
from index.embedders import EmbedderError
from index.store import StoreError
from index.sync import NotesDirError

USER_ERRORS: tuple[type[Exception], ...] = (
    SettingsError,
    LockBusy,
    EmbedderError,
    StoreError,
    NotesDirError,
    QueryError,
    PromptError,
    LLMError,
)
