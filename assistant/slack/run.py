"""``notes-assistant slack``: Socket Mode when ``SLACK_APP_TOKEN`` is set, else the HTTP Events API.

The HTTP transport is a small threaded ``http.server`` bound to ``--host``
(127.0.0.1 by default: put a TLS reverse proxy or tunnel in front of it) that
hands ``POST /slack/events`` to the bolt app; bolt verifies the signature
(401 when it or the timestamp is wrong) before anything else runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from slack_bolt import App, BoltRequest

from assistant.settings import load_settings, read_dotenv
from assistant.slack.config import SlackConfig

log = logging.getLogger("assistant.slack")

EVENTS_PATH = "/slack/events"
MAX_BODY = 1_000_000


def make_server(app: App, host: str, port: int, path: str = EVENTS_PATH) -> ThreadingHTTPServer:
    """A threaded HTTP server for ``app`` on ``host:port`` (port 0: a free one); call ``serve_forever``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            log.debug("%s " + format, self.address_string(), *args)

        def _send(self, status: int, headers: Mapping[str, object], body: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            for key, values in headers.items():
                for value in values if isinstance(values, list | tuple) else [values]:
                    if key.lower() != "content-length":
                        self.send_header(key, str(value))
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            healthy = self.path == "/healthz"
            self._send(200 if healthy else 404, {"Content-Type": "text/plain"}, "ok\n" if healthy else "")

        def do_POST(self) -> None:
            route, _, query = self.path.partition("?")
            raw_length = self.headers.get("Content-Length") or "0"
            length = int(raw_length) if raw_length.isdigit() else -1
            if route != path or not 0 <= length <= MAX_BODY:
                self.close_connection = True  # the body is left unread
                self._send(404 if route != path else 413, {}, "")
                return
            body = self.rfile.read(length).decode("utf-8", errors="replace")
            headers: dict[str, str | Sequence[str]] = {k.lower(): v for k, v in self.headers.items()}
            resp = app.dispatch(BoltRequest(body=body, query=query, headers=headers))
            self._send(resp.status, resp.headers, resp.body or "")

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    return server


def serve_in_thread(server: ThreadingHTTPServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True, name="slack-http")
    thread.start()
    return thread


def _environment(env_file: Path | None) -> dict[str, str]:
    """``.env`` then the process environment (which wins), read once."""
    return {**read_dotenv(env_file if env_file is not None else Path.cwd() / ".env"), **os.environ}


def transport(config: SlackConfig, *, force_http: bool = False) -> str:
    """``socket`` when an app token is set and ``--http`` is not given, else ``http``; checks its credentials."""
    if config.app_token and not force_http:
        return "socket"
    config.require_http()
    return "http"


def run_slack(args: argparse.Namespace) -> int:
    from assistant.slack.app import build_app
    from assistant.slack.dedupe import make_dedupe
    from assistant.wiring import Components
    from index.report import format_report

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    env_file = getattr(args, "env_file", None)
    env = _environment(env_file)
    config = SlackConfig.from_env(env)
    socket_mode = transport(config, force_http=args.http) == "socket"

    comp = Components(load_settings(environ=env, dotenv=env_file))  # never show_secrets: answers leave this machine
    with comp.write_lock():
        report = comp.syncer.sync(comp.settings.notes_dir)
    log.info("notes dir: %s\n%s", comp.settings.notes_dir, format_report(report))
    assistant = comp.assistant
    assistant.warm()  # load the models before the first question
    app = build_app(assistant, config, dedupe=make_dedupe(config.dedupe_db))

    if socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        log.info("connecting to Slack in Socket Mode")
        SocketModeHandler(app, config.app_token).start()
        return 0
    server = make_server(app, args.host, args.port)
    log.info("serving the Slack Events API on http://%s:%d%s", args.host, server.server_address[1], EVENTS_PATH)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0
