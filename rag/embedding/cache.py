"""A crash-safe journal of computed embeddings, keyed by sha256 of the embedded text.

The journal belongs to one embedder (model, backend, ONNX export recipe, dimension); opened for
another, it is emptied first, so a text's key never returns a vector from another embedder.

The indexer commits every few batches, so a build killed mid-way (even by SIGKILL) loses at
most the batches since the last commit; the next run embeds only what is missing. SQLite's
own journal makes each commit atomic. Vectors are raw float32 bytes, never pickled.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingJournal:
    """`get(keys)` -> {key: vector} for the keys it holds; `put(keys, vectors)` commits them."""

    def __init__(self, path: Path, model: str, backend: str, dim: int, *, recipe: int | None) -> None:
        self.path = path
        self.dim = dim
        self._con = sqlite3.connect(path)
        self._con.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
        self._con.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB NOT NULL)")
        # a text's vector depends on all of these; `recipe` is the ONNX export recipe (None: none)
        owner = f"{model}|{backend}|x{recipe}|{dim}"
        row = self._con.execute("SELECT v FROM meta WHERE k = 'owner'").fetchone()
        if row is None or row[0] != owner:
            # vectors from another model, backend or export recipe must never enter this index
            self._con.execute("DELETE FROM vec")
            self._con.execute("INSERT OR REPLACE INTO meta VALUES ('owner', ?)", (owner,))
        self._con.commit()

    def __len__(self) -> int:
        return int(self._con.execute("SELECT count(*) FROM vec").fetchone()[0])

    def get(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        wanted = list(dict.fromkeys(keys))
        out: dict[str, np.ndarray] = {}
        for start in range(0, len(wanted), 900):
            chunk = wanted[start : start + 900]
            marks = ",".join("?" * len(chunk))
            for key, blob in self._con.execute(f"SELECT key, v FROM vec WHERE key IN ({marks})", chunk):
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape == (self.dim,):
                    out[key] = vec
        return out

    def put(self, keys: Sequence[str], vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        rows = ((k, v.tobytes()) for k, v in zip(keys, vectors, strict=True))
        self._con.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)", rows)
        self._con.commit()

    def close(self, delete: bool = False) -> None:
        self._con.close()
        if delete:
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(str(self.path) + suffix).unlink(missing_ok=True)
