"""The Slack bot: a bolt ``App`` answering from an ``Assistant``; both transports share it.

Every listener acknowledges at once (lazy listeners do the work in bolt's
thread pool), posts a placeholder in the thread of the triggering message and
then replaces it with the answer. Answers are serialised: one at a time through
the assistant (local models are not thread-safe).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from slack_bolt import App, BoltContext, BoltResponse
from slack_sdk import WebClient

from assistant.slack.config import SlackConfig
from assistant.slack.dedupe import Dedupe, MemoryDedupe, event_key
from assistant.slack.format import PLACEHOLDER, SlackMessage, plain_message, render_answer
from assistant.types import Assistant, Turn

log = logging.getLogger("assistant.slack")

USAGE = "Ask me about your notes, e.g. `@notes how do I restart kube-apiserver?` or `/notes how do I list containers?`"
FAILED = "Sorry, something went wrong while answering. Please try again."
NOT_HERE = "The notes bot is not enabled in this conversation."
HUMAN_SUBTYPES = {None, "thread_broadcast", "file_share"}
MAX_TURNS = 12
MAX_EPHEMERAL = 5  # a response_url takes at most 5 messages


def _ts(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return Decimal(0)


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


class NotesBot:
    """The listeners' logic, independent of HTTP vs Socket Mode."""

    def __init__(self, assistant: Assistant, config: SlackConfig, dedupe: Dedupe | None = None) -> None:
        self.assistant = assistant
        self.config = config
        self.dedupe = dedupe if dedupe is not None else MemoryDedupe()
        self._lock = threading.Lock()

    # -- filters --------------------------------------------------------------------------
    @staticmethod
    def is_ours(msg: Mapping[str, Any], ctx: BoltContext) -> bool:
        return bool(msg.get("user") and msg.get("user") == ctx.bot_user_id) or bool(
            msg.get("bot_id") and msg.get("bot_id") == ctx.bot_id
        )

    def is_human(self, event: Mapping[str, Any], ctx: BoltContext) -> bool:
        """Not a bot (this one or any other), not an edit/join/delete, written by a user."""
        if event.get("bot_id") or event.get("subtype") not in HUMAN_SUBTYPES or not event.get("user"):
            return False
        return not self.is_ours(event, ctx)

    def question_of(self, text: str, ctx: BoltContext) -> str:
        return _unescape(re.sub(rf"<@{re.escape(ctx.bot_user_id or '-')}(?:\|[^>]*)?>", " ", text or "")).strip()

    # -- answering ------------------------------------------------------------------------
    def answer(self, question: str, history: Sequence[Turn]) -> list[SlackMessage]:
        if not question:
            return [plain_message(USAGE)]
        from assistant.errors import USER_ERRORS

        try:
            with self._lock:
                answer = self.assistant.answer(question, history)
        except USER_ERRORS as exc:
            return [plain_message(str(exc))]
        except Exception:
            log.exception("answering failed")
            return [plain_message(FAILED)]
        return render_answer(answer)

    def history(self, msgs: Sequence[Mapping[str, Any]], before: str, ctx: BoltContext) -> list[Turn]:
        """The thread before ``before``: this bot's messages are the assistant, people are the user."""
        turns: list[Turn] = []
        role: Literal["user", "assistant"]
        for m in msgs:
            if _ts(m.get("ts")) >= _ts(before):
                continue
            if self.is_ours(m, ctx):
                role, text = "assistant", _unescape(m.get("text") or "")
                if text == _unescape(PLACEHOLDER):
                    continue
            elif self.is_human(m, ctx):
                role, text = "user", self.question_of(m.get("text") or "", ctx)
            else:
                continue
            if not text.strip():
                continue
            if turns and turns[-1].role == role:
                turns[-1] = Turn(role, f"{turns[-1].content}\n{text}")
            else:
                turns.append(Turn(role, text))
        return turns[-MAX_TURNS:]

    def replies(self, client: WebClient, channel: str, thread_ts: str) -> list[dict[str, Any]]:
        resp = client.conversations_replies(channel=channel, ts=thread_ts, limit=200)
        return list(resp.get("messages") or [])

    def reply_in_thread(
        self, client: WebClient, ctx: BoltContext, event: Mapping[str, Any], thread: list[dict[str, Any]] | None = None
    ) -> None:
        channel, ts = str(event["channel"]), str(event["ts"])
        thread_ts = str(event.get("thread_ts") or ts)
        holder = plain_message(PLACEHOLDER)
        posted = client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=holder.text, blocks=holder.blocks)
        try:
            history: list[Turn] = []
            if event.get("thread_ts"):
                history = self.history(thread if thread is not None else self.replies(client, channel, thread_ts), ts, ctx)
            messages = self.answer(self.question_of(str(event.get("text") or ""), ctx), history)
        except Exception:
            log.exception("could not read the thread %s in %s", thread_ts, channel)
            messages = [plain_message(FAILED)]
        first, rest = messages[0], messages[1:]
        client.chat_update(channel=channel, ts=str(posted["ts"]), text=first.text, blocks=first.blocks)
        for m in rest:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=m.text, blocks=m.blocks)

    # -- listeners --------------------------------------------------------------------------
    def on_mention(self, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        channel = str(event.get("channel") or "")
        if channel.startswith("D") or not self.is_human(event, context) or not self.config.allows(channel):
            return  # direct messages arrive as message.im too; answered there
        self.reply_in_thread(client, context, event)

    def on_message(self, event: dict[str, Any], context: BoltContext, client: WebClient) -> None:
        if not self.is_human(event, context):
            return
        channel = str(event.get("channel") or "")
        direct = event.get("channel_type") == "im"
        if not self.config.allows(channel, direct=direct):
            return
        if direct:
            self.reply_in_thread(client, context, event)
            return
        thread_ts = event.get("thread_ts")
        if f"<@{context.bot_user_id}" in str(event.get("text") or "") or not thread_ts or thread_ts == event.get("ts"):
            return  # mentions are answered by app_mention; top-level chatter is not for us
        thread = self.replies(client, channel, str(thread_ts))
        if any(self.is_ours(m, context) for m in thread):
            self.reply_in_thread(client, context, event, thread)

    def ack_command(self, ack: Callable[..., None], command: dict[str, Any]) -> None:
        question = str(command.get("text") or "").strip()
        if not self.config.allows(str(command.get("channel_id") or ""), direct=command.get("channel_name") == "directmessage"):
            ack(response_type="ephemeral", text=NOT_HERE)
        elif not question:
            ack(response_type="ephemeral", text=USAGE)
        else:
            ack(response_type="ephemeral", text=PLACEHOLDER)

    def on_command(self, command: dict[str, Any], respond: Any, client: WebClient) -> None:
        question = _unescape(str(command.get("text") or "")).strip()
        channel = str(command.get("channel_id") or "")
        if not question or not self.config.allows(channel, direct=command.get("channel_name") == "directmessage"):
            return
        for m in self.answer(question, [])[:MAX_EPHEMERAL]:
            if command.get("response_url"):
                respond(text=m.text, blocks=m.blocks, response_type="ephemeral")
            else:
                client.chat_postEphemeral(channel=channel, user=str(command.get("user_id")), text=m.text, blocks=m.blocks)

    def once(self, body: dict[str, Any], resp: BoltResponse, next: Callable[[], None]) -> BoltResponse:
        """Global middleware: a retried or duplicated delivery is acknowledged and dropped."""
        key = event_key(body)
        if key is not None and not self.dedupe.first_time(key):
            log.info("dropping a repeated delivery of %s", key)
            return BoltResponse(status=200, body="")
        next()
        return resp


def _ack(ack: Callable[..., None]) -> None:
    ack()


def register(app: App, bot: NotesBot, command: str = "/notes") -> None:
    """Attach the bot's middleware and listeners; the same for HTTP and Socket Mode."""
    app.middleware(bot.once)
    app.event("app_mention")(ack=_ack, lazy=[bot.on_mention])
    app.event("message")(ack=_ack, lazy=[bot.on_message])
    app.command(command)(ack=bot.ack_command, lazy=[bot.on_command])


def build_app(assistant: Assistant, config: SlackConfig, *, dedupe: Dedupe | None = None) -> App:
    """A bolt ``App`` whose Web API calls go to ``config.api_url`` (auth.test runs once, here)."""
    client = WebClient(token=config.bot_token, base_url=config.api_url)
    app = App(
        signing_secret=config.signing_secret,
        client=client,
        process_before_response=True,  # acks run inline, never queued behind answers in the thread pool
        logger=logging.getLogger("assistant.slack.bolt"),
    )
    register(app, NotesBot(assistant, config, dedupe))
    return app
