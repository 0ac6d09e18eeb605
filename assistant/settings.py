"""Settings: read once from the environment and ``.env`` into a frozen object.

This is the only module that reads environment variables for configuration,
except the Slack tokens, which ``assistant/slack/run.py`` reads once into its
own frozen ``SlackConfig`` so they stay out of the object every entry point
shares. Every variable is documented in the README.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    notes_dir: Path = ROOT / "notes"
    index_dir: Path = ROOT / ".notes-index"
    models_dir: Path = ROOT / "models"
    embedder: str = "use"
    chroma_url: str = ""
    collection: str = "notes"
    chunk_tokens: int = 256
    max_file_mb: float = 5.0
    llm_backend: str = "local"
    llm_model_path: str = ""
    llm_timeout_s: float = 60.0
    llm_threads: int = 0
    openai_base_url: str = ""
    openai_model: str = ""
    openai_api_key: str = ""
    context_tokens: int = 185
    answer_tokens: int = 200
    question_check: bool = True
    web_host: str = "127.0.0.1"
    web_port: int = 7860
    web_user: str = ""
    web_password: str = ""
    feedback_db: Path | None = None  # default: index_dir / "feedback.sqlite3"

    @property
    def feedback_path(self) -> Path:
        return self.feedback_db or self.index_dir / "feedback.sqlite3"

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * 1_000_000)


_ENV = {
    "notes_dir": "NOTES_DIR",
    "index_dir": "NOTES_INDEX_DIR",
    "models_dir": "NOTES_MODELS_DIR",
    "embedder": "NOTES_EMBEDDER",
    "chroma_url": "NOTES_CHROMA_URL",
    "collection": "NOTES_COLLECTION",
    "chunk_tokens": "NOTES_CHUNK_TOKENS",
    "max_file_mb": "NOTES_MAX_FILE_MB",
    "llm_backend": "NOTES_LLM_BACKEND",
    "llm_model_path": "NOTES_LLM_MODEL_PATH",
    "llm_timeout_s": "NOTES_LLM_TIMEOUT_S",
    "llm_threads": "NOTES_LLM_THREADS",
    "openai_base_url": "NOTES_OPENAI_BASE_URL",
    "openai_model": "NOTES_OPENAI_MODEL",
    "openai_api_key": "NOTES_OPENAI_API_KEY",
    "context_tokens": "NOTES_CONTEXT_TOKENS",
    "answer_tokens": "NOTES_ANSWER_TOKENS",
    "question_check": "NOTES_QUESTION_CHECK",
    "web_host": "GRADIO_SERVER_NAME",
    "web_port": "GRADIO_SERVER_PORT",
    "web_user": "NOTES_WEB_USER",
    "web_password": "NOTES_WEB_PASSWORD",
    "feedback_db": "NOTES_FEEDBACK_DB",
}


class SettingsError(ValueError):
    pass


def read_dotenv(path: Path) -> dict[str, str]:
    """Minimal ``KEY=VALUE`` reader (comments, quotes, ``export`` prefix)."""
    if not path.is_file():
        return {}
    out = {}
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def _convert(name: str, raw: str, kind: type) -> object:
    try:
        if kind is Path:
            return Path(raw).expanduser().resolve()
        if kind is bool:
            return raw.strip().lower() in {"1", "true", "yes", "on"}
        return kind(raw)
    except ValueError as exc:
        raise SettingsError(f"{_ENV[name]}={raw!r} is not a valid {kind.__name__}") from exc


def load_settings(
    environ: Mapping[str, str] | None = None,
    dotenv: Path | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Settings:
    """Environment wins over ``.env``; keyword overrides (CLI flags) win over both."""
    env = dict(read_dotenv(dotenv if dotenv is not None else Path.cwd() / ".env"))
    env.update(os.environ if environ is None else environ)
    defaults = Settings()
    values: dict[str, object] = {}
    for f in fields(Settings):
        raw = env.get(_ENV[f.name])
        if raw is not None and raw != "":
            default = getattr(defaults, f.name)
            kind = Path if isinstance(default, Path) or f.name.endswith("_db") else type(default)
            values[f.name] = _convert(f.name, raw, kind)
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    return Settings(**values)  # type: ignore[arg-type]
