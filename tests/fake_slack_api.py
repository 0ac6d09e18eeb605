"""A local stand-in for Slack in the bot's tests.

``FakeSlackApi`` is an HTTP server on 127.0.0.1 (free port) reached through
``SLACK_API_URL``: it records every Web API call (method + params, from the
query string, a form body or a JSON body) and every POST to a ``response_url``
under ``/response/...``, keeps threads (scripted history plus what the bot posts)
for ``conversations.replies``. ``FakeAssistant`` implements the ``Assistant``
protocol with scripted answers. ``signed_headers`` signs a body the way Slack does;
``serve`` runs the bot's HTTP server and yields a ``post`` that signs and sends.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from assistant.slack.app import build_app
from assistant.slack.config import SlackConfig
from assistant.slack.run import make_server, serve_in_thread
from assistant.types import Answer, Citation, Passage, StreamEvent, Turn

BOT_USER = "UBOT"
BOT_ID = "BBOT"
SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def signed_headers(
    body: str, secret: str = SIGNING_SECRET, ts: int | None = None, content_type: str = "application/json"
) -> dict[str, str]:
    """Slack's v0 scheme: HMAC-SHA256 over ``v0:{timestamp}:{raw body}``."""
    stamp = str(int(time.time()) if ts is None else ts)
    digest = hmac.new(secret.encode(), f"v0:{stamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Call:
    method: str  # "chat.postMessage", ... or "response_url"
    params: dict[str, Any]
    token: str = ""


@dataclass
class FakeSlackApi:
    calls: list[Call] = field(default_factory=list)
    threads: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ts: float = 1_700_000_000.0

    def start(self) -> FakeSlackApi:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def response_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/response/{name}"

    def of(self, method: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 10.0) -> list[Call]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.of(method)
            if len(found) >= count:
                return found
            time.sleep(0.02)
        raise AssertionError(f"expected {count} {method} call(s) within {timeout}s; got {[c.method for c in self.calls]}")

    def answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self._ts += 1
            ts = f"{self._ts:.6f}"
            if method == "auth.test":
                return {"ok": True, "user_id": BOT_USER, "bot_id": BOT_ID, "team_id": "T1", "user": "notes", "team": "Test"}
            if method == "chat.postMessage":
                msg = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "text": params.get("text", ""), "ts": ts}
                thread = params.get("thread_ts")
                if thread:
                    self.threads.setdefault((params["channel"], thread), []).append({**msg, "thread_ts": thread})
                return {"ok": True, "channel": params["channel"], "ts": ts, "message": msg}
            if method == "chat.update":
                for msgs in self.threads.values():
                    for m in msgs:
                        if m["ts"] == params["ts"]:
                            m["text"] = params.get("text", "")
                return {"ok": True, "channel": params["channel"], "ts": params["ts"]}
            if method == "chat.postEphemeral":
                return {"ok": True, "message_ts": ts}
            if method == "conversations.replies":
                msgs = sorted(self.threads.get((params["channel"], params["ts"]), []), key=lambda m: float(m["ts"]))
                return {"ok": True, "messages": msgs, "has_more": False}
            return {"ok": False, "error": "unknown_method"}


