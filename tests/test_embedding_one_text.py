"""The one-text graph (no attention mask, no head transposes): same vectors as the general graph."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rag.embedding import load_embedder
from rag.embedding.calibrate import Layout
from rag.embedding.one_text_graph import one_text_model, path_for
from rag.settings import Settings

TEXTS = ["NATO troops", "The minister said the company would report its annual results next week " * 5,
         "£ unicode – dashes ü", "word " * 400]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["onnx-int8", "onnx"])
def test_one_text_graph_gives_the_general_graphs_vectors(sample_settings: Settings, backend: str) -> None:
    emb = load_embedder(sample_settings.embedding.model_copy(update={"backend": backend}))
    general = emb.onnx_path  # type: ignore[attr-defined]
    assert emb.one_text_path == path_for(general) and emb.one_text_path.is_file()  # type: ignore[attr-defined]
    fast = emb.embed(TEXTS)  # one text per run: the one-text graph
    # runs of several padded texts take the general graph; one text there gives the same vector
    session = emb._session(general, 1)  # type: ignore[attr-defined]
    slow = np.vstack([emb._run(session, [e]) for e in emb._encode(TEXTS)])  # type: ignore[attr-defined]
    np.testing.assert_array_equal(fast, slow / np.linalg.norm(slow, axis=1, keepdims=True))
    padded = emb._embed_with(Layout(1, 1, 10_000), TEXTS[:3])  # type: ignore[attr-defined]
    assert (padded * fast[:3]).sum(1).min() > 0.97  # int8 quantises a padded run as one (cosine -0.014)


def test_a_graph_without_bert_attention_gets_no_one_text_variant(tmp_path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"])], "g", [x], [y])
    model_file = tmp_path / "model.onnx"
    onnx.save(helper.make_model(graph), str(model_file))
    (tmp_path / "config.json").write_text('{"num_attention_heads": 2, "hidden_size": 4}')
    assert one_text_model(model_file, tmp_path, lambda p: True) is None
    assert not path_for(model_file).exists() and not list(tmp_path.glob("*.part"))


@pytest.mark.slow
def test_a_variant_with_other_vectors_is_not_kept(sample_settings: Settings, tmp_path: Path) -> None:
    from rag.models import resolve_model_path

    emb = load_embedder(sample_settings.embedding.model_copy(update={"backend": "onnx-int8"}))
    model_file = tmp_path / "model-int8.onnx"
    model_file.symlink_to(emb.onnx_path)  # type: ignore[attr-defined]
    model_path = resolve_model_path(sample_settings.embedding.model)
    assert one_text_model(model_file, model_path, lambda p: False) is None
    assert not path_for(model_file).exists() and not list(tmp_path.glob("*.part"))
