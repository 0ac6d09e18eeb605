"""``notes-assistant`` command line. Imports only the standard library up front,
so ``--help`` is instant; each command imports what it needs when it runs.

Domain errors become one clear line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

Handler = Callable[[argparse.Namespace], int]


def _index(args: argparse.Namespace) -> int:
    from assistant.commands import run_index

    return run_index(args)


def _chunks(args: argparse.Namespace) -> int:
    from assistant.commands import run_chunks

    return run_chunks(args)


def _retrieve(args: argparse.Namespace) -> int:
    from assistant.cmd_retrieve import run_retrieve

    return run_retrieve(args)


def _ask(args: argparse.Namespace) -> int:
    from assistant.cmd_answer import run_ask

    return run_ask(args)


def _chat(args: argparse.Namespace) -> int:
    from assistant.cmd_answer import run_chat

    return run_chat(args)


def _answer_options(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--backend", choices=["local", "openai", "extractive"], default=None, help="LLM backend")
    sp.add_argument("--show-secrets", action="store_true", help="do not redact credentials (local terminal only; off by default)")


def _web(args: argparse.Namespace) -> int:
    from assistant.web.run import run_web

    return run_web(args)


def _slack(args: argparse.Namespace) -> int:
    from assistant.slack.run import run_slack

    return run_slack(args)


def _feedback(args: argparse.Namespace) -> int:
    from assistant.web.feedback import run_feedback_export

    return run_feedback_export(args)


def _eval(args: argparse.Namespace) -> int:
    if args.gold_evidence and args.what != "answers":
        print("notes-assistant: error: --gold-evidence is for `eval answers`", file=sys.stderr)
        return 2
    if args.what == "retrieval":
        from assistant.cmd_retrieve import run_eval_retrieval

        return run_eval_retrieval(args)
    if args.what == "evidence":
        from assistant.eval_evidence import run_eval_evidence

        return run_eval_evidence(args)
    from assistant.cmd_answer import run_eval_answers

    return run_eval_answers(args)


def _k(value: str) -> int:
    try:
        k = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--k takes a whole number, not {value!r}") from None
    if not 1 <= k <= 50:
        raise argparse.ArgumentTypeError(f"--k must be between 1 and 50 (got {k})")
    return k


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="notes-assistant",
        description="Answers questions from your own notes, citing the exact lines.",
    )
    p.add_argument("--env-file", type=Path, default=None, help="settings file (default: ./.env)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    ix = sub.add_parser("index", help="sync the notes dir into the index (incremental)")
    ix.add_argument("--notes", type=Path, default=None, help="notes dir (default: NOTES_DIR or ./notes)")
    ix.add_argument("--quiet", action="store_true", help="no progress bar")
    ix.set_defaults(handler=_index)

    ch = sub.add_parser("chunks", help="print every indexed chunk")
    ch.add_argument("--jsonl", action="store_true", required=True, help="one JSON object per line")
    ch.set_defaults(handler=_chunks)
    rt = sub.add_parser("retrieve", help="show the passages found for a question")
    rt.add_argument("question", nargs="*", help="the question (omit with --jsonl)")
    rt.add_argument("--k", type=_k, default=5, help="how many passages (1-50, default 5)")
    out = rt.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the passages as JSON")
    out.add_argument("--jsonl", action="store_true", help='batch: read {"id","question","history"} lines on stdin')
    rt.set_defaults(handler=_retrieve)

    ak = sub.add_parser("ask", help="answer a question from your notes, with citations")
    ak.add_argument("question", nargs="*", help="the question (omit with --jsonl)")
    ak.add_argument("--jsonl", action="store_true", help='batch: {"id","question","history"} lines on stdin')
    _answer_options(ak)
    ak.set_defaults(handler=_ask)

    ct = sub.add_parser("chat", help="multi-turn chat about your notes in the terminal")
    _answer_options(ct)
    ct.set_defaults(handler=_chat)

    wb = sub.add_parser("web", help="start the web chat (what `make run` starts)")
    wb.add_argument("--allow-exposed", action="store_true", help="bind beyond localhost without auth (not advised)")
    wb.add_argument("--no-index", action="store_true", help="do not sync the notes before starting")
    wb.set_defaults(handler=_web)

    sl = sub.add_parser("slack", help="run the Slack bot (Socket Mode if SLACK_APP_TOKEN is set)")
    sl.add_argument("--http", action="store_true", help="serve the HTTP Events API at /slack/events")
    sl.add_argument("--port", type=int, default=3000, help="port for --http (default 3000)")
    sl.add_argument("--host", default="127.0.0.1", help="host for --http (default 127.0.0.1)")
    sl.set_defaults(handler=_slack)

    fb = sub.add_parser("feedback", help="work with thumbs up/down stored by the web chat")
    fb.add_argument("action", choices=["export"])
    fb.add_argument("--jsonl", action="store_true", required=True, help="write eval-format JSON lines to stdout")
    fb.set_defaults(handler=_feedback)

    ev = sub.add_parser("eval", help="measure retrieval, the prompt's evidence (no LLM) or answers on a question file")
    ev.add_argument("what", choices=["retrieval", "evidence", "answers"])
    ev.add_argument("--questions", type=Path, required=True, help="JSONL in the eval format")
    ev.add_argument("--out", type=Path, default=None, help="write a JSON report here")
    ev.add_argument("--backend", choices=["local", "openai", "extractive"], default=None, help="LLM backend (answers)")
    ev.add_argument(
        "--gold-evidence",
        action="store_true",
        help="answers: give the model exactly each question's gold lines (the reader ceiling; answerable questions only)",
    )
    ev.set_defaults(handler=_eval)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    from assistant.errors import USER_ERRORS

    try:
        return handler(args)
    except USER_ERRORS as exc:
        print(f"notes-assistant: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `notes-assistant chunks --jsonl | head`
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