def _handler(api: FakeSlackApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _params(self) -> dict[str, Any]:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
            params: dict[str, Any] = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            if raw and "json" in (self.headers.get("Content-Type") or ""):
                params.update(json.loads(raw))
            elif raw:
                params.update(urllib.parse.parse_qsl(raw))
            for key in ("blocks", "attachments"):
                if isinstance(params.get(key), str):
                    params[key] = json.loads(params[key])
            return params

        def _reply(self, status: int, body: str, content_type: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            path = urllib.parse.urlsplit(self.path).path
            params = self._params()
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            method = "response_url" if path.startswith("/response/") else path.removeprefix("/api/")
            with api.lock:
                api.calls.append(Call(method, params, token))
            if method == "response_url":
                self._reply(200, "ok", "text/plain")
            else:
                self._reply(200, json.dumps(api.answer(method, params)), "application/json")

        do_GET = _handle
        do_POST = _handle

    return Handler


def cite(n: int = 1, start: int = 157, end: int = 165, heading: str = "kubernetes > kube-apiserver") -> Citation:
    return Citation(n, "ops-notes.md", start, end, heading, "systemctl restart kube-apiserver")


LONG_PARAGRAPH = "Step: check the node, then the pod, then the logs & events. " * 20


def long_text() -> str:
    code = "\n".join(f"kubectl get pods -n ns{i} -o wide | grep -v Running" for i in range(120))
    return "\n\n".join([LONG_PARAGRAPH] * 12 + [f"```bash\n{code}\n```"] + [LONG_PARAGRAPH] * 12) + " [1]"


class FakeAssistant:
    """Scripted answers by keyword; records every (question, history) it is asked."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.asked: list[tuple[str, tuple[Turn, ...]]] = []
        self._lock = threading.Lock()

    def answer(self, question: str, history: Sequence[Turn] = ()) -> Answer:
        with self._lock:
            self.asked.append((question, tuple(history)))
        if "slow" in question:
            time.sleep(self.delay_s)
        q = question.lower()
        if "weather" in q:
            near = [Passage("ops-notes.md", "curl", 8, 12, "curl ...", 0.1), Passage("ops-notes.md", "zip", 14, 16, "zip", 0.05)]
            text = "This is not in your notes (no matching section). The nearest sections are:\n- curl (ops-notes.md:8-12)"
            return Answer(text, [], False, question, "fake", nearest=near)
        if "long" in q:
            return Answer(long_text(), [cite()], True, question, "fake")
        if "ping" in q:
            return Answer("<!channel> hi <@U123> <!here> <!subteam^S1|@ops> restart it [1]", [cite()], True, question, "fake")
        text = "Restart it with `systemctl restart kube-apiserver` **after** editing the manifest [1]."
        return Answer(text, [cite()], True, question, "fake", notices=["answered by a fake"])

    def stream(self, question: str, history: Sequence[Turn] = ()) -> Iterator[StreamEvent]:
        yield StreamEvent("searched", question)
        yield StreamEvent("done", answer=self.answer(question, history))


def envelope(event: dict[str, Any], event_id: str = "Ev001") -> str:
    body = {"token": "legacy", "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event_id": event_id}
    return json.dumps({**body, "event_time": int(time.time()), "event": event})


def mention(text: str, ts: str = "1700000100.000100", channel: str = "C1", **extra: Any) -> dict[str, Any]:
    return {"type": "app_mention", "user": "U1", "text": f"<@{BOT_USER}> {text}", "ts": ts, "channel": channel, **extra}


def all_text(call: Any) -> str:
    return json.dumps(call.params.get("blocks", [])) + call.params.get("text", "")


def contexts(blocks: list[dict[str, Any]]) -> str:
    return " ".join(e["text"] for b in blocks if b["type"] == "context" for e in b["elements"])


Post = Callable[..., tuple[int, str, float]]


def serve(fake: FakeSlackApi, assistant: Any, **env: str) -> Iterator[Post]:
    """The real bolt app behind ``make_server`` on a free port; yields ``post(body, headers?, path?, method?, **sign)``."""
    environ = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": fake.url, **env}
    server = make_server(build_app(assistant, SlackConfig.from_env(environ)), "127.0.0.1", 0)
    serve_in_thread(server)
    base = f"http://127.0.0.1:{server.server_address[1]}"

    def post(
        body: str, headers: dict[str, str] | None = None, path: str = "/slack/events", method: str = "POST", **sign: Any
    ) -> tuple[int, str, float]:
        data = body.encode() if method == "POST" else None
        req = urllib.request.Request(base + path, data, headers or signed_headers(body, **sign), method=method)
        start = time.monotonic()
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read().decode(), time.monotonic() - start
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode(), time.monotonic() - start

    yield post
    server.shutdown()
    server.server_close()


def wait_until(check: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
