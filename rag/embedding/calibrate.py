"""How to run the ONNX embedder on this machine: measured once, cached beside the exported model.

The fastest layout depends on the CPU (cache sizes, VNNI), the cores and the onnxruntime build, so
it is measured, not fixed. On an AMD EPYC with AVX-512 VNNI (2 cores) one text per run beat padded
batches of 32 by 1.45x: a batch's activations (32 x 200 tokens x 384 floats, 4x that in the
feed-forward layer) spill out of the 1 MB L2 cache and the memory-bound ops (layer norms, GELU,
softmax) slow down 2-3x; one text also needs no padding. One text per run is also the only layout
in which a text's vector does not depend on the texts embedded with it: dynamic int8 quantises each
run's activations with one scale, so a padded batch moved vectors by up to 0.014 in cosine. All
candidates run one text at a time and give the same vectors, so the layout is not part of an index's
identity (the backend and export recipe are). Graph choices that move vectors (onnxruntime's
SkipLayerNormalization fusion: cosine down to 0.997, int8 rounding flips) are fixed in backends.py,
not calibrated, so that an index's vectors and its queries' agree on every machine.

The cache file names the machine (CPU model, flags, cores, onnxruntime version): on another
machine the file is measured again instead of trusted.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.embedding.machine import cpu_info, library_versions

log = logging.getLogger(__name__)

CALIBRATION_VERSION = 6  # bump when the candidates or the workload change
ROUNDS = 3
# Another layout must beat the first candidate by this much to replace it: on a shared CPU one noisy
# calibration (load 4 on 2 cores) picked 1 run x 2 threads, which is 20-30% slower on a quiet machine.
MARGIN = 1.10


@dataclass(frozen=True)
class Layout:
    """`workers` runs at once, each with `threads` intra-op threads, on batches of at most
    `max_tokens` padded tokens (0: one text per run); a query (one text alone) runs on `query_threads`."""

    workers: int
    threads: int
    max_tokens: int
    query_threads: int = 1

    def label(self) -> str:
        batch = "one text" if self.max_tokens == 0 else f"<= {self.max_tokens} tokens"
        runs = f"{self.workers} runs x {self.threads} threads, {batch} per run"
        return f"{runs}; queries on {self.query_threads}"


def candidates(n_cores: int) -> list[Layout]:
    """The layouts worth measuring on `n_cores` cores: one text per run only (see above; padded batches
    of up to 32 texts, the earlier fixed layout, were also 1.3-3x slower on the EPYC)."""
    n = max(1, n_cores)
    out = [Layout(n, 1, 0), Layout(1, n, 0)]
    return list(dict.fromkeys(out))  # on one core several coincide


def query_threads(n_cores: int) -> list[int]:
    """Threads worth trying for one query: one (measured faster on the AVX-512 EPYC, 1.2 vs 1.6 ms) or
    all cores (faster on an AVX2-only EPYC, 2.0 vs 3.3 ms for a 19-token question)."""
    return sorted({1, max(1, n_cores)})


QUERIES = ("who won the best actor oscar", "how much did yukos sell for at the auction",
           "what did labour propose on maternity pay", "when will the psp launch in europe")


def workload() -> list[str]:
    """Passage-like texts of 40 to ~230 tokens (speed depends on lengths, not on the words)."""
    text = ("The minister said the company would report its annual results next week after "
            "talks with unions over pay and pensions had stalled in the capital on Tuesday")
    words = text.split(" ")
    return [" ".join(words[i % len(words)] for i in range(40 + 12 * k)) for k in range(16)]


def machine_key(model_file: Path) -> dict[str, Any]:
    return {"version": CALIBRATION_VERSION, "cpu": cpu_info(), "model_file": model_file.name,
            "onnxruntime": library_versions(("onnxruntime",))["onnxruntime"]}


def cache_path(model_file: Path) -> Path:
    return model_file.with_name(model_file.stem + ".calibration.json")


def cached_layout(model_file: Path) -> Layout | None:
    """The layout measured for this model file on this machine, or None (absent, stale, unreadable)."""
    path = cache_path(model_file)
    try:
        data = json.loads(path.read_text())
        if data.get("machine") != machine_key(model_file):
            return None
        lay = data["layout"]
        return Layout(int(lay["workers"]), int(lay["threads"]), int(lay["max_tokens"]),
                      int(lay["query_threads"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def measure(run: Callable[[Layout, list[str]], object], layouts: list[Layout]) -> dict[Layout, float]:
    """Texts per second of each layout: best of ROUNDS interleaved rounds (a shared CPU is noisy;
    the best round is the one least disturbed by other work)."""
    texts = workload()
    for lay in layouts:
        run(lay, texts[:2])  # warm-up: creates sessions and thread pools
    best = dict.fromkeys(layouts, 0.0)
    for _ in range(ROUNDS):
        for lay in layouts:
            t = time.perf_counter()
            run(lay, texts)
            best[lay] = max(best[lay], len(texts) / (time.perf_counter() - t))
    return best


def query_ms(run: Callable[[Layout, list[str]], object], layouts: list[Layout], repeat: int = 25
             ) -> dict[Layout, float]:
    """Median milliseconds of one query alone under each layout (interleaved, after a warm-up)."""
    times: dict[Layout, list[float]] = {lay: [] for lay in layouts}
    for lay in layouts:
        run(lay, [QUERIES[0]])
    for i in range(repeat):
        for lay in layouts:
            t = time.perf_counter()
            run(lay, [QUERIES[i % len(QUERIES)]])
            times[lay].append((time.perf_counter() - t) * 1000)
    return {lay: float(sorted(ms)[len(ms) // 2]) for lay, ms in times.items()}


def _fastest(speeds: dict[Layout, float]) -> Layout:
    """The first candidate unless another beats it by MARGIN (`speeds`: higher is faster)."""
    first = next(iter(speeds))
    return max(speeds, key=lambda lay: speeds[lay] / (1.0 if lay == first else MARGIN))


def calibrate(model_file: Path, run: Callable[[Layout, list[str]], object]) -> Layout:
    """The cached layout for this machine, else measure the candidates (~4 s) and cache the winner."""
    found = cached_layout(model_file)
    if found is not None:
        return found
    key = machine_key(model_file)
    t0 = time.perf_counter()
    speeds = measure(run, candidates(key["cpu"]["cores"]))
    pick = _fastest(speeds)
    latency = query_ms(run, [replace(pick, query_threads=n) for n in query_threads(key["cpu"]["cores"])])
    pick = _fastest({lay: 1.0 / ms for lay, ms in latency.items()})
    log.info("embedder calibration (%.1f s): %s", time.perf_counter() - t0, pick.label())
    data = {"machine": key, "layout": asdict(pick),
            "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "load_avg": round(os.getloadavg()[0], 2),
            "texts_per_s": {lay.label(): round(v, 1) for lay, v in speeds.items()},
            "query_ms": {lay.query_threads: round(v, 2) for lay, v in latency.items()}}
    _write_atomic(cache_path(model_file), json.dumps(data, indent=2) + "\n")
    return pick


def _write_atomic(path: Path, text: str) -> None:
    tmp: Path | None = None
    try:
        fd, name = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
        tmp = Path(name)
        with os.fdopen(fd, "w") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except OSError as exc:  # a read-only cache still works: the next start measures again
        log.warning("could not cache the embedder calibration at %s (%s)", path, exc)
        if tmp is not None:
            tmp.unlink(missing_ok=True)
