"""Slack bot: answers @mentions, direct messages and /notes from your notes (see docs/slack.md)."""
