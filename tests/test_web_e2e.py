"""The real web app (``app.py`` in a subprocess) driven by headless Chromium through Playwright.

The app runs on 127.0.0.1 with a private copy of ``notes/`` and a fresh
index. Chromium is Debian's (``scripts/install-browser.sh``); nothing is
downloaded. Click-to-first-token and click-to-answer times are printed and
written to ``artifacts/web-timings.json``, with a screenshot per backend.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ref_covering, stop_process

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
MODEL = ROOT / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
BOT = "#chat [data-testid='bot']"

# (question, cited range that must be shown, a cited line that opening it must show)
ZH = (
    "kubectl 怎么扩容 deployment？",
    194,
    "194 | 3. 扩容副本--->kubectl scale deployment kubernetes-bootcamp --replicas=3",
)
EN = (
    "How do I restart kube-apiserver after changing its config?",
    159,
    "159 | 2. 重启systemctl restart kube-apiserver.service",
)


@dataclass
class App:
    url: str
    tmp: Path
    proc: subprocess.Popen[bytes]

    @property
    def feedback_db(self) -> Path:
        return self.tmp / "feedback.sqlite3"

    def log(self) -> str:
        return (self.tmp / "app.log").read_text(errors="replace")[-4000:]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_app(tmp: Path, backend: str, startup_s: float = 240, **extra_env: str) -> Iterator[App]:
    """Start ``app.py`` over a copy of the notes; yield once it serves its page."""
    shutil.copytree(ROOT / "notes", tmp / "notes")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTES_", "GRADIO_"))}
    env.update(
        NOTES_DIR=str(tmp / "notes"),
        NOTES_INDEX_DIR=str(tmp / "index"),
        NOTES_FEEDBACK_DB=str(tmp / "feedback.sqlite3"),
        NOTES_LLM_BACKEND=backend,
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_SERVER_PORT=str(port),
        GRADIO_ANALYTICS_ENABLED="False",
        **extra_env,
    )
    args = [sys.executable, str(ROOT / "app.py"), "--env-file", str(tmp / "absent.env")]
    with (tmp / "app.log").open("wb") as log:
        proc = subprocess.Popen(args, cwd=tmp, env=env, stdout=log, stderr=subprocess.STDOUT)
    app = App(f"http://127.0.0.1:{port}/", tmp, proc)
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the web app did not start (exit {proc.poll()}):\n{app.log()}")
            try:
                with urllib.request.urlopen(app.url, timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        yield app
    finally:
        stop_process(proc, 20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-browser.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def extractive_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    with serve_app(tmp_path_factory.mktemp("web-extractive"), "extractive") as app:
        yield app


def wait_text(page: Any, selector: str, text: str, timeout_s: float = 30) -> None:
    page.wait_for_function(f"document.querySelector({selector!r})?.innerText.includes({text!r})", timeout=timeout_s * 1000)


def ask(page: Any, question: str, n: int, timeout_s: float) -> dict[str, Any]:
    """Type and send the ``n``-th question; time the first streamed text and the finished answer.

    ``streamed`` says whether text showed before the checked answer (with its sources) replaced it.
    """
    page.fill("#question textarea", question)
    t0 = time.monotonic()
    page.click("#ask")
    last = f'document.querySelectorAll("{BOT}")[{n - 1}]'
    streaming = f"{last} && {last}.innerText.trim() !== '' && !{last}.innerText.includes('Searching your notes')"
    page.wait_for_function(streaming, timeout=timeout_s * 1000)
    first = time.monotonic() - t0
    streamed = not page.evaluate(f"!!{last}.querySelector('details')")
    page.wait_for_function(f"{last} && {last}.querySelector('details summary')", timeout=timeout_s * 1000)
    return {"first_token_s": round(first, 2), "answer_s": round(time.monotonic() - t0, 2), "streamed": streamed}


def open_citation(page: Any, n: int, ref: str) -> str:
    """Open the citation ``ref`` of the ``n``-th answer and return the text it shows."""
    details = page.locator(BOT).nth(n - 1).locator("details", has=page.locator("summary", has_text=ref))
    details.locator("summary").click()
    text: str = details.inner_text()
    return text


def wait_for_vote(db: Path, question: str, timeout_s: float = 10) -> tuple[int, list[dict[str, Any]]]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if db.exists():
            try:
                with sqlite3.connect(db) as con:
                    row = con.execute("SELECT vote, citations FROM feedback WHERE question = ?", (question,)).fetchone()
            except sqlite3.OperationalError:  # the app has created the file, not yet its table
                row = None
            if row:
                return int(row[0]), json.loads(row[1])
        time.sleep(0.2)
    raise AssertionError(f"no feedback row for {question!r} in {db}")


def covers(ref: str, source: str, line: int) -> bool:
    name, _, lines = ref.rpartition(":")
    start, _, end = lines.partition("-")
    return name == source and int(start) <= line <= int(end)


def record_timings(backend: str, timings: dict[str, dict[str, Any]]) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / "web-timings.json"
    data = json.loads(path.read_text()) if path.exists() else {}
    data[backend] = timings
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1))
    print(f"\nclick -> first token / full answer ({backend}): {timings}")


def test_chat_cites_opens_sources_and_stores_votes(browser: Any, extractive_app: App) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    outside: list[str] = []  # the page must not load anything from beyond the app (fonts, analytics...)
    page.on("request", lambda r: None if r.url.startswith((extractive_app.url, "data:", "blob:")) else outside.append(r.url))
    page.goto(extractive_app.url)
    wait_text(page, "#index-status", "Chunks:")
    assert "extractive" in page.inner_text("#index-status")
    timings = {}
    for n, (question, gold, line) in enumerate((ZH, EN), 1):
        timings[question] = ask(page, question, n, timeout_s=90)
        summaries = page.locator(BOT).nth(n - 1).locator("details summary").all_inner_texts()
        ref = ref_covering("\n".join(summaries), gold)
        assert ref, (gold, summaries)
        assert line in open_citation(page, n, ref)
    assert "searched for:" in page.locator(BOT).nth(1).inner_text()  # the second question is a follow-up
    page.locator("#chat button[aria-label='Like']").first.click()
    vote, cites = wait_for_vote(extractive_app.feedback_db, ZH[0])
    assert vote == 1 and any(c["source"] == "ops-notes.md" and c["start_line"] <= ZH[1] <= c["end_line"] for c in cites)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-e2e-extractive.png"), full_page=True)
    record_timings("extractive", timings)
    assert outside == []
    page.close()


def test_uploaded_note_is_saved_beside_a_namesake_and_indexed(browser: Any, extractive_app: App) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1100})
    page.goto(extractive_app.url)
    wait_text(page, "#index-status", "Files: 1")
    note = "# Uploaded\n\n## nginx\nnginx -s reload    # 重新加载 nginx 配置\n".encode()
    page.set_input_files(
        "#upload input[type=file]", files=[{"name": "ops-notes.md", "mimeType": "text/markdown", "buffer": note}]
    )
    wait_text(page, "#upload-result", "saved as ops-notes-1.md")
    assert (extractive_app.tmp / "notes" / "ops-notes-1.md").read_bytes() == note
    assert (extractive_app.tmp / "notes" / "ops-notes.md").read_bytes() == (ROOT / "notes" / "ops-notes.md").read_bytes()
    wait_text(page, "#index-status", "Files: 2", timeout_s=120)
    ask(page, "nginx 怎么重新加载配置？", 1, timeout_s=90)
    summaries = page.locator(BOT).nth(0).locator("details summary").all_inner_texts()
    assert any(covers(s.split()[1], "ops-notes-1.md", 4) for s in summaries), summaries
    page.close()


@pytest.mark.slow
@pytest.mark.skipif(not MODEL.is_file(), reason=f"{MODEL} is absent: run `make install`")
def test_local_model_streams_an_answer_with_a_citation(browser: Any, tmp_path: Path) -> None:
    with serve_app(tmp_path, "local") as app:
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(app.url)
        question, _, _ = EN
        timings = ask(page, question, 1, timeout_s=300)
        assert timings["streamed"], "the answer appeared all at once: tokens were not streamed"
        seen = page.locator(BOT).nth(0).inner_text()
        summaries = page.locator(BOT).nth(0).locator("details summary").all_inner_texts()
        assert any(covers(s.split()[1], "ops-notes.md", 159) for s in summaries), (summaries, seen)  # the restart line
        page.screenshot(path=str(ARTIFACTS / "web-e2e-local.png"), full_page=True)
        record_timings("local", {question: timings})
        page.close()
