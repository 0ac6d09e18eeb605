"""The Gradio Blocks UI: a thin adapter over ``Assistant``, ``FeedbackStore`` and ``IndexService``.

No retrieval or answer logic lives here: the chat handler feeds the
assistant's ``StreamEvent``s through ``adapter.StreamRenderer``; votes go to
the feedback store; the index panel calls the index service.

Concurrency: chat and the ``/ask`` API share one concurrency group, limited to
``concurrency`` (1 for a local model, which cannot serve two requests at once);
the index panel's events have their own unlimited group, so a re-index never
waits behind an answer, nor an answer behind a re-index.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from assistant.errors import USER_ERRORS
from assistant.types import Assistant
from assistant.web.adapter import (
    PENDING,
    Record,
    StreamRenderer,
    answer_record,
    error_record,
    format_answer,
    history_of,
    messages_of,
    record_at,
)
from assistant.web.feedback import FeedbackStore
from assistant.web.index_service import IndexService, status_markdown
from index.decode import SUFFIXES

EXAMPLES = [
    "kubectl 怎么扩容 deployment？",
    "How do I restart kube-apiserver after changing its config?",
    "节点上怎么看所有容器，包括已经退出的？",
    "How do I count the lines of code tracked in a git repo?",
]
TITLE = "Notes assistant"
INTRO = "Ask about your notes, in Chinese or English. Every answer cites the exact lines; open a source to read them."


def build_ui(assistant: Assistant, feedback: FeedbackStore, index: IndexService, *, concurrency: int = 1) -> gr.Blocks:
    def respond(question: str, records: list[Record]) -> Iterator[tuple[Any, list[Record], str]]:
        question = (question or "").strip()
        if not question:
            yield messages_of(records), records, ""
            return
        history = history_of(records)
        renderer = StreamRenderer(follow_up=bool(history))
        yield messages_of(records, (question, PENDING)), records, ""
        try:
            for event in assistant.stream(question, history):
                yield messages_of(records, (question, renderer.feed(event))), records, ""
        except USER_ERRORS as exc:
            records = [*records, error_record(question, str(exc))]
            yield messages_of(records), records, ""
            return
        assert renderer.answer is not None, "the assistant's stream ended without a 'done' event"
        records = [*records, answer_record(question, history, renderer.answer, renderer.markdown)]
        yield messages_of(records), records, ""

    def vote(records: list[Record], data: gr.LikeData) -> None:
        rec = record_at(records, data.index)
        if rec is not None:
            feedback.record(rec, 1 if data.liked is True else -1 if data.liked is False else 0)

    def ask(question: str) -> str:
        """Answer one question from the notes: markdown with numbered citations (`file:start-end`)."""
        try:
            return format_answer(assistant.answer(question.strip()), details=False)
        except USER_ERRORS as exc:
            raise gr.Error(str(exc)) from exc

    def status() -> tuple[str, gr.Timer]:
        return status_markdown(index.status()), gr.Timer(active=index.syncing)

    def reindex() -> tuple[str, gr.Timer]:
        started = index.start_sync()
        text = status_markdown(index.status())
        return (text if started else "A re-index is already running.\n\n" + text), gr.Timer(active=True)

    def upload(paths: list[str] | None) -> tuple[str, str, gr.Timer, None]:
        results = [index.save_upload(Path(p), Path(p).name) for p in paths or []]
        if any(saved for saved, _ in results):
            index.start_sync()
        report = "\n".join(f"- {msg}" for _, msg in results)
        return report, status_markdown(index.status()), gr.Timer(active=index.syncing), None

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        records = gr.State([])
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Chat", height=560, elem_id="chat", feedback_options=("Like", "Dislike"))
                with gr.Row():
                    box = gr.Textbox(show_label=False, placeholder="Ask about your notes…", scale=5, elem_id="question")
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                gr.Examples(EXAMPLES, inputs=box, label="Examples")
                clear = gr.Button("New conversation", elem_id="clear")
            with gr.Column(scale=1):
                gr.Markdown("### Index")
                status_md = gr.Markdown(elem_id="index-status")
                reindex_btn = gr.Button("Re-index notes", elem_id="reindex")
                files = gr.File(
                    label=f"Add notes ({', '.join(SUFFIXES)})", file_count="multiple", file_types=list(SUFFIXES), elem_id="upload"
                )
                upload_md = gr.Markdown(elem_id="upload-result")
                timer = gr.Timer(2.0, active=False)

        chat_opts: dict[str, Any] = {"concurrency_limit": concurrency, "concurrency_id": "answer"}
        side_opts: dict[str, Any] = {"concurrency_limit": None, "show_progress": "hidden"}
        for trigger in (send.click, box.submit):
            trigger(respond, [box, records], [chatbot, records, box], api_visibility="private", **chat_opts)
        chatbot.like(vote, [records], None, api_visibility="private", **side_opts)
        clear.click(lambda: ([], []), None, [chatbot, records], api_visibility="private", **side_opts)
        gr.api(ask, api_name="ask", **chat_opts)
        demo.load(status, None, [status_md, timer], api_visibility="private", **side_opts)
        timer.tick(status, None, [status_md, timer], api_visibility="private", **side_opts)
        reindex_btn.click(reindex, None, [status_md, timer], api_visibility="private", **side_opts)
        files.upload(upload, [files], [upload_md, status_md, timer, files], api_visibility="private", **side_opts)
    return demo
