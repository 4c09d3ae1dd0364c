"""Retrieve stage: BM25 + dense search, fusion, filters, duplicate collapse, optional reranking.

`Retriever` is imported lazily so that the indexer can use `rag.retrieval.bm25` without pulling in
the store (which itself may import this package).
"""

from __future__ import annotations

from typing import Any

__all__ = ["Retriever"]


def __getattr__(name: str) -> Any:
    if name == "Retriever":
        from rag.retrieval.retriever import Retriever

        return Retriever
    raise AttributeError(name)
