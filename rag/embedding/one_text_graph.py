"""The exported BERT graph specialised to one unpadded text per run: no attention mask, no transposes.

The embedder runs one text at a time (rag.embedding.calibrate), so every run has batch 1 and no
padding. Two parts of the general graph are then wasted work:
  - the attention mask: its (1, 1, seq, seq) bias is all zeros, yet it is built and added to the
    scores of every layer (x + 0.0 == x, so leaving it out changes no bit);
  - the head transposes: Q, K and V are copied from (1, seq, heads, dim) to (1, heads, seq, dim)
    before the score products. onnxruntime's FusedMatMul reads the heads in place from
    (seq, heads, dim) with transBatchA / transBatchB, so three of the four copies go.
On the AMD EPYC (one core, BBC passages of ~175 tokens, interleaved rounds) leaving out the mask ran
1.02-1.05x, the transposes a further 1.03x; together 1.05x the general int8 graph (17.4 -> 16.6 ms
per text in the profile; 1.06x through OnnxEmbedder.embed) with identical vectors (max abs difference
0.0); the file is kept only if it embeds probe texts exactly as the general graph on the machine
that writes it (otherwise the embedder keeps the general graph).

The rewrite works on the exported graph (fp32 or int8: the attention ops are the same), before
onnxruntime's own fusions, so the file stays portable; the runtime still fuses the rest at load.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rag.embedding.onnx_export import atomic_target

log = logging.getLogger(__name__)


def path_for(model_file: Path) -> Path:
    return model_file.with_name(model_file.stem + "-one-text.onnx")


def one_text_model(model_file: Path, model_path: Path, same: Callable[[Path], bool]) -> Path | None:
    """The cached one-text variant of `model_file`, written beside it on first use; None where the
    graph is not the BERT attention this rewrite knows, or where `same(candidate)` finds that the
    candidate's vectors differ from the general graph's (an index's vectors and its queries' must
    not depend on which graph embedded them)."""
    out = path_for(model_file)
    if out.is_file():
        return out
    import onnx

    model = onnx.load(str(model_file))
    try:
        cfg = json.loads((model_path / "config.json").read_text())
        rewrite(model.graph, int(cfg["num_attention_heads"]), int(cfg["hidden_size"]))
    except (OSError, ValueError, KeyError) as exc:
        log.info("no one-text graph for %s: %s", model_file.name, exc)
        return None
    if not any(o.domain == "com.microsoft" for o in model.opset_import):  # FusedMatMul's domain
        model.opset_import.append(onnx.helper.make_opsetid("com.microsoft", 1))
    tmp = atomic_target(out)
    try:
        onnx.save(model, str(tmp))
        if not same(tmp):
            log.warning("the one-text graph of %s gives other vectors here; using the general graph",
                        model_file.name)
            return None
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    return out


def _constant(graph: Any, name: str) -> np.ndarray:
    from onnx import numpy_helper

    for t in graph.initializer:
        if t.name == name:
            return numpy_helper.to_array(t)
    for n in graph.node:
        if n.op_type == "Constant" and n.output[0] == name:
            return numpy_helper.to_array(n.attribute[0].t)
    raise ValueError(f"{name} is not a constant")


def _expect(node: Any, op: str, perm: list[int] | None = None) -> Any:
    if node is None or node.op_type != op:
        raise ValueError(f"expected {op}, found {node.op_type if node is not None else 'a graph input'}")
    if perm is not None and [list(a.ints) for a in node.attribute if a.name == "perm"] != [perm]:
        raise ValueError(f"unexpected transpose {node.name}")
    return node


def rewrite(graph: Any, heads: int, hidden: int) -> None:
    """Per layer: scores = FusedMatMul(Q, K^T, alpha) read head-wise in place, softmax without the
    mask, context = FusedMatMul(probs, V), one transpose back to (1, seq, hidden)."""
    from onnx import helper, numpy_helper

    prod = {o: n for n in graph.node for o in n.output}
    users: dict[str, list[Any]] = {}
    for n in graph.node:
        for i in n.input:
            users.setdefault(i, []).append(n)

    def only_user(name: str) -> Any:
        found = users.get(name, [])
        if len(found) != 1:
            raise ValueError(f"{name} has {len(found)} users")
        return found[0]

    def head_input(transpose: Any, perm: list[int]) -> str:
        return str(_expect(prod.get(_expect(transpose, "Transpose", perm).input[0]), "Reshape").input[0])

    graph.initializer.extend([
        numpy_helper.from_array(np.array([-1, heads, hidden // heads], np.int64), "one_text/seq_heads_dim"),
        numpy_helper.from_array(np.array([1, -1, hidden], np.int64), "one_text/batch_seq_hidden")])
    softmaxes = [n for n in graph.node if n.op_type == "Softmax"]
    if not softmaxes:
        raise ValueError("no attention softmax in the graph")
    for k, soft in enumerate(softmaxes):
        add = _expect(prod.get(soft.input[0]), "Add")
        # the scaled scores, not the mask (an older mask is a Mul too, but not of a MatMul)
        scale = next((prod[i] for i in add.input if i in prod and prod[i].op_type in ("Mul", "Div")
                      and getattr(prod.get(prod[i].input[0]), "op_type", "") == "MatMul"), None)
        if scale is None:
            raise ValueError(f"no scaled attention scores before {soft.name}")
        c = np.float32(_constant(graph, scale.input[1]).item())
        alpha = float(c if scale.op_type == "Mul" else np.float32(1) / c)
        scores = _expect(prod.get(scale.input[0]), "MatMul")
        q = head_input(prod.get(scores.input[0]), [0, 2, 1, 3])
        key = head_input(prod.get(scores.input[1]), [0, 2, 3, 1])
        context = _expect(only_user(soft.output[0]), "MatMul")
        value = head_input(prod.get(context.input[1]), [0, 2, 1, 3])
        back = _expect(only_user(context.output[0]), "Transpose", [0, 2, 1, 3])
        merged = _expect(only_user(back.output[0]), "Reshape")
        p = f"one_text/layer{k}/"
        new = [helper.make_node("Reshape", [x, "one_text/seq_heads_dim"], [p + nm], name=p + nm)
               for x, nm in ((q, "q"), (key, "k"), (value, "v"))]
        new += [
            helper.make_node("FusedMatMul", [p + "q", p + "k"], [p + "scores"], name=p + "scores",
                             domain="com.microsoft", alpha=alpha, transA=0, transB=1, transBatchA=1,
                             transBatchB=1),
            helper.make_node("Softmax", [p + "scores"], [p + "probs"], name=p + "softmax", axis=-1),
            helper.make_node("FusedMatMul", [p + "probs", p + "v"], [p + "context"], name=p + "context",
                             domain="com.microsoft", alpha=1.0, transA=0, transB=0, transBatchA=0,
                             transBatchB=1),
            helper.make_node("Transpose", [p + "context"], [p + "seq_first"], name=p + "transpose",
                             perm=[1, 0, 2]),
            helper.make_node("Reshape", [p + "seq_first", "one_text/batch_seq_hidden"], [merged.output[0]],
                             name=p + "merge"),
        ]
        merged.output[0] = p + "unused"
        graph.node.extend(new)
    _prune(graph)
    _sort(graph)


def _prune(graph: Any) -> None:
    """Drop the nodes and initialisers nothing reads any more (the mask chain, the old attention)."""
    prod = {o: n for n in graph.node for o in n.output}
    live: set[int] = set()
    stack = [o.name for o in graph.output]
    seen: set[str] = set()
    while stack:
        name = stack.pop()
        if name in seen or name not in prod:
            continue
        seen.add(name)
        node = prod[name]
        if id(node) not in live:
            live.add(id(node))
            stack.extend(i for i in node.input if i)
    nodes = [n for n in graph.node if id(n) in live]
    del graph.node[:]
    graph.node.extend(nodes)
    used = {i for n in graph.node for i in n.input}
    inits = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(inits)


def _sort(graph: Any) -> None:
    """Topological order (ONNX requires it; the new nodes were appended at the end)."""
    ready = {i.name for i in graph.input} | {t.name for t in graph.initializer} | {""}
    pending, order = list(graph.node), []
    while pending:
        rest = []
        for n in pending:
            if all(i in ready for i in n.input):
                order.append(n)
                ready.update(n.output)
            else:
                rest.append(n)
        if len(rest) == len(pending):
            raise ValueError("graph has a cycle or a missing input")
        pending = rest
    del graph.node[:]
    graph.node.extend(order)
