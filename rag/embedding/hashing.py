"""A deterministic fake embedder for tests: hashed word and word-pair features, L2-normalised.

Texts that share words get a positive cosine, so retrieval tests behave like a (weak) real
model while staying instant and identical on every machine.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)


class HashEmbedder:
    """`embed(["a b"])` -> one float32 row of length `dim` with unit norm."""

    backend = "hash"

    def __init__(self, dim: int = 64) -> None:
        if dim < 8:
            raise ValueError("HashEmbedder needs dim >= 8 so that unrelated words rarely collide.")
        self.dim = dim
        self.name = f"hash-{dim}"

    def _features(self, text: str) -> list[str]:
        words = _WORD.findall(text.lower())
        if not words:
            return ["<empty>"]  # still a unit vector: callers rely on normalised rows
        return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for feature in self._features(text):
                # crc32, not hash(): Python's str hash changes per process (PYTHONHASHSEED)
                h = zlib.crc32(feature.encode("utf-8"))
                out[i, h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
            norm = float(np.linalg.norm(out[i]))
            if norm == 0.0:  # features cancelled out exactly; any fixed unit vector will do
                out[i, zlib.crc32(text.encode("utf-8")) % self.dim] = 1.0
            else:
                out[i] /= norm
        return out
