"""The ``/ask`` endpoint through ``gradio_client``, the login, and the exposure guard."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.settings import Settings, SettingsError
from assistant.web.run import ExposedWithoutAuth, check_exposure, concurrency_for, is_loopback
from tests.conftest import ref_covering
from tests.test_web_e2e import ROOT, App, serve_app

USER, PASSWORD = "notes", "s3cret-for-tests"


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    tmp = tmp_path_factory.mktemp("web-api")
    with serve_app(tmp, "extractive", NOTES_WEB_USER=USER, NOTES_WEB_PASSWORD=PASSWORD) as served:
        yield served


def test_ask_endpoint_returns_markdown_with_citations(app: App) -> None:
    from gradio_client import Client

    client = Client(app.url, auth=(USER, PASSWORD), verbose=False)
    assert "/ask" in client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    answer = client.predict("kubectl 怎么扩容 deployment？", api_name="/ask")
    assert isinstance(answer, str)
    assert "kubectl scale deployment" in answer
    sources = answer.split("Sources:\n", 1)[1]
    assert sources.startswith("- [1] `ops-notes.md:") and ref_covering(sources, 194) and "<details>" not in answer


def test_several_users_are_answered_at_once_and_errors_come_back_as_messages(app: App) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(app.url, auth=(USER, PASSWORD), verbose=False)
    questions = ["kubectl 怎么扩容 deployment？", "How do I restart kube-apiserver after changing its config?", "crictl ps -a"]
    jobs = [client.submit(q, api_name="/ask") for q in questions]
    answers = [job.result(timeout=120) for job in jobs]
    assert ref_covering(answers[0], 194) and ref_covering(answers[1], 159) and "crictl ps -a" in answers[2]
    with pytest.raises(AppError, match="question"):
        client.predict("   ", api_name="/ask")


def test_the_app_asks_for_a_login_when_one_is_configured(app: App) -> None:
    from gradio_client import Client
    from gradio_client.exceptions import AuthenticationError

    with pytest.raises(AuthenticationError, match="credentials were not provided"):
        Client(app.url, verbose=False)
    with pytest.raises(ValueError, match="Could not login"):
        Client(app.url, auth=(USER, "wrong"), verbose=False)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(app.url + "config", timeout=10)
    assert err.value.code == 401


def test_serving_beyond_loopback_without_a_login_is_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTES_", "GRADIO_"))}
    env.update(GRADIO_SERVER_NAME="0.0.0.0", NOTES_INDEX_DIR=str(tmp_path / "index"))
    args = [sys.executable, str(ROOT / "app.py"), "--env-file", str(tmp_path / "absent.env")]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--allow-exposed" in done.stderr and "NOTES_WEB_USER" in done.stderr
    assert not (tmp_path / "index").exists()  # refused before any work


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("localhost", True), ("::1", True), ("[::1]", True), ("127.0.1.1", True), ("", True)]
    + [("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("notes.example.org", False)],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_exposure_rules() -> None:
    check_exposure(Settings(web_host="0.0.0.0"), allow_exposed=True)
    check_exposure(Settings(web_host="0.0.0.0", web_user="u", web_password="p"), allow_exposed=False)
    with pytest.raises(ExposedWithoutAuth):
        check_exposure(Settings(web_host="0.0.0.0"), allow_exposed=False)
    with pytest.raises(SettingsError, match="both"):
        check_exposure(Settings(web_user="u"), allow_exposed=False)
    assert (concurrency_for("local"), concurrency_for("extractive"), concurrency_for("openai")) == (1, 4, 4)
