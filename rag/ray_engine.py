"""The index build on Ray: files read and chunked by Ray tasks, passages embedded by Ray actors.

`rag index ... --engine ray` runs `build_index` unchanged (listing, de-duplication and the problem
report, the journal that makes a killed build resumable, the atomic swap, the manifest) and hands it
a `RayEmbedder`: its `read_and_chunk` reads and chunks the listed files on Ray tasks (the driver sends
paths and gets each file's articles and passages back, in order), and each batch the indexer journals
is dealt across Ray actors, one model load per actor. The driver still holds every passage's text
(it writes SQLite and BM25 from them). `--address` joins a running cluster (`ray start --head` on one
node, `ray start --address` on the others); without it a local Ray with `workers` CPUs is started.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rag.embedding import backend_of, load_embedder
from rag.errors import RagError
from rag.settings import ChunkSettings, EmbeddingSettings

if TYPE_CHECKING:
    from rag.indexer import Chunks
    from rag.loaders import LoadResult

READ_GROUP = 50  # files per read task: one task per file would pay Ray's per-task cost 2,000 times


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


def _read_files(files: list[tuple[str, str]], chunking: dict[str, Any],
                tokenizer_model: str) -> list[tuple[LoadResult, Chunks]]:
    """A Ray task: each file's LoadResult, and its articles' passages with their embedding texts keyed
    by content hash (the driver keeps or drops articles; a kept one finds its passages by its hash)."""
    from rag.chunking import chunk_article, embedding_text
    from rag.indexer import content_hash
    from rag.loaders import load_file

    cs = ChunkSettings(**chunking)
    out: list[tuple[LoadResult, Chunks]] = []
    for file, root in files:
        result = load_file(Path(file), Path(root))
        out.append((result, {content_hash(a): [(p, embedding_text(p, cs.header_tokens, tokenizer_model))
                                               for p in chunk_article(a, cs, tokenizer_model)]
                             for a in result.articles}))
    return out


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

    def read_and_chunk(self, todo: list[tuple[Path, Path]], chunking: ChunkSettings,
                       tokenizer_model: str) -> Iterator[tuple[LoadResult, Chunks]]:
        """Each listed file read and its articles chunked by Ray tasks, yielded in the listed order
        (build_index's `read_and_chunk`: the driver sends paths and gets articles and passages back).

        The tasks reserve no CPU: the embedding actors hold the reserved ones but sit idle until the
        files are read, and a task asking for a CPU would wait for them forever. As many groups as
        actors are in flight at once: as many tasks as reserved CPUs, and a bounded backlog of results.
        """
        task = self._ray.remote(num_cpus=0, scheduling_strategy="SPREAD")(_read_files)
        settings = chunking.model_dump()
        pending: deque[Any] = deque()
        for start in range(0, len(todo), READ_GROUP):
            group = [(str(f), str(r)) for f, r in todo[start:start + READ_GROUP]]
            pending.append(task.remote(group, settings, tokenizer_model))
            if len(pending) >= len(self._actors):
                yield from self._ray.get(pending.popleft())
        while pending:
            yield from self._ray.get(pending.popleft())

    def close(self) -> None:
        for a in self._actors:
            self._ray.kill(a)
        self._actors = []
