"""Where each passage's vector comes from during a build: the previous index (unchanged text), the
journal of a killed run, or the embedder. New vectors go to the journal in batches, so a kill loses
at most one batch of work.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from tqdm import tqdm

from rag.embedding import Embedder, backend_of, export_recipe, load_embedder
from rag.embedding.cache import EmbeddingJournal
from rag.errors import RagError
from rag.settings import Settings
from rag.store import Store

JOURNAL_EVERY = 256  # passages per journal commit: at most ~10 s of work lost to a kill


def journal_path(index_dir: Path) -> Path:
    return index_dir.with_name(f".{index_dir.name}.journal.sqlite")


def passage_vectors(
    keys: list[str], texts: dict[str, str], reuse: dict[str, int], old: Store | None,
    embedder: Embedder | None, settings: Settings, model_id: str, backend: str, index_dir: Path,
    progress: bool,
) -> tuple[np.ndarray, int, int, Embedder | None]:
    """One vector per key: from the old index, the journal of a killed run, or the embedder."""
    found: dict[str, np.ndarray] = {}
    if old is not None and reuse:
        wanted = sorted(set(keys) & set(reuse))
        for key, vec in zip(wanted, old.vectors([reuse[k] for k in wanted]), strict=True):
            found[key] = vec
    missing = [k for k in dict.fromkeys(keys) if k not in found]
    emb = embedder
    resumed = embedded = 0
    if missing:
        emb = emb or load_embedder(settings.embedding)
        actual = backend_of(emb)
        if found and old is not None and actual != old.manifest.backend:
            # e.g. `auto` fell back to torch on one run and not the other: never mix the two
            raise RagError(f"The index at {index_dir} holds {old.manifest.backend} vectors, but the embedder "
                           f"loaded now is {actual}.", help=f"Rebuild it with: rag index PATH --index "
                           f"{index_dir} --rebuild (or set --backend {old.manifest.backend}).")
        journal = EmbeddingJournal(journal_path(index_dir), model_id, actual, emb.dim,
                                   recipe=export_recipe(actual))
        try:
            from_journal = journal.get(missing)
            found.update(from_journal)
            resumed = len(from_journal)
            todo = sorted((k for k in missing if k not in found), key=lambda k: len(texts[k]))
            bar = tqdm(total=len(todo), desc="embed", unit="passage", disable=not progress, smoothing=0.1)
            for start in range(0, len(todo), JOURNAL_EVERY):
                batch = todo[start : start + JOURNAL_EVERY]
                vecs = emb.embed([texts[k] for k in batch])
                journal.put(batch, vecs)
                found.update(zip(batch, vecs, strict=True))
                embedded += len(batch)
                bar.update(len(batch))
            bar.close()
        finally:
            journal.close()
    dim = emb.dim if emb is not None else (old.manifest.dim if old is not None else 0)
    vectors = np.stack([found[k] for k in keys]) if keys else np.zeros((0, dim), dtype=np.float32)
    return vectors.astype(np.float32), embedded, resumed, emb
