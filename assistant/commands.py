"""Command implementations for the CLI (heavy imports happen here, lazily)."""

from __future__ import annotations

import argparse
import json
import sys

from assistant.settings import load_settings
from assistant.wiring import Components


def components(args: argparse.Namespace, show_secrets: bool = False, **overrides: object) -> Components:
    return Components(load_settings(dotenv=args.env_file, overrides=overrides), show_secrets=show_secrets)


def run_index(args: argparse.Namespace) -> int:
    from index.report import format_report

    comp = components(args, notes_dir=args.notes.resolve() if args.notes else None)
    bar = None

    def progress(done: int, total: int) -> None:
        nonlocal bar
        if args.quiet or total < 64:
            return
        if bar is None:
            from tqdm import tqdm

            bar = tqdm(total=total, unit="chunk", desc="embedding", file=sys.stderr)
        bar.n = done
        bar.refresh()

    with comp.write_lock():
        report = comp.syncer.sync(comp.settings.notes_dir, progress)
    if bar is not None:
        bar.close()
    print(f"notes dir: {comp.settings.notes_dir}")
    print(format_report(report))
    return 1 if any(f.status.value == "failed" for f in report.files) else 0


def run_chunks(args: argparse.Namespace) -> int:
    comp = components(args)
    recs = sorted(comp.store.records(), key=lambda r: (r.chunk.source, r.chunk.start_line))
    out = sys.stdout
    for r in recs:
        c = r.chunk
        row = {"source": c.source, "heading": c.heading, "start_line": c.start_line, "end_line": c.end_line}
        out.write(json.dumps({**row, "text": c.text}, ensure_ascii=False) + "\n")
    return 0
