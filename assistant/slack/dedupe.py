"""Each Slack event is handled once.

Slack retries an event (same ``event_id``, header ``X-Slack-Retry-Num``) when it
got no 200 within 3 seconds, and may deliver the same event twice. The bot keys
every request on its ``event_id`` (slash commands: ``trigger_id``) and remembers
it for a while: in a bounded in-memory map, or in SQLite to survive restarts.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Protocol

DEFAULT_TTL_S = 3600.0  # Slack retries for minutes, not hours


class Dedupe(Protocol):
    def first_time(self, key: str) -> bool:
        """True the first time ``key`` is seen (within the TTL), False for every repeat."""
        ...


def event_key(body: Mapping[str, Any]) -> str | None:
    """What identifies one delivery across retries; None for requests that are never retried."""
    for name in ("event_id", "trigger_id"):
        value = body.get(name)
        if isinstance(value, str) and value:
            return f"{name}:{value}"
    return None


class MemoryDedupe:
    """Bounded, thread-safe TTL memory of seen keys (oldest dropped first)."""

    def __init__(self, ttl_s: float = DEFAULT_TTL_S, max_items: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.ttl_s = ttl_s
        self.max_items = max_items
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        now = self._clock()
        with self._lock:
            while self._seen:
                oldest, at = next(iter(self._seen.items()))
                if now - at <= self.ttl_s and len(self._seen) < self.max_items:
                    break
                del self._seen[oldest]
            if key in self._seen:
                return False
            self._seen[key] = now
            return True

    def __len__(self) -> int:
        return len(self._seen)


class SqliteDedupe:
    """The same contract in a SQLite file, shared by restarts (and by processes on one host)."""

    def __init__(self, path: Path, ttl_s: float = DEFAULT_TTL_S, clock: Callable[[], float] = time.time):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=10.0, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS seen (key TEXT PRIMARY KEY, at REAL NOT NULL)")

    def first_time(self, key: str) -> bool:
        now = self._clock()
        with self._lock:
            self._db.execute("DELETE FROM seen WHERE at < ?", (now - self.ttl_s,))
            cur = self._db.execute("INSERT OR IGNORE INTO seen (key, at) VALUES (?, ?)", (key, now))
            return cur.rowcount == 1

    def close(self) -> None:
        with self._lock:
            self._db.close()


def make_dedupe(path: Path | None) -> Dedupe:
    return SqliteDedupe(path) if path is not None else MemoryDedupe()
