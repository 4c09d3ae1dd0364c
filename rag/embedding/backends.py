"""The real embedders: plain sentence-transformers on torch, and the same model run by onnxruntime."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedding.calibrate import Layout, calibrate
from rag.embedding.machine import cpu_line
from rag.embedding.one_text_graph import one_text_model


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def max_seq_length(model_path: Path, default: int = 256) -> int:
    cfg = model_path / "sentence_bert_config.json"
    if cfg.is_file():
        return int(json.loads(cfg.read_text()).get("max_seq_length", default))
    return default


class TorchEmbedder:
    """sentence-transformers' own encode() on CPU, fp32: the reference the fast paths are checked against."""

    backend = "torch"

    def __init__(self, name: str, model_path: Path, batch_size: int = 32) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = name
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(model_path), device="cpu")
        # renamed in sentence-transformers 6; the old name still works but warns
        getter = getattr(self.model, "get_embedding_dimension", None)
        getter = getter or self.model.get_sentence_embedding_dimension
        dim = getter()
        if dim is None:
            raise ValueError(f"Model {name!r} does not report its embedding dimension.")
        self.dim = int(dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vecs = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return _normalise(vecs)


class OnnxEmbedder:
    """An exported graph (mean pooling and normalisation included) run by onnxruntime.

    Texts are tokenised once, sorted by token length and cut into runs by `layout`
    (rag.embedding.calibrate: measured per machine). `layout=None` measures it now, or reads it
    from the cache beside the model file.
    """

    def __init__(
        self, name: str, model_path: Path, onnx_path: Path, backend: str, batch_size: int = 32,
        layout: Layout | None = None,
    ) -> None:
        from tokenizers import Tokenizer

        self.name = name
        self.backend = backend
        self.batch_size = batch_size
        self.onnx_path = onnx_path
        self.tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_seq_length(model_path))
        self.tokenizer.no_padding()
        self._sessions: dict[tuple[Path, int, bool], Any] = {}
        self._pools: dict[int, ThreadPoolExecutor] = {}
        self._lock = threading.Lock()
        session = self._session(onnx_path, 1)
        self.inputs = {i.name for i in session.get_inputs()}
        width = session.get_outputs()[0].shape[1]
        self.dim = int(width or self._run(session, self._encode(["probe"])).shape[1])
        # Every run holds one text (see rag.embedding.calibrate): the graph without mask and head
        # transposes gives the same vectors 1.05-1.06x faster (one core, EPYC); padded runs keep the
        # general graph.
        self.one_text_path = one_text_model(onnx_path, model_path, self._same_vectors) or onnx_path
        self.layout = layout or calibrate(onnx_path, self._embed_with)

    @property
    def runtime(self) -> dict[str, Any]:
        """How this machine runs it (recorded in index manifests; it does not change the vectors)."""
        return {**asdict(self.layout), "cpu": cpu_line()}

    def _same_vectors(self, candidate: Path) -> bool:
        """Whether `candidate` (a one-text graph) embeds probe texts exactly as the general graph."""
        probes = ["probe", "The minister said the company would report its annual results " * 6,
                  "£ unicode – dashes ü, 12.5% up on 2004"]
        general, other = self._session(self.onnx_path, 1), self._session(candidate, 1)
        try:
            return all(np.array_equal(self._run(general, [e]), self._run(other, [e]))
                       for e in self._encode(probes))
        finally:
            with self._lock:
                self._sessions.pop((candidate, 1, False), None)

    def _session(self, path: Path, threads: int, spin: bool = False) -> Any:
        import onnxruntime as ort

        with self._lock:
            if (path, threads, spin) not in self._sessions:
                opts = ort.SessionOptions()
                opts.intra_op_num_threads = threads
                opts.inter_op_num_threads = 1
                opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
                # No busy-waiting between ops when embedding passages: on a shared CPU (5 other jobs on
                # 2 cores) spinning threads steal the time they wait for; 11.2 vs 7.2 passages/s without
                # it. A query on several threads spins: its ops last microseconds, and waking sleeping
                # threads for each cost 2.8 vs 2.0 ms (AVX2 EPYC, 2 threads, 19 tokens).
                opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
                # Residual Add + LayerNormalization stay two ops: onnxruntime's fused SkipLayerNormalization
                # kernel was the slower one on the EPYC (one text per run, one core: 50 vs 57 texts/s).
                # Fixed, not calibrated: it moves int8 vectors (cosine down to 0.997), and an index's
                # vectors and its queries' must agree on every machine.
                self._sessions[path, threads, spin] = ort.InferenceSession(
                    str(path), opts, providers=["CPUExecutionProvider"],
                    disabled_optimizers=["SkipLayerNormFusion"])
            return self._sessions[path, threads, spin]

    def _pool(self, workers: int) -> ThreadPoolExecutor:
        with self._lock:
            if workers not in self._pools:
                self._pools[workers] = ThreadPoolExecutor(workers, thread_name_prefix="onnx-embed")
            return self._pools[workers]

    def _encode(self, texts: Sequence[str]) -> list[Any]:
        # one text (a query): encode() skips the tokenizer's thread pool, ~0.1 ms on a busy machine
        if len(texts) == 1:
            return [self.tokenizer.encode(texts[0])]
        return list(self.tokenizer.encode_batch(list(texts)))

    def _run(self, session: Any, encs: list[Any]) -> np.ndarray:
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        types = np.zeros_like(ids)
        for i, e in enumerate(encs):
            n = len(e.ids)
            ids[i, :n] = e.ids
            mask[i, :n] = 1
            types[i, :n] = e.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        out = session.run(None, {k: v for k, v in feeds.items() if k in self.inputs})[0]
        return np.asarray(out, dtype=np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed_with(self.layout, texts)

    def _embed_with(self, layout: Layout, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encs = self._encode(texts)
        if len(encs) == 1:  # a query: its threads are calibrated apart from the passages' layout
            threads = layout.query_threads
            out[:] = self._run(self._session(self.one_text_path, threads, spin=threads > 1), encs)
            return _normalise(out)
        order = sorted(range(len(encs)), key=lambda i: len(encs[i].ids))
        groups = runs(order, [len(e.ids) for e in encs], layout.max_tokens, self.batch_size)
        one, general = self._session(self.one_text_path, layout.threads), None
        if any(len(g) > 1 for g in groups):
            general = self._session(self.onnx_path, layout.threads)
        work = lambda g: self._run(one if len(g) == 1 else general, [encs[i] for i in g])  # noqa: E731
        results: Iterable[np.ndarray]
        if layout.workers == 1 or len(groups) == 1:
            results = map(work, groups)
        else:  # InferenceSession.run is thread-safe and releases the GIL
            results = self._pool(layout.workers).map(work, groups)
        for idx, vecs in zip(groups, results, strict=True):
            out[idx] = vecs
        return _normalise(out)


def runs(order: list[int], lengths: list[int], max_tokens: int, max_texts: int) -> list[list[int]]:
    """Cut `order` (indices sorted by length) into runs of at most `max_texts` texts whose padded size
    (texts x longest) stays within `max_tokens`; 0 means one text per run.

    >>> runs([0, 1, 2, 3], [10, 10, 20, 40], 40, 32)
    [[0, 1], [2], [3]]
    """
    groups: list[list[int]] = []
    for i in order:
        g = groups[-1] if groups else None
        if g is not None and len(g) < max_texts and (len(g) + 1) * lengths[i] <= max_tokens:
            g.append(i)
        else:
            groups.append([i])
    return groups
