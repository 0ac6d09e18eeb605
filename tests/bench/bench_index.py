"""Index benchmark (not a test): ``python -m tests.bench.bench_index`` / ``make bench-index``.

1. bundled: ``notes/ops-notes.md`` copied into a temp notes dir, fresh temp index.
2. synthetic: about 2,000 notes made from the bundled one. Each note is a unique
   marker section (a marker line plus six random lines of the bundled note) and
   two of the bundled file's top-level sections. The index is first seeded with
   the bundled note, so the shared sections' vectors are reused by content hash
   and only the 2,000 marker chunks need the model: that keeps the run to a few
   minutes on a 2-core CPU while chroma, the file walk, hashing, chunking and the
   lexical rebuild all see the full corpus (about 25,000 chunks).

Uses the real wiring (``assistant.wiring.Components``) and the settings' default
embedder (``use``); every path is a temp dir, the bundled notes are only read.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant.settings import ROOT, Settings  # noqa: E402
from assistant.wiring import Components  # noqa: E402
from index.chunker import parse_structure, split_lines  # noqa: E402
from index.models import SyncReport  # noqa: E402

BUNDLED = ROOT / "notes" / "ops-notes.md"


class TimedEmbedder:
    """Wraps the real embedder to measure model time apart from the rest of the sync."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.name: str = inner.name
        self.dim: int = inner.dim
        self.seconds = 0.0
        self.count = 0

    def embed_passages(self, texts: list[str]) -> Any:
        t0 = time.perf_counter()
        out = self.inner.embed_passages(texts)
        self.seconds += time.perf_counter() - t0
        self.count += len(texts)
        return out

    def embed_query(self, text: str) -> Any:
        return self.inner.embed_query(text)


class BenchComponents(Components):
    @cached_property
    def embedder(self) -> TimedEmbedder:  # type: ignore[override]
        from index.embedders import make_embedder

        return TimedEmbedder(make_embedder(self.settings.embedder))


@dataclass
class Row:
    corpus: str
    files: int
    chunks: int
    embedded: int
    build_s: float
    embed_s: float
    noop_s: float
    edit_s: float = float("nan")

    @property
    def per_s(self) -> str:
        return f"{self.embedded / self.embed_s:.1f}" if self.embed_s > 0 else "-"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def progress(done: int, total: int) -> None:
    if done == total or done % 512 == 0:
        log(f"  embedded {done}/{total}")


def timed_sync(comp: BenchComponents) -> tuple[SyncReport, float, float]:
    emb = comp.embedder
    before = emb.seconds
    t0 = time.perf_counter()
    report = comp.syncer.sync(comp.settings.notes_dir, progress)
    return report, time.perf_counter() - t0, emb.seconds - before


def check(report: SyncReport) -> None:
    bad = [f for f in report.files if f.status.value in ("failed", "skipped")]
    if bad:
        raise SystemExit(f"bench: unexpected file status: {bad[:3]}")


def components(work: Path, name: str) -> BenchComponents:
    base = Settings()
    settings = replace(
        base,
        notes_dir=work / name / "notes",
        index_dir=work / name / "index",
        models_dir=work / "models",
        chroma_url="",
    )
    settings.notes_dir.mkdir(parents=True)
    return BenchComponents(settings)


def top_level_sections(text: str) -> list[str]:
    lines = split_lines(text)
    starts = sorted(i for i, (level, _) in parse_structure(lines).headings.items() if level == 1)
    bounds = [*starts, len(lines)]
    return ["\n".join(lines[a:b]).rstrip("\n") + "\n" for a, b in zip(bounds, bounds[1:], strict=False)]


def write_synthetic(notes_dir: Path, n: int, per_note: int) -> None:
    text = BUNDLED.read_text("utf-8")
    sections = top_level_sections(text)
    stripped = [ln.strip() for ln in split_lines(text)]
    prose = [ln for ln in stripped if len(ln) > 12 and not ln.startswith(("#", "```", "~~~", "-", "=", ">"))]
    rng = random.Random(20240601)
    for i in range(n):
        picked = rng.sample(sections, k=min(per_note, len(sections)))
        titles = "、".join(s.split("\n", 1)[0].lstrip("# ") for s in picked)
        # A unique, chunk-sized marker section (about 100-250 tokens), so model time is realistic.
        body = "\n".join(rng.sample(prose, k=6))
        marker = f"# 合成笔记 {i:04d}\n\n唯一标记 synthetic-note-{i:04d}，包含：{titles}。\n{body}\n"
        path = notes_dir / f"batch-{i // 100:02d}" / f"note-{i:04d}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([marker, *picked]), "utf-8")


