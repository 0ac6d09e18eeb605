"""Starting the web chat: the exposure guard, the first sync, the Gradio app, launch.

Used by ``app.py`` (``make run``) and ``notes-assistant web``. Binding beyond
loopback needs ``NOTES_WEB_USER``/``NOTES_WEB_PASSWORD`` (Gradio's login form)
unless ``--allow-exposed`` is given.
"""

from __future__ import annotations

import argparse
import ipaddress
import time
from typing import TYPE_CHECKING

from assistant.settings import Settings, SettingsError, load_settings
from assistant.web.index_service import IndexService
from assistant.wiring import Components

if TYPE_CHECKING:
    import gradio as gr

LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class ExposedWithoutAuth(SettingsError):
    pass


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]").lower()
    if not host or host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name other than localhost: assume it is reachable from outside


def auth_of(settings: Settings) -> tuple[str, str] | None:
    if bool(settings.web_user) != bool(settings.web_password):
        raise SettingsError("set both NOTES_WEB_USER and NOTES_WEB_PASSWORD, or neither")
    return (settings.web_user, settings.web_password) if settings.web_user else None


def check_exposure(settings: Settings, allow_exposed: bool) -> None:
    """Refuse to serve beyond loopback without a login, unless explicitly allowed."""
    if auth_of(settings) is None and not is_loopback(settings.web_host) and not allow_exposed:
        raise ExposedWithoutAuth(
            f"GRADIO_SERVER_NAME={settings.web_host} is reachable from other machines: set NOTES_WEB_USER and "
            "NOTES_WEB_PASSWORD, or pass --allow-exposed to serve without a login"
        )


def concurrency_for(backend: str) -> int:
    """How many answers may run at once: a local model serves one at a time."""
    return 1 if backend == "local" else 4


def sync_notes(index: IndexService) -> None:
    from index.report import format_report

    report = index.sync_now()
    print(f"notes dir: {index.components.settings.notes_dir}\n{format_report(report)}", flush=True)


def warm_model(components: Components) -> None:
    """Load the models and evaluate the system prompt now, so the first question does not pay for it."""
    chain = components.assistant
    start = time.perf_counter()
    chain.warm()
    print(f"retrieval and {chain.backend} backend warmed in {time.perf_counter() - start:.1f}s", flush=True)


def build_app(components: Components, index: IndexService) -> gr.Blocks:
    from assistant.web.feedback import FeedbackStore
    from assistant.web.ui import build_ui

    assistant = components.assistant
    limit = concurrency_for(assistant.backend)
    demo = build_ui(assistant, FeedbackStore(components.settings.feedback_path), index, concurrency=limit)
    return demo.queue(default_concurrency_limit=limit)


def launch(demo: gr.Blocks, settings: Settings) -> None:
    print(f"web chat on http://{settings.web_host}:{settings.web_port}", flush=True)
    demo.launch(
        server_name=settings.web_host,
        server_port=settings.web_port,
        auth=auth_of(settings),
        auth_message="Log in to your notes assistant",
        max_file_size=settings.max_file_bytes,
        ssr_mode=False,
        share=False,
        mcp_server=False,
        show_error=False,
        quiet=True,
    )


def run_web(args: argparse.Namespace) -> int:
    """``notes-assistant web``: the same steps as ``app.py``."""
    settings = load_settings(dotenv=args.env_file)
    check_exposure(settings, args.allow_exposed)  # a SettingsError: the CLI prints it, exit code 2
    components = Components(settings)
    index = IndexService(components)
    if not args.no_index:
        sync_notes(index)
    warm_model(components)
    launch(build_app(components, index), settings)
    return 0
