"""The composition root: builds every collaborator from one ``Settings``.

Entry points (CLI, web app, Slack bot) call these builders; nothing else
constructs stores, clients or models. Heavy libraries are imported lazily.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.settings import Settings

if TYPE_CHECKING:
    from assistant.chain import AnswerChain
    from assistant.pinned import PinnedEvidence
    from assistant.retrieval import HybridRetriever
    from assistant.search import Searcher
    from assistant.types import LLM
    from index.chunker import Chunker
    from index.embedders import Embedder
    from index.store import NoteStore
    from index.sync import Syncer
    from index.tokens import TokenCounter


class LockBusy(RuntimeError):
    pass


class Components:
    """Lazily-built collaborators, shared by one entry point."""

    def __init__(self, settings: Settings, *, show_secrets: bool = False) -> None:
        self.settings = settings
        self.show_secrets = show_secrets  # only the local CLI sets this, by explicit option

    @cached_property
    def tokens(self) -> TokenCounter:
        from index.tokens import TokenCounter

        return TokenCounter(self.settings.models_dir / "tiktoken")

    @cached_property
    def chunker(self) -> Chunker:
        from index.chunker import Chunker

        return Chunker(self.tokens, self.settings.chunk_tokens)

    @cached_property
    def embedder(self) -> Embedder:
        from index.embedders import make_embedder

        return make_embedder(self.settings.embedder)

    @cached_property
    def store(self) -> NoteStore:
        from index.chunker import CHUNKER_VERSION
        from index.store import NoteStore, make_client

        client = make_client(self.settings.index_dir, self.settings.chroma_url)
        return NoteStore(client, self.settings.collection, self.embedder, CHUNKER_VERSION)

    @cached_property
    def syncer(self) -> Syncer:
        from index.sync import Syncer

        return Syncer(self.store, self.chunker, self.settings.max_file_bytes, self.lexical_dir)

    @property
    def lexical_dir(self) -> Path:
        return self.settings.index_dir / "lexical"

    @cached_property
    def retriever(self) -> HybridRetriever:
        from assistant.corpus import CorpusCache
        from assistant.retrieval import HybridRetriever

        cache = CorpusCache(self.store, self.lexical_dir)
        return HybridRetriever(store=self.store, embedder=self.embedder, corpus=cache.get)

    @cached_property
    def searcher(self) -> Searcher:
        from assistant.search import Searcher
        from assistant.secrets import Redactor

        return Searcher(self.retriever, self.tokens, None if self.show_secrets else Redactor())

    @cached_property
    def llm(self) -> LLM | None:
        from assistant.llm.factory import make_llm

        return make_llm(self.settings)

    @cached_property
    def assistant(self) -> AnswerChain:
        return self.answer_chain()

    def answer_chain(self, pinned: PinnedEvidence | None = None) -> AnswerChain:
        from assistant.chain import AnswerChain
        from assistant.chain_config import ChainConfig
        from assistant.grounding import GroundingGate
        from assistant.guard import OutputGuard
        from assistant.linescore import LineScorer
        from assistant.prompts import Prompts
        from assistant.secrets import Redactor

        s = self.settings
        config = ChainConfig(
            context_tokens=s.context_tokens,
            max_tokens=s.answer_tokens,
            timeout_s=s.llm_timeout_s,
            question_check=s.question_check,
        )
        return AnswerChain(
            searcher=self.searcher,
            llm=self.llm,
            prompts=Prompts.load(),
            tokens=self.tokens,
            lines=LineScorer(self.embedder, self.retriever.corpus),
            gate=GroundingGate(),
            guard=OutputGuard(Redactor(), enabled=not self.show_secrets),
            config=config,
            pinned=pinned,
        )

    def pinned_evidence(self) -> PinnedEvidence:
        from assistant.pinned import PinnedEvidence
        from assistant.secrets import Redactor

        return PinnedEvidence(self.retriever.corpus, None if self.show_secrets else Redactor().redact)

    @contextmanager
    def write_lock(self, wait_s: float = 600.0) -> Iterator[None]:
        """One writer at a time across processes; readers never take it."""
        from filelock import FileLock, Timeout

        self.settings.index_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.settings.index_dir / "sync.lock"))
        try:
            lock.acquire(timeout=wait_s)
        except Timeout as exc:
            raise LockBusy(f"another sync holds {lock.lock_file}; try again later") from exc
        try:
            yield
        finally:
            lock.release()
