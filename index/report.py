"""Human-readable coverage report for one sync."""

from __future__ import annotations

from index.models import FileStatus, SyncReport

_MARK = {
    FileStatus.INDEXED: "indexed",
    FileStatus.UNCHANGED: "unchanged",
    FileStatus.SKIPPED: "skipped",
    FileStatus.FAILED: "FAILED",
    FileStatus.REMOVED: "removed",
}


def format_report(report: SyncReport) -> str:
    lines = []
    if report.rebuilt_reason:
        lines.append(f"note: {report.rebuilt_reason}")
    width = max((len(f.source) for f in report.files), default=10)
    for f in report.files:
        extra = f" ({f.chunks} chunks)" if f.status in (FileStatus.INDEXED, FileStatus.UNCHANGED) else ""
        reason = f": {f.reason}" if f.reason else ""
        lines.append(f"  {f.source:<{width}}  {_MARK[f.status]}{extra}{reason}")
    counts = {s: sum(1 for f in report.files if f.status == s) for s in FileStatus}
    lines.append(
        "files: "
        + ", ".join(f"{n} {_MARK[s].lower()}" for s, n in counts.items() if n)
        + f" | chunks: {report.added} added, {report.updated} updated, {report.removed} removed,"
        + f" {report.total_chunks} total | embeddings computed: {report.embedded}"
        + f" | {report.seconds:.1f}s"
    )
    return "\n".join(lines)
