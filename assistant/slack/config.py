"""Slack settings: a frozen ``SlackConfig`` read from a mapping (the entry point passes the environment)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from assistant.settings import SettingsError

DEFAULT_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class SlackConfig:
    bot_token: str = field(repr=False)
    signing_secret: str = field(default="", repr=False)
    app_token: str = field(default="", repr=False)
    api_url: str = DEFAULT_API_URL
    allowed_channels: frozenset[str] = frozenset()
    dedupe_db: Path | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SlackConfig:
        """``SLACK_*`` variables; raises ``SettingsError`` when the bot token is missing or malformed."""
        token = env.get("SLACK_BOT_TOKEN", "").strip()
        if not token:
            raise SettingsError("SLACK_BOT_TOKEN is not set (the xoxb- token from OAuth & Permissions; see docs/slack.md)")
        if not token.startswith("xoxb-"):
            raise SettingsError("SLACK_BOT_TOKEN must be a bot token starting with xoxb- (see docs/slack.md)")
        app_token = env.get("SLACK_APP_TOKEN", "").strip()
        if app_token and not app_token.startswith("xapp-"):
            raise SettingsError("SLACK_APP_TOKEN must be an app-level token starting with xapp- (see docs/slack.md)")
        api_url = env.get("SLACK_API_URL", "").strip() or DEFAULT_API_URL
        if not api_url.startswith(("https://", "http://")):
            raise SettingsError(f"SLACK_API_URL={api_url!r} is not an http(s) URL")
        channels = frozenset(c.strip() for c in env.get("SLACK_ALLOWED_CHANNELS", "").split(",") if c.strip())
        db = env.get("SLACK_DEDUPE_DB", "").strip()
        return cls(
            bot_token=token,
            signing_secret=env.get("SLACK_SIGNING_SECRET", "").strip(),
            app_token=app_token,
            api_url=api_url if api_url.endswith("/") else api_url + "/",
            allowed_channels=channels,
            dedupe_db=Path(db).expanduser() if db else None,
        )

    def require_http(self) -> None:
        if not self.signing_secret:
            raise SettingsError("SLACK_SIGNING_SECRET is not set: the HTTP Events API needs it to verify requests")

    def allows(self, channel: str, *, direct: bool = False) -> bool:
        """Every conversation when no allowlist is set; else listed IDs, and direct messages when ``dm`` is listed."""
        if not self.allowed_channels:
            return True
        return channel in self.allowed_channels or (direct and "dm" in self.allowed_channels)
