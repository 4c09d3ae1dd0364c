"""The CLI means one thing per flag: hits in search, passages in ask, the metric cut-off in eval;
`ask` filters like `search`; help texts name no machine path; `rag --help` loads no heavy library."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rag.cli import build_parser, main
from rag.settings import PROJECT_ROOT

HEAVY = ("numpy", "torch", "faiss", "gradio", "onnxruntime", "sentence_transformers", "blingfire", "bm25s",
         "tiktoken", "trafilatura", "llama_cpp", "litellm", "openai", "transformers", "pydantic_settings")


@pytest.mark.parametrize("argv, dest, value", [
    (["search", "q"], "hits", 10),
    (["search", "q", "--hits", "4"], "hits", 4),
    (["search", "q", "--k", "3"], "hits", 3),  # the old spelling still works, hidden from --help
    (["ask", "q"], "passages", None),
    (["ask", "q", "--passages", "5"], "passages", 5),
    (["ask", "q", "--k", "5"], "passages", 5),
    (["eval"], "cutoff", 10),
    (["eval", "--cutoff", "5"], "cutoff", 5),
    (["eval", "--k", "5"], "cutoff", 5),
])
def test_each_count_has_its_own_name(argv: list[str], dest: str, value: int | None) -> None:
    assert getattr(build_parser().parse_args(argv), dest) == value


def test_help_texts_name_no_machine_path_and_no_k(capsys) -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    for name in sub.choices:  # type: ignore[union-attr]
        with pytest.raises(SystemExit):
            main([name, "--help"])
        text = capsys.readouterr().out
        assert str(PROJECT_ROOT) not in text and "--k " not in text, name


def test_rag_help_imports_no_heavy_library() -> None:
    code = ("import sys; from rag.cli import build_parser; build_parser().format_help(); "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_ask_takes_author_and_source_filters(hash_index: Path, hash_settings, capsys) -> None:
    cache = f"embedding.cache_dir={hash_settings.embedding.cache_dir}"
    base = ["ask", "How many troops will NATO send?", "--index", str(hash_index), "--json",
            "--set", "embedding.model=hash", "--set", cache]
    assert main([*base, "--author", "Clara Weiss"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["filters"]["authors"] == ["Clara Weiss"]
    assert answer["hits"] and {h["author"] for h in answer["hits"]} == {"Clara Weiss"}
    assert main([*base, "--source", "no such source"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["filters"]["sources"] == ["no such source"] and answer["hits"] == []
