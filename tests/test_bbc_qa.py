"""The BBC QA set (eval/bbc_qa.jsonl) against the articles it was written from, and its dev / test split."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from rag.evaluation.answers import answer_in, normalise, summarise
from rag.evaluation.qa import load_qa

ROOT = Path(__file__).resolve().parent.parent
QA = ROOT / "eval" / "bbc_qa.jsonl"
BBC = next((p for p in (ROOT.parent / "shared" / "data" / "bbc-news", Path("/work/shared/data/bbc-news"))
            if p.is_dir()), None)
ITEMS = load_qa(QA)


def test_the_set_has_what_the_issue_asks_for():
    kinds = Counter(it.kind for it in ITEMS)
    assert kinds["factoid"] >= 120
    assert kinds["list"] + kinds["comparison"] + kinds["over_time"] >= 20
    assert kinds["followup"] >= 20
    reasons = Counter(it.reason for it in ITEMS if it.kind == "unanswerable")
    assert reasons["near_miss"] + reasons["off_topic"] >= 50 and min(reasons.values()) >= 20
    assert all(it.answers for it in ITEMS if it.answerable)
    assert all(it.split in ("dev", "test") for it in ITEMS)


def test_split_is_by_article_and_keeps_follow_ups_with_their_first_turn():
    split_of: dict[str, set[str]] = {}
    for it in ITEMS:
        for path in (*it.gold_paths, *it.near_paths):
            split_of.setdefault(path, set()).add(str(it.split))
    assert all(len(s) == 1 for s in split_of.values()), "an article is in both dev and test"
    by_id = {it.id: it for it in ITEMS}
    assert all(by_id[it.follows].split == it.split for it in ITEMS if it.follows)


@pytest.mark.skipif(BBC is None, reason="shared BBC data not present")
def test_every_answer_occurs_in_its_gold_articles():
    assert BBC is not None
    text = {}
    for it in ITEMS:
        for path in it.gold_paths:
            if path not in text:
                text[path] = (BBC / path).read_bytes().decode("utf-8", errors="replace")
        if it.kind in ("factoid", "followup"):
            for path in it.gold_paths:  # every accepted answer, in every gold article
                assert all(a.lower() in text[path].lower() for a in it.answers), (it.id, path)
        elif it.answerable:
            assert any(answer_in(text[p], it.answers) for p in it.gold_paths), it.id
            for item in it.items:
                assert any(item.lower() in text[p].lower() for p in it.gold_paths), (it.id, item)
    for it in ITEMS:
        assert all((BBC / p).is_file() for p in it.near_paths), it.id


def test_answer_matching_ignores_number_format_but_not_word_boundaries():
    assert normalise("Twelve 12,500 per cent") == "twelve 12500%"
    assert answer_in("a deal worth $9.4 billion", ["$9.4bn"])
    assert answer_in("sold for 9.4bn dollars", ["9.4bn"])
    assert not answer_in("back in 1999", ["99"]) and not answer_in("Foxxy", ["Foxx"])


def test_summary_counts_refusals_and_accuracy_per_kind():
    rows = [
        {"answerable": True, "kind": "factoid", "type": "person", "reason": None, "refused": False,
         "correct": True, "cited": True, "gold_cited": True, "citations": 2, "exact": 2, "seconds": 0.1},
        {"answerable": True, "kind": "factoid", "type": "money", "reason": None, "refused": True,
         "correct": False, "cited": False, "gold_cited": False, "citations": 3, "exact": 3, "seconds": 0.2},
        {"answerable": False, "kind": "unanswerable", "type": None, "reason": "near_miss", "refused": True,
         "correct": False, "cited": False, "gold_cited": False, "citations": 3, "exact": 3, "seconds": 0.3},
    ]
    out = summarise(rows)
    assert out["accuracy, factoid"] == 0.5 and out["false refusals, answerable"] == 0.5
    assert out["rejection, unanswerable"] == 1.0 and out["unanswerable near_miss: rejection (n=1)"] == 1.0
    assert out["citations exact (quote == article slice)"] == 1.0


REUTERS = next((p for p in (ROOT.parent / "shared" / "data" / "reuters21578",
                            Path("/work/shared/data/reuters21578")) if p.is_dir()), None)


@pytest.mark.skipif(REUTERS is None, reason="shared Reuters data not present")
def test_every_reuters_answer_occurs_in_its_gold_stories():
    """eval/reuters_qa.jsonl, a second archive's check set (wire copy: "1.5 mln dlrs", "3.2 pct"),
    against the stories as the project's own loader reads them."""
    from rag.loaders import load_file

    assert REUTERS is not None
    items = load_qa(ROOT / "eval" / "reuters_qa.jsonl")
    assert Counter(it.kind for it in items) == {"factoid": 50, "unanswerable": 25}
    stories = {a.id: f"{a.title}\n{a.text}" for path in sorted(REUTERS.glob("reut2-*.sgm"))
               for a in load_file(path, REUTERS).articles}  # read as `rag index` reads them
    for it in items:
        assert it.split == "test" and (it.gold_article_ids or not it.answerable), it.id
        texts = [stories[g] for g in it.gold_article_ids]  # KeyError: a gold id that is no story
        assert not it.answerable or answer_in(texts[0], it.answers), it.id
        assert all(answer_in(t, it.answers) for t in texts), it.id
