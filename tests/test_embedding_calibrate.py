"""The per-machine embedder layout: measured once, cached beside the model, re-measured on another machine;
and the machine stamp that every benchmark result carries."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from rag.embedding import calibrate as cal
from rag.embedding.calibrate import Layout
from rag.embedding.machine import FLAGS, cpu_info, cpu_line, machine_stamp, stamp_lines
from rag.settings import Settings


def _fake_run(fast: Layout, calls: list[Layout]):
    def run(layout: Layout, texts: list[str]) -> None:
        calls.append(layout)
        time.sleep(0.0005 if layout == fast else 0.004)
    return run


def test_calibration_picks_the_fastest_and_caches_it(tmp_path: Path) -> None:
    model = tmp_path / "model-int8.onnx"
    model.write_bytes(b"not read")
    fast = cal.candidates(2)[1]
    calls: list[Layout] = []
    assert cal.calibrate(model, _fake_run(fast, calls)) == fast
    assert set(calls) == {*cal.candidates(2), Layout(1, 2, 0, query_threads=2)}
    data = json.loads(cal.cache_path(model).read_text())
    assert data["machine"]["cpu"] == cpu_info()
    assert data["layout"] == {"workers": 1, "threads": 2, "max_tokens": 0, "query_threads": 1}
    assert set(data["query_ms"]) == {"1", "2"}
    calls.clear()
    assert cal.calibrate(model, _fake_run(fast, calls)) == fast and calls == []  # read back, not measured
    assert not list(tmp_path.glob("*.part"))


def test_query_threads_are_chosen_by_one_query_latency(tmp_path: Path) -> None:
    """Passages and queries are measured apart: one text alone may want every core even where
    passages run best one per core."""
    model = tmp_path / "model-int8.onnx"

    def run(layout: Layout, texts: list[str]) -> None:
        slow = layout.threads > 1 if len(texts) > 1 else layout.query_threads == 1
        time.sleep(0.004 if slow else 0.0005)

    assert cal.calibrate(model, run) == Layout(2, 1, 0, query_threads=2)
    assert cal.query_threads(1) == [1] and cal.query_threads(8) == [1, 8]


@pytest.mark.parametrize("damage", ["other machine", "not json", "bad layout"])
def test_a_stale_or_damaged_calibration_is_measured_again(tmp_path: Path, damage: str) -> None:
    model = tmp_path / "model-int8.onnx"
    fast = cal.candidates(2)[0]
    cal.calibrate(model, _fake_run(fast, []))
    path = cal.cache_path(model)
    data = json.loads(path.read_text())
    if damage == "other machine":
        data["machine"]["cpu"] = {**data["machine"]["cpu"], "model": "Some Other CPU", "cores": 64}
        path.write_text(json.dumps(data))
    elif damage == "not json":
        path.write_text('{"machine": ')
    else:
        data["layout"] = {"workers": "many"}
        path.write_text(json.dumps(data))
    assert cal.cached_layout(model) is None
    calls: list[Layout] = []
    assert cal.calibrate(model, _fake_run(fast, calls)) == fast and calls
    assert cal.cached_layout(model) == fast


def test_candidates_on_one_core_do_not_repeat() -> None:
    assert cal.candidates(1) == [Layout(1, 1, 0)]
    assert all(lay.max_tokens == 0 for lay in cal.candidates(4))  # vectors never depend on batch companions
    assert all(lay.workers * lay.threads <= 4 for lay in cal.candidates(4))


def test_machine_stamp_names_cpu_flags_cores_load_and_versions() -> None:
    info = cpu_info()
    assert info["model"] and info["cores"] >= 1 and set(info["flags"]) <= set(FLAGS)
    assert f"{info['cores']} cores" in cpu_line()
    stamp = machine_stamp()
    assert len(stamp["load_avg"]) == 3 and stamp["libraries"]["numpy"] == np.__version__
    before, after = stamp_lines(stamp, machine_stamp())
    assert before.startswith(f"CPU: {info['model']}") and "after" in before and "numpy" in after


@pytest.mark.slow
def test_layouts_give_the_same_vectors(sample_settings: Settings) -> None:
    """Every calibrated layout runs one text at a time, so a text's vector does not depend on the texts
    embedded with it, and the layouts give the same vectors."""
    from rag.embedding import load_embedder

    emb = load_embedder(sample_settings.embedding.model_copy(update={"backend": "onnx-int8"}))
    texts = ["NATO troops arrive in Poland", "a", "£ unicode – dashes ü", "word " * 400,
             "The minister said the company would report its results next week. " * 5]
    single = emb._embed_with(Layout(2, 1, 0), texts)
    alone = np.vstack([emb._embed_with(Layout(1, 1, 0), [t]) for t in texts])
    np.testing.assert_allclose(single, alone, atol=1e-5)
    np.testing.assert_allclose(emb._embed_with(Layout(1, 2, 0), texts), single, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(single, axis=1), 1.0, rtol=1e-5)
    assert emb.runtime["workers"] >= 1 and "cores" in emb.runtime["cpu"]


@pytest.mark.slow
def test_the_index_manifest_records_the_layout(sample_index: Path) -> None:
    from rag.manifest import Manifest

    runtime = Manifest.read(sample_index).extra["embedding_runtime"]
    assert set(runtime) == {"workers", "threads", "max_tokens", "query_threads", "cpu"}
    assert runtime["cpu"].startswith(cpu_info()["model"])
