"""The Slack bot over the HTTP Events API: the real bolt App behind the bot's HTTP server on 127.0.0.1,
driven by requests signed the way Slack signs them, talking to a fake Web API."""

from __future__ import annotations

import json
import shutil
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.settings import load_settings
from assistant.slack.format import PLACEHOLDER
from assistant.types import Turn
from assistant.wiring import Components
from tests.fake_slack_api import (
    BOT_ID,
    BOT_USER,
    FakeAssistant,
    FakeSlackApi,
    Post,
    all_text,
    contexts,
    envelope,
    mention,
    serve,
    signed_headers,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def assistant() -> FakeAssistant:
    return FakeAssistant(delay_s=1.0)


@pytest.fixture
def post(fake: FakeSlackApi, assistant: FakeAssistant) -> Iterator[Post]:
    yield from serve(fake, assistant)


def test_bad_signature_is_401(post: Post, fake: FakeSlackApi) -> None:
    status, _, _ = post(envelope(mention("restart?")), secret="not-the-secret")
    assert status == 401
    status, _, _ = post(envelope(mention("restart?")), headers={"Content-Type": "application/json"})
    assert status == 401
    time.sleep(0.3)
    assert not fake.of("chat.postMessage")


def test_stale_timestamp_is_401(post: Post, fake: FakeSlackApi) -> None:
    status, _, _ = post(envelope(mention("restart?")), ts=int(time.time()) - 6 * 60)
    assert status == 401
    time.sleep(0.3)
    assert not fake.of("chat.postMessage")


def test_server_routes(post: Post) -> None:
    assert post(envelope(mention("x")), path="/elsewhere")[0] == 404
    assert post("", headers={"Content-Length": "5000000"})[0] == 413  # refused before the body is read
    assert post("", path="/healthz", method="GET") == (200, "ok\n", pytest.approx(0, abs=3))


def test_url_verification_after_signature(post: Post) -> None:
    body = json.dumps({"token": "x", "challenge": "abc123", "type": "url_verification"})
    status, text, _ = post(body)
    assert status == 200 and "abc123" in text


def test_mention_acks_fast_then_answers_in_the_thread(post: Post, fake: FakeSlackApi, assistant: FakeAssistant) -> None:
    status, _, elapsed = post(envelope(mention("slow: how do I restart kube-apiserver?")))
    assert status == 200
    assert elapsed < 1.0  # well inside Slack's 3 s: the fake assistant takes 1 s and the ack did not wait for it
    holder = fake.wait_for("chat.postMessage")[0]
    assert holder.params["channel"] == "C1" and holder.params["thread_ts"] == "1700000100.000100"
    assert "Searching your notes" in holder.params["text"] and holder.token == "xoxb-test"
    update = fake.wait_for("chat.update")[0]
    assert update.params["channel"] == "C1"
    placeholder_ts = fake.threads[("C1", "1700000100.000100")][0]["ts"]
    assert update.params["ts"] == placeholder_ts
    assert "`systemctl restart kube-apiserver` *after* editing" in update.params["text"]
    assert "`ops-notes.md:157-165` kubernetes &gt; kube-apiserver" in contexts(update.params["blocks"])
    assert "note: answered by a fake" in contexts(update.params["blocks"])
    assert assistant.asked == [("slow: how do I restart kube-apiserver?", ())]
    assert len(fake.of("chat.postMessage")) == 1


def test_retry_and_duplicate_are_answered_once(post: Post, fake: FakeSlackApi, assistant: FakeAssistant) -> None:
    body = envelope(mention("restart?"), event_id="EvDUP")
    assert post(body)[0] == 200
    retry = {**signed_headers(body), "X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"}
    assert post(body, headers=retry)[0] == 200
    assert post(body)[0] == 200
    fake.wait_for("chat.update")
    time.sleep(0.5)
    assert len(fake.of("chat.postMessage")) == 1 and len(fake.of("chat.update")) == 1
    assert len(assistant.asked) == 1


def test_generated_mentions_are_stripped(post: Post, fake: FakeSlackApi) -> None:
    post(envelope(mention("ping")))
    update = fake.wait_for("chat.update")[0]
    text = all_text(update)
    for token in ("<!channel>", "<!here>", "<@U123>", "<!subteam", "@ops"):
        assert token not in text
    assert "hi restart it [1]" in update.params["text"]


def test_not_grounded_lists_the_nearest_sections(post: Post, fake: FakeSlackApi) -> None:
    post(envelope(mention("what is the weather?")))
    ctx = contexts(fake.wait_for("chat.update")[0].params["blocks"])
    assert "Nearest sections:" in ctx and "`ops-notes.md:8-12` curl" in ctx and "`ops-notes.md:14-16` zip" in ctx


def test_long_answer_is_split_within_slack_limits(post: Post, fake: FakeSlackApi) -> None:
    post(envelope(mention("a long one please")))
    update = fake.wait_for("chat.update")[0]
    time.sleep(0.3)
    rest = [c for c in fake.of("chat.postMessage") if PLACEHOLDER not in c.params["text"]]
    parts = [update, *rest]
    assert len(parts) >= 2
    assert all(c.params["thread_ts"] == "1700000100.000100" and c.params["channel"] == "C1" for c in rest)
    for c in parts:
        assert len(c.params["text"]) <= 40_000 and len(c.params["blocks"]) <= 50
        for b in c.params["blocks"]:
            if b["type"] == "section":
                assert len(b["text"]["text"]) <= 3000 and b["text"]["text"].count("```") % 2 == 0
    assert "ops-notes.md:157-165" in contexts(parts[-1].params["blocks"])
    assert "ops-notes.md:157-165" not in contexts(parts[0].params["blocks"])
    joined = "\n".join(c.params["text"] for c in parts)
    assert joined.count("kubectl get pods -n ns119 -o wide") == 1


def test_direct_message_is_answered_in_its_thread(post: Post, fake: FakeSlackApi) -> None:
    event = {"type": "message", "channel_type": "im", "channel": "D1", "user": "U1", "text": "restart?", "ts": "1700000200.1"}
    assert post(envelope(event, "EvDM"))[0] == 200
    update = fake.wait_for("chat.update")[0]
    holder = fake.of("chat.postMessage")[0]
    assert holder.params["channel"] == "D1" and holder.params["thread_ts"] == "1700000200.1"
    assert update.params["channel"] == "D1" and "ops-notes.md:157-165" in contexts(update.params["blocks"])


def test_thread_follow_up_needs_no_mention_and_uses_the_thread(post: Post, fake: FakeSlackApi, assistant: FakeAssistant) -> None:
    parent = "1700000300.000100"
    fake.threads[("C1", parent)] = [
        {"type": "message", "user": "U1", "text": f"<@{BOT_USER}> how do I restart kube-apiserver?", "ts": parent},
        {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "text": "Restart it with `systemctl` [1]", "ts": "1700000301.0"},
        {"type": "message", "user": "U2", "text": "and on worker nodes &amp; masters?", "ts": "1700000302.0"},
    ]
    event = {"type": "message", "channel": "C1", "channel_type": "channel", "user": "U2"}
    event |= {"text": "and on worker nodes &amp; masters?", "ts": "1700000302.0", "thread_ts": parent}
    assert post(envelope(event, "EvFollow"))[0] == 200
    update = fake.wait_for("chat.update")[0]
    assert update.params["channel"] == "C1"
    assert fake.of("chat.postMessage")[0].params["thread_ts"] == parent
    history = (Turn("user", "how do I restart kube-apiserver?"), Turn("assistant", "Restart it with `systemctl` [1]"))
    assert assistant.asked == [("and on worker nodes & masters?", history)]


def test_threads_without_the_bot_and_bot_messages_are_ignored(post: Post, fake: FakeSlackApi, assistant: FakeAssistant) -> None:
    parent = "1700000400.0"
    fake.threads[("C1", parent)] = [{"type": "message", "user": "U1", "text": "lunch?", "ts": parent}]
    base = {"type": "message", "channel": "C1", "channel_type": "channel"}
    ignored = [
        {**base, "user": "U2", "text": "sure", "ts": "1700000401.0", "thread_ts": parent},
        {**base, "user": "U2", "text": "top-level chatter", "ts": "1700000402.0"},
        {**base, "subtype": "bot_message", "bot_id": "BOTHER", "text": "beep", "ts": "1700000403.0"},
        {**base, "channel_type": "im", "channel": "D1", "user": "U3", "bot_id": "BOTHER", "text": "hi", "ts": "1700000404.0"},
        {**base, "channel_type": "im", "channel": "D1", "user": BOT_USER, "text": "my own", "ts": "1700000405.0"},
        {**base, "subtype": "message_changed", "channel_type": "im", "channel": "D1", "ts": "1700000406.0"},
        mention("from a bot", ts="1700000407.0", bot_id="BOTHER"),
    ]
    for i, event in enumerate(ignored):
        assert post(envelope(event, f"EvIgn{i}"))[0] == 200
    fake.wait_for("conversations.replies")
    time.sleep(0.5)
    assert not fake.of("chat.postMessage") and assistant.asked == []


def test_channel_allowlist(fake: FakeSlackApi, assistant: FakeAssistant) -> None:
    for post in serve(fake, assistant, SLACK_ALLOWED_CHANNELS="C_OK, C_TOO"):
        assert post(envelope(mention("restart?", channel="C_NOPE"), "EvNo"))[0] == 200
        assert post(envelope(mention("restart?", channel="C_OK"), "EvOk"))[0] == 200
        fake.wait_for("chat.update")
        time.sleep(0.3)
        assert [c.params["channel"] for c in fake.of("chat.postMessage")] == ["C_OK"]


def command_body(fake: FakeSlackApi, text: str, **extra: str) -> str:
    fields = {"token": "legacy", "team_id": "T1", "channel_id": "C1", "channel_name": "general", "user_id": "U1"}
    fields |= {"command": "/notes", "text": text, "response_url": fake.response_url("cmd1"), "trigger_id": "13345.7.abc"}
    return urllib.parse.urlencode({**fields, **extra})


def test_slash_command_answers_ephemerally(post: Post, fake: FakeSlackApi) -> None:
    body = command_body(fake, "how do I restart kube-apiserver?")
    status, text, elapsed = post(body, content_type="application/x-www-form-urlencoded")
    assert status == 200 and elapsed < 3.0
    ack = json.loads(text)
    assert ack["response_type"] == "ephemeral" and "Searching your notes" in ack["text"]
    reply = fake.wait_for("response_url")[0]
    assert reply.params["response_type"] == "ephemeral"
    assert "ops-notes.md:157-165" in contexts(reply.params["blocks"])
    assert not fake.of("chat.postMessage")
    status, text, _ = post(command_body(fake, "  ", trigger_id="t2"), content_type="application/x-www-form-urlencoded")
    assert status == 200 and "/notes" in json.loads(text)["text"]  # usage, and nothing more
    time.sleep(0.3)
    assert len(fake.of("response_url")) == 1


def test_real_assistant_answers_with_cited_lines_and_redacts_secrets(fake: FakeSlackApi, tmp_path: Path) -> None:
    """Components (extractive backend, default redaction) over a tmp index of a copy of notes/."""
    shutil.copytree(ROOT / "notes", tmp_path / "notes")
    overrides = {"notes_dir": tmp_path / "notes", "index_dir": tmp_path / "index", "chroma_url": ""}
    real = Components(load_settings(environ={"NOTES_LLM_BACKEND": "extractive"}, overrides=overrides))
    with real.write_lock():
        real.syncer.sync(real.settings.notes_dir)
    for post in serve(fake, real.assistant):
        assert post(envelope(mention("how do I restart kube-apiserver after changing its config?"), "EvReal1"))[0] == 200
        update = fake.wait_for("chat.update", timeout=60)[0]
        ctx = contexts(update.params["blocks"])
        assert "`ops-notes.md:" in ctx
        refs = [e["text"] for b in update.params["blocks"] if b["type"] == "context" for e in b["elements"]]
        spans = [tuple(int(x) for x in r.split("`")[1].split(":")[1].split("-")) for r in refs if r.startswith("[")]
        assert any(s <= 165 and 157 <= e for s, e in spans), refs
        post(envelope(mention("curl controller v2 tokens userName password", ts="1700000500.0"), "EvReal2"))
        second = fake.wait_for("chat.update", count=2, timeout=60)[1]
        text = all_text(second)
        assert "controller/v2/tokens" in text and "[redacted]" in text  # the line is quoted, its password is not
        assert "Xsy@2023" not in text
