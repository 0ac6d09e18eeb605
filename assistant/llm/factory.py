"""Build the configured chat model from ``Settings``."""

from __future__ import annotations

from pathlib import Path

from assistant.settings import Settings, SettingsError
from assistant.types import LLM

# "extractive" answers without a chat model; it is built elsewhere.
BACKENDS = ("local", "openai", "extractive")


def default_model_path(settings: Settings) -> Path:
    """``NOTES_LLM_MODEL_PATH`` if set, else the GGUF that ``assistant.model_setup`` assembles."""
    if settings.llm_model_path:
        return Path(settings.llm_model_path).expanduser()
    from assistant.model_setup import MODEL_FILENAME

    return settings.models_dir / MODEL_FILENAME


def make_llm(settings: Settings) -> LLM | None:
    """The chat model for ``settings.llm_backend``; ``None`` for ``extractive``.

    Raises ``SettingsError`` for an unknown backend and ``LLMError`` when the
    backend cannot be built (e.g. the model file is missing).
    """
    backend = settings.llm_backend.strip().lower()
    if backend == "local":
        from assistant.llm.local import LocalLLM

        return LocalLLM(default_model_path(settings), n_threads=settings.llm_threads)
    if backend == "openai":
        from assistant.llm.openai_compat import OpenAICompatLLM

        return OpenAICompatLLM(
            base_url=settings.openai_base_url,
            model=settings.openai_model,
            api_key=settings.openai_api_key,
        )
    if backend == "extractive":
        return None
    raise SettingsError(f"NOTES_LLM_BACKEND={settings.llm_backend!r} is not a backend; choose one of: {', '.join(BACKENDS)}")
