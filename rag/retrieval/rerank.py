"""Rerank stage (optional): a sentence-transformers cross-encoder rescored over the top candidates.

`settings.retrieval.reranker` names a local folder or an offline-cached model; nothing downloads.
No cross-encoder ships with this project, so reranking is off by default.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from rag.errors import ModelNotAvailable
from rag.models import resolve_model_path


class Reranker:
    """Scores (query, passage text) pairs; higher is more relevant."""

    def __init__(self, name: str) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        path = resolve_model_path(name)
        try:
            from sentence_transformers import CrossEncoder

            self.model = CrossEncoder(str(path), device="cpu", local_files_only=True)
        except Exception as exc:  # a folder that is not a cross-encoder, or a broken one
            raise ModelNotAvailable(
                f"Could not load the cross-encoder {name!r} from {path}: {exc}.",
                help="Set RAG_RETRIEVAL__RERANKER to a folder holding a sentence-transformers "
                     "CrossEncoder, or unset it to disable reranking.",
            ) from exc
        self.name = name
        self._lock = threading.Lock()  # torch modules are not safe to call from two UI threads at once

    def score(self, query: str, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros(0, dtype=np.float32)
        with self._lock:
            out = self.model.predict([(query, t) for t in texts], batch_size=batch_size,
                                     show_progress_bar=False, convert_to_numpy=True)
        return np.asarray(out, dtype=np.float32).reshape(len(texts), -1)[:, 0]

    def order(self, query: str, texts: Sequence[str]) -> list[tuple[int, float]]:
        """(index into texts, score), best first; ties keep the incoming order."""
        scores = self.score(query, texts)
        ranked = sorted(range(len(texts)), key=lambda i: (-float(scores[i]), i))
        return [(i, float(scores[i])) for i in ranked]


@lru_cache(maxsize=2)
def load_reranker(name: str) -> Reranker:
    """One reranker per name per process (loading takes seconds)."""
    return Reranker(name)
