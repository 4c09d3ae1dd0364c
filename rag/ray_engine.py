"""Embed stage on Ray: the same index build, with the embedding spread over Ray workers.

`rag index ... --engine ray` runs `build_index` unchanged (reading, chunking, the journal that
makes a killed build resumable, the atomic swap, the manifest) and hands it a `RayEmbedder`: each
batch the indexer journals is split across Ray actors, one model load per actor. Reading and
chunking stay in the driver: on the BBC set they are ~2% of the build; embedding is the rest.
`--address` joins a running cluster (`ray start --head` on one node, `ray start --address` on the
others); without it a local Ray with `workers` CPUs is started.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from rag.embedding import backend_of, load_embedder
from rag.errors import RagError
from rag.settings import EmbeddingSettings


def _ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise RagError("The Ray engine needs the ray package.", help="Install it with: "
                       "pip install 'ray==2.60.0' (scripts/install.sh --dev does).") from exc
    return ray


class _Worker:
    """One Ray actor: loads the embedder once, then embeds the batches it is sent."""

    def __init__(self, settings: dict[str, Any]) -> None:
        from rag.embedding.backends import OnnxEmbedder
        from rag.embedding.calibrate import Layout

        embedder = load_embedder(EmbeddingSettings(**settings))
        if isinstance(embedder, OnnxEmbedder):
            # Ray reserves one CPU per actor, but the calibrated layout is for the whole machine (2 runs
            # on this 2-core box, 16 on a 16-core node): each actor running it would start cores x
            # actors threads. One text per run whatever the layout, so the vectors are the same. A copy
            # (sharing the sessions): load_embedder's cached one keeps its layout for the process.
            embedder = copy.copy(embedder)
            embedder.layout = Layout(workers=1, threads=1, max_tokens=0)
        self.embedder = embedder

    def describe(self) -> tuple[str, int, str, Any]:
        e = self.embedder
        return e.name, e.dim, backend_of(e), getattr(e, "runtime", None)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.embedder.embed(texts)


class RayEmbedder:
    """An Embedder whose `embed` splits each call across `workers` Ray actors, in order."""

    from_settings = True  # the indexer records the model's weights hash as for its own embedder

    def __init__(self, settings: EmbeddingSettings, workers: int = 2, address: str | None = None) -> None:
        ray = _ray()
        if not ray.is_initialized():
            if address:
                ray.init(address=address, log_to_driver=False)
            else:
                ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False)
        actor = ray.remote(num_cpus=1)(_Worker)
        self._ray = ray
        self._actors = [actor.remote(settings.model_dump()) for _ in range(workers)]
        _, self.dim, self.backend, runtime = ray.get(self._actors[0].describe.remote())
        # the manifest's embedding_runtime (speed only, not the vectors) says the layout ran per actor
        self.runtime = {**runtime, "ray_actors": workers} if runtime else None
        self.name = settings.model  # the manifest records the model as asked for, as the local path does

    def embed(self, batch: Sequence[str]) -> np.ndarray:
        texts = list(batch)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        # Dealt round-robin, not cut into halves: the indexer sorts a batch by length, so halves would
        # give one actor all the long texts and leave the other waiting at every batch.
        n = len(self._actors)
        parts = [list(range(i, len(texts), n)) for i in range(n)]
        used = [(a, p) for a, p in zip(self._actors, parts, strict=True) if p]
        results = self._ray.get([a.embed.remote([texts[i] for i in p]) for a, p in used])
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for (_, p), vecs in zip(used, results, strict=True):
            out[p] = vecs
        return out

    def close(self) -> None:
        for a in self._actors:
            self._ray.kill(a)
        self._actors = []
