"""`rag search`: text and JSON output, filters from flags, and a clear error for a missing index."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rag.cli import main


@pytest.fixture
def hash_env(monkeypatch: pytest.MonkeyPatch, hash_settings) -> None:
    # The hash_index fixture was built with the hash embedder; the CLI reads settings from the env.
    monkeypatch.setenv("RAG_EMBEDDING__MODEL", "hash")
    monkeypatch.setenv("RAG_EMBEDDING__CACHE_DIR", hash_settings.embedding.cache_dir)


def test_json_output_has_passage_fields_score_and_rank(hash_index: Path, hash_env, capsys) -> None:
    assert (
        main(
            [
                "search",
                "soldiers Germany Britain contribute",
                "--index",
                str(hash_index),
                "--k",
                "3",
                "--json",
            ]
        )
        == 0
    )
    hits = json.loads(capsys.readouterr().out)
    assert [h["rank"] for h in hits] == [1, 2, 3]
    for h in hits:
        assert {"id", "article_id", "text", "start", "end", "title", "date", "author", "score"} <= set(h)
    assert hits[0]["score"] >= hits[-1]["score"]


def test_text_output_and_flags_become_filters(hash_index: Path, hash_env, capsys) -> None:
    assert (
        main(
            [
                "search",
                "NATO troops",
                "--index",
                str(hash_index),
                "--k",
                "2",
                "--since",
                "2021",
                "--mode",
                "bm25",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "filters: since=2021-01-01" in out
    assert " 1. [" in out and "chars " in out and "2021-" in out and "2016-" not in out
    assert main(["search", "NATO troops in 2016", "--index", str(hash_index), "--k", "2"]) == 0
    out = capsys.readouterr().out
    assert "(Only articles from 2016 (the query names a year))" in out
    assert main(["search", "NATO", "--index", str(hash_index), "--author", "Gaist", "--json"]) == 0
    assert {h["author"] for h in json.loads(capsys.readouterr().out)} == {"Thomas Gaist"}


def test_missing_index_is_one_sentence_and_exit_1(tmp_path: Path, capsys) -> None:
    assert main(["search", "anything", "--index", str(tmp_path / "nope")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: There is no index at") and "rag index" in err and "\n" not in err


@pytest.mark.parametrize("flags", [
    ["--since", "2016-13-45"], ["--until", "2016-02-30"], ["--since", "garbage"],
    ["--since", "2021", "--until", "2016"],
])
@pytest.mark.parametrize("command", ["search", "ask"])
def test_impossible_dates_are_one_sentence_errors(
    hash_index: Path, hash_env, capsys, command: str, flags: list[str]
) -> None:
    # they used to pass through as strings and filter on string order: "2016-13-45" kept 2021 articles
    assert main([command, "NATO troops", "--index", str(hash_index), *flags]) == 1
    captured = capsys.readouterr()
    assert captured.err.startswith("error: ") and "\n" not in captured.err.strip() and not captured.out
    assert main(["search", "NATO", "--index", str(hash_index), "--since", "2016-02-29", "--json"]) == 0


@pytest.mark.parametrize("command", ["search", "ask"])
@pytest.mark.parametrize("k", ["0", "-3", "x"])
def test_k_must_be_positive(hash_index: Path, command: str, k: str, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, "NATO", "--index", str(hash_index), "--k", k])
    assert exc.value.code == 2 and "positive whole number" in capsys.readouterr().err
