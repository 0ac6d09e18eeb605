"""Answer latency benchmark (``make bench-answer``): a benchmark, not a test.

Prints time to first token and total time (p50/p95) per answer with the
configured backend (default: the local model), after warming the system
prompt's KV cache as the web app does at start-up. Uses the dev questions when
``../shared/eval/dev.jsonl`` exists, else a built-in list.
"""

from __future__ import annotations

import json
import statistics
import sys
import time

from assistant.settings import ROOT, load_settings
from assistant.types import Turn
from assistant.wiring import Components

DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
BUILTIN = ["kubectl 怎么看 pod 的详细信息", "how do I install helm 3?", "curl 怎么设置超时", "what does MinJobAge mean in slurm?"]


def main(limit: int) -> None:
    if DEV.exists():
        rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
        qs = [(r["question"], [Turn(t["role"], t["content"]) for t in r.get("history", [])]) for r in rows]
    else:
        qs = [(q, []) for q in BUILTIN]
    qs = qs[:limit]
    comp = Components(load_settings())
    chain = comp.assistant
    t = time.perf_counter()
    chain.warm()
    check = "on" if chain.config.question_check else "off (NOTES_QUESTION_CHECK=0)"
    print(f"backend {chain.backend}; question check {check}; warm-up (models, system prompt) {time.perf_counter() - t:.1f}s")
    ttft, total, fallbacks = [], [], 0
    for question, history in qs:
        t0 = time.perf_counter()
        first = None
        for ev in chain.stream(question, history):
            if ev.kind == "token" and first is None:
                first = time.perf_counter() - t0
            if ev.kind == "done" and ev.answer is not None:
                fallbacks += ev.answer.backend != chain.backend
        total.append(time.perf_counter() - t0)
        ttft.append(first if first is not None else total[-1])
        print(f"  ttft {ttft[-1]:5.2f}s  total {total[-1]:5.2f}s  {question[:60]}", flush=True)

    def p95(xs: list[float]) -> float:
        return sorted(xs)[max(0, round(0.95 * (len(xs) - 1)))]

    print(
        f"{len(qs)} answers: TTFT p50 {statistics.median(ttft):.2f}s p95 {p95(ttft):.2f}s | total p50 "
        f"{statistics.median(total):.2f}s p95 {p95(total):.2f}s | fallbacks {fallbacks}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 40)