def one_edit(comp: BenchComponents, path: Path) -> float:
    """Append one line to one note and time the re-sync (one new chunk to embed)."""
    with path.open("a", encoding="utf-8") as fh:
        fh.write("\n追加的一行：benchmark edit marker。\n")
    report, seconds, _ = timed_sync(comp)
    assert report.embedded >= 1 and report.changed, "an edit re-embedded nothing"
    return seconds


def bench_bundled(work: Path) -> Row:
    comp = components(work, "bundled")
    shutil.copyfile(BUNDLED, comp.settings.notes_dir / BUNDLED.name)
    log(f"bundled: embedder {comp.settings.embedder!r}, {comp.settings.chunk_tokens} tokens per chunk")
    report, build_s, embed_s = timed_sync(comp)
    check(report)
    noop, noop_s, _ = timed_sync(comp)
    assert noop.embedded == 0 and not noop.changed, "no-op re-sync did work"
    edit_s = one_edit(comp, comp.settings.notes_dir / BUNDLED.name)
    files, chunks = len(report.files), report.total_chunks
    return Row("bundled ops-notes.md", files, chunks, report.embedded, build_s, embed_s, noop_s, edit_s)


def bench_synthetic(work: Path, n: int, per_note: int) -> list[Row]:
    comp = components(work, "synthetic")
    notes = comp.settings.notes_dir
    shutil.copyfile(BUNDLED, notes / BUNDLED.name)
    log("synthetic: seeding the index with the bundled note")
    seed, seed_s, seed_embed_s = timed_sync(comp)
    check(seed)
    log(f"synthetic: writing {n} notes ({per_note} sections each)")
    write_synthetic(notes, n, per_note)
    size_mb = sum(p.stat().st_size for p in notes.rglob("*.md")) / 1e6
    log(f"synthetic: {n + 1} files, {size_mb:.1f} MB; syncing")
    report, build_s, embed_s = timed_sync(comp)
    check(report)
    log("synthetic: no-op re-sync")
    noop, noop_s, _ = timed_sync(comp)
    assert noop.embedded == 0 and not noop.changed, "no-op re-sync did work"
    log("synthetic: one-line edit of one note, re-sync")
    edit_s = one_edit(comp, notes / "batch-00" / "note-0000.md")
    files, chunks = len(report.files), report.total_chunks
    return [
        Row("synthetic: seed (bundled)", 1, seed.total_chunks, seed.embedded, seed_s, seed_embed_s, float("nan")),
        Row(f"synthetic: +{n} notes", files, chunks, report.embedded, build_s, embed_s, noop_s, edit_s),
    ]


def table(rows: list[Row]) -> str:
    head = ("corpus", "files", "chunks", "embedded", "build s", "embed s", "emb/s", "no-op re-sync s", "1-edit re-sync s")
    body = [
        (r.corpus, str(r.files), str(r.chunks), str(r.embedded), f"{r.build_s:.1f}", f"{r.embed_s:.1f}", r.per_s,
         "-" if r.noop_s != r.noop_s else f"{r.noop_s:.2f}", "-" if r.edit_s != r.edit_s else f"{r.edit_s:.2f}")
        for r in rows
    ]  # fmt: skip
    widths = [max(len(x) for x in col) for col in zip(head, *body, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    sep = "  ".join("-" * w for w in widths)
    return "\n".join([fmt.format(*head), sep, *(fmt.format(*b) for b in body)])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tests.bench.bench_index", description=__doc__.split("\n")[0])
    p.add_argument("--notes", type=int, default=2000, help="synthetic notes to generate (default 2000)")
    p.add_argument("--sections", type=int, default=2, help="bundled sections per synthetic note (default 2)")
    p.add_argument("--skip-synthetic", action="store_true")
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-index-") as tmp:
        work = Path(tmp)
        rows = [bench_bundled(work)]
        if not args.skip_synthetic:
            rows += bench_synthetic(work, args.notes, args.sections)
    print(f"index benchmark (embedder {Settings().embedder!r}, {os.cpu_count()} CPUs)")
    print(table(rows))
    print("emb/s: chunks embedded per second of model time; build s: the whole sync (walk, hash, chunk,")
    print("embed, store, lexical index); 1-edit: one line appended to one note, then a sync.")
    print("Synthetic notes reuse the seeded sections' vectors by content hash.")
    print(f"total {time.perf_counter() - t0:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
