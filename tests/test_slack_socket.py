"""Socket Mode runs the same app and handlers as HTTP: envelopes go through bolt's real
``SocketModeHandler.handle`` (no WebSocket is opened). Also the entry point (configuration,
transport choice, ``notes-assistant slack --http`` in a subprocess) and the dedupe stores."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import BoltRequest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from assistant.settings import SettingsError
from assistant.slack.app import build_app
from assistant.slack.config import SlackConfig
from assistant.slack.dedupe import MemoryDedupe, SqliteDedupe, event_key
from assistant.slack.run import transport
from tests.fake_slack_api import (
    BOT_USER,
    SIGNING_SECRET,
    FakeAssistant,
    FakeSlackApi,
    contexts,
    envelope,
    mention,
    signed_headers,
    wait_until,
)

ROOT = Path(__file__).resolve().parent.parent

ENV = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_APP_TOKEN": "xapp-1-test"}


@pytest.fixture
def handler(fake: FakeSlackApi) -> Iterator[tuple[SocketModeHandler, list[SocketModeResponse], FakeAssistant]]:
    assistant = FakeAssistant()
    app = build_app(assistant, SlackConfig.from_env({**ENV, "SLACK_API_URL": fake.url}))  # no signing secret in Socket Mode
    h = SocketModeHandler(app, app_token="xapp-1-test")
    sent: list[SocketModeResponse] = []
    h.client.send_socket_mode_response = sent.append  # type: ignore[method-assign,assignment]
    yield h, sent, assistant
    h.close()


def event_payload(event_id: str, ts: str = "1700000100.0001") -> dict[str, Any]:
    event = {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> how do I restart?", "ts": ts, "channel": "C9"}
    return {"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": event_id, "event": event}


def test_socket_mode_envelope_runs_the_same_handler(handler: Any, fake: FakeSlackApi) -> None:
    h, sent, assistant = handler
    start = time.monotonic()
    h.handle(h.client, SocketModeRequest(type="events_api", envelope_id="env-1", payload=event_payload("EvS1")))
    assert time.monotonic() - start < 1.0
    assert [r.envelope_id for r in sent] == ["env-1"]
    holder = fake.wait_for("chat.postMessage")[0]
    assert holder.params["channel"] == "C9" and holder.params["thread_ts"] == "1700000100.0001"
    update = fake.wait_for("chat.update")[0]
    assert "ops-notes.md:157-165" in json.dumps(update.params["blocks"])
    assert assistant.asked == [("how do I restart?", ())]
    assert not fake.of("apps.connections.open")  # nothing was connected


def test_socket_mode_retry_is_acknowledged_but_not_answered_again(handler: Any, fake: FakeSlackApi) -> None:
    h, sent, assistant = handler
    h.handle(h.client, SocketModeRequest(type="events_api", envelope_id="env-1", payload=event_payload("EvS2")))
    retry = SocketModeRequest("events_api", "env-2", event_payload("EvS2"), retry_attempt=1, retry_reason="timeout")
    h.handle(h.client, retry)
    assert [r.envelope_id for r in sent] == ["env-1", "env-2"]
    fake.wait_for("chat.update")
    time.sleep(0.4)
    assert len(fake.of("chat.postMessage")) == 1 and len(assistant.asked) == 1


def test_socket_mode_slash_command_acks_with_the_envelope(handler: Any, fake: FakeSlackApi) -> None:
    h, sent, _ = handler
    command = {"command": "/notes", "text": "restart?", "channel_id": "C9", "user_id": "U1", "trigger_id": "t-1"}
    command["response_url"] = fake.response_url("sock")
    h.handle(h.client, SocketModeRequest(type="slash_commands", envelope_id="env-c", payload=command))
    assert sent[0].envelope_id == "env-c" and sent[0].payload is not None
    assert sent[0].payload["response_type"] == "ephemeral"
    reply = fake.wait_for("response_url")[0]
    assert reply.params["response_type"] == "ephemeral" and "ops-notes.md:157-165" in json.dumps(reply.params["blocks"])


def test_the_same_app_still_refuses_unsigned_http_requests(fake: FakeSlackApi) -> None:
    app = build_app(FakeAssistant(), SlackConfig.from_env({**ENV, "SLACK_API_URL": fake.url, "SLACK_SIGNING_SECRET": "s3"}))
    body = json.dumps(event_payload("EvS3"))
    assert app.dispatch(BoltRequest(body=body, headers={"content-type": ["application/json"]})).status == 401
    assert app.dispatch(BoltRequest(body=body, mode="socket_mode")).status == 200
    fake.wait_for("chat.update")  # the answer went out before the fake API stops


def test_config_reads_the_mapping_and_checks_tokens() -> None:
    cfg = SlackConfig.from_env({**ENV, "SLACK_ALLOWED_CHANNELS": " C1, ,C2 ", "SLACK_API_URL": "http://127.0.0.1:9/api"})
    assert cfg.allowed_channels == {"C1", "C2"} and cfg.api_url == "http://127.0.0.1:9/api/"
    assert cfg.allows("C1") and not cfg.allows("C3") and not cfg.allows("D1", direct=True)
    assert SlackConfig.from_env({**ENV, "SLACK_ALLOWED_CHANNELS": "C1,dm"}).allows("D7", direct=True)
    assert SlackConfig.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}).api_url == "https://slack.com/api/"
    assert "xoxb" not in repr(cfg) and "xapp" not in repr(cfg)
    for bad in ({}, {"SLACK_BOT_TOKEN": "xoxp-user"}, {**ENV, "SLACK_APP_TOKEN": "xoxb-x"}, {**ENV, "SLACK_API_URL": "ftp://x"}):
        with pytest.raises(SettingsError):
            SlackConfig.from_env(bad)


def test_transport_choice() -> None:
    socket_cfg = SlackConfig.from_env(ENV)
    assert transport(socket_cfg) == "socket"
    with pytest.raises(SettingsError, match="SIGNING_SECRET"):
        transport(socket_cfg, force_http=True)
    http_cfg = SlackConfig.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"})
    assert transport(http_cfg) == "http"


def test_memory_dedupe_is_bounded_and_expires() -> None:
    now = [0.0]
    d = MemoryDedupe(ttl_s=10, max_items=3, clock=lambda: now[0])
    assert d.first_time("a") and not d.first_time("a")
    assert d.first_time("b") and d.first_time("c") and d.first_time("d")
    assert len(d) == 3 and d.first_time("a")  # "a" was dropped to keep the bound
    now[0] = 11.0
    assert d.first_time("d") and len(d) == 1


def test_sqlite_dedupe_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "seen.sqlite"
    first = SqliteDedupe(path, ttl_s=60)
    assert first.first_time("event_id:Ev1") and not first.first_time("event_id:Ev1")
    first.close()
    again = SqliteDedupe(path, ttl_s=60)
    assert not again.first_time("event_id:Ev1") and again.first_time("event_id:Ev2")
    again.close()


def test_event_key() -> None:
    assert event_key({"event_id": "Ev1", "trigger_id": "t"}) == "event_id:Ev1"
    assert event_key({"trigger_id": "t"}) == "trigger_id:t"
    assert event_key({"type": "url_verification"}) is None


def test_cli_syncs_then_serves_http(fake: FakeSlackApi, tmp_path: Path) -> None:
    """``notes-assistant slack --http`` end to end in its own process: sync at startup, then answer a signed mention."""
    shutil.copytree(ROOT / "notes", tmp_path / "notes")
    port = _free_port()
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-cli", "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake.url}
    env |= {"SLACK_APP_TOKEN": "xapp-ignored-with-http", "NOTES_LLM_BACKEND": "extractive", "NOTES_CHROMA_URL": ""}
    env |= {"NOTES_DIR": str(tmp_path / "notes"), "NOTES_INDEX_DIR": str(tmp_path / "index")}
    cmd = [sys.executable, "-m", "assistant", "slack", "--http", "--host", "127.0.0.1", "--port", str(port)]
    log = (tmp_path / "bot.log").open("wb")
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: proc.poll() is not None or _healthy(url), timeout=120)
        assert proc.poll() is None, (tmp_path / "bot.log").read_text()
        body = envelope(mention("kubectl scale"), "EvCli")
        req = urllib.request.Request(f"{url}/slack/events", body.encode(), signed_headers(body), method="POST")
        with urllib.request.urlopen(req, timeout=10) as resp:
            assert resp.status == 200
        update = fake.wait_for("chat.update", timeout=60)[0]
        assert update.token == "xoxb-cli" and "`ops-notes.md:" in contexts(update.params["blocks"])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=1) as resp:
            return resp.status == 200
    except OSError:
        return False
