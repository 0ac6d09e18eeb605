"""Chat-model backends behind the ``LLM`` Protocol (see ``assistant.types``).

Heavy libraries are imported lazily, each by one module only: ``llama_cpp`` by
``assistant.llm.local``, ``langchain_openai`` by ``assistant.llm.openai_compat``.
Build one with ``assistant.llm.factory.make_llm(settings)``.
"""

from __future__ import annotations

from assistant.llm.factory import BACKENDS, default_model_path, make_llm

__all__ = ["BACKENDS", "default_model_path", "make_llm"]
