"""`rag settings` lists every setting with its value and source; `--set` works on every command."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.cli import build_parser, main
from rag.settings import Settings


def test_settings_lists_every_field_with_its_source(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("RAG_RETRIEVAL__MODE", "bm25")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    assert main(["settings", "--json", "--set", "answer.max_sentences=3"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    every = {f"{g}.{f}" for g, fields in Settings().model_dump().items() for f in fields}
    assert set(rows) == every
    mode = rows["retrieval.mode"]
    assert (mode["value"], mode["source"]) == ("bm25", "env RAG_RETRIEVAL__MODE")
    assert rows["answer.max_sentences"]["value"] == 3 and rows["answer.max_sentences"]["source"] == "--set"
    assert rows["chunking.max_tokens"] == {"name": "chunking.max_tokens", "value": 200, "source": "default"}
    assert rows["llm.api_key"]["value"] == "***" and rows["llm.api_key"]["source"] == "env OPENAI_API_KEY"
    assert "sk-secret" not in json.dumps(rows)


def test_plain_listing_has_one_line_per_setting(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("RAG_RETRIEVAL__MODE", raising=False)
    assert main(["settings"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == sum(len(f) for f in Settings().model_dump().values())
    assert any(line.split() == ["retrieval.mode", "hybrid", "default"] for line in lines)


def test_every_command_takes_set() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():  # type: ignore[union-attr]
        assert "--set" in command._option_string_actions, name


@pytest.mark.parametrize("pair, message", [
    ("retrieval.k", "is not GROUP.FIELD=VALUE"),
    ("foo.bar=1", "there is no setting foo.bar"),
    ("retrieval.nope=1", "there is no setting retrieval.nope"),
    ("retrieval.k=many", "Invalid settings"),
])
def test_a_bad_set_is_a_clear_error(pair: str, message: str, capsys) -> None:
    assert main(["settings", "--set", pair]) == 1
    assert message in capsys.readouterr().err


def test_set_reaches_a_command_and_is_gone_after_it(hash_index: Path, hash_settings, capsys) -> None:
    cache = f"embedding.cache_dir={hash_settings.embedding.cache_dir}"
    argv = ["search", "soldiers", "--index", str(hash_index), "--json", "--set", cache]
    # the index was built with the hash embedder: without --set embedding.model=hash it is refused
    assert main(argv) == 1
    assert "hash" in capsys.readouterr().err
    assert main([*argv, "--set", "embedding.model=hash"]) == 0
    assert json.loads(capsys.readouterr().out)
    assert Settings.from_env({}).embedding.model == "all-MiniLM-L6-v2"
