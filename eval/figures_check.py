"""How often does the figures check (rag.answer.figures) flag a figure that is right, and how often
does it catch one that is wrong? Two sources of real paraphrase with figures in digits:

- BBC headlines against their own article body (the body without the headline line);
- SciFact claims against the abstracts judged relevant to them (train and test qrels). Some SciFact
  claims contradict their abstract on purpose, so the flag rate there is an upper bound on false
  alarms.

Caught rate: the first figure of each such headline or claim is changed (x3 for a whole number, the
last digit + 1 for a decimal), and the changed sentence must be flagged. A change that happens to
land on another figure of the text is counted as not caught.

    .venv/bin/python eval/figures_check.py   # seconds; writes eval/results/figures_check.{md,json}
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.answer.figures import figures, missing_figures  # noqa: E402
from rag.evaluation.harness import SHARED_DATA, write_generated  # noqa: E402
from rag.types import Passage  # noqa: E402


def passage(text: str, date: str | None = None) -> Passage:
    # title left empty: a headline must not vouch for itself
    return Passage("x:0", "x", text, 0, len(text), "", None, date, None, 0)


def changed(sentence: str) -> str | None:
    """The sentence with its first figure changed, or None when it has none."""
    found = figures(sentence)
    if not found:
        return None
    fig = found[0]
    number = re.match(r"[\d,]+(\.\d+)?", fig.text)
    assert number
    digits = number.group(0)
    if "." in digits:
        new = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    else:
        value = int(digits.replace(",", "")) * 3
        new = f"{value:,}" if "," in digits else str(value)
    at = sentence.index(fig.text)
    return sentence[:at] + new + sentence[at + len(digits):]


def bbc(folder: Path) -> list[tuple[str, str]]:
    pairs = []
    for path in sorted(folder.glob("*/*.txt")):
        # the files are UTF-8 with a few HTML entities ("&#163;" for the pound sign)
        lines = html.unescape(path.read_text(encoding="utf-8", errors="replace")).splitlines()
        title, body = lines[0].strip(), "\n".join(lines[1:]).strip()
        if figures(title):
            pairs.append((title, body))
    return pairs


def scifact(data: Path) -> list[tuple[str, str]]:
    docs = {}
    for line in (data / "corpus.jsonl").read_text().splitlines():
        d = json.loads(line)
        docs[d["_id"]] = f"{d['title']}\n{d['text']}"
    queries = {}
    for line in (data / "queries.jsonl").read_text().splitlines():
        d = json.loads(line)
        queries[d["_id"]] = d["text"]
    pairs = []
    for split in ("train", "test"):
        for line in (data / "qrels" / f"{split}.tsv").read_text().splitlines()[1:]:
            qid, doc, _ = line.split("\t")
            claim = queries[qid.strip()]
            if figures(claim):
                pairs.append((claim, docs[doc.strip()]))
    return pairs


def measure(name: str, pairs: list[tuple[str, str]]) -> dict[str, object]:
    flagged = [(s, missing_figures(s, [passage(t)])) for s, t in pairs]
    wrong = [(c, t) for s, t in pairs if (c := changed(s)) is not None]
    caught = sum(bool(missing_figures(c, [passage(t)])) for c, t in wrong)
    examples = [f"{s} -> {', '.join(m)}" for s, m in flagged if m]
    return {"source": name, "sentences": len(pairs), "flagged": sum(bool(m) for _, m in flagged),
            "changed": len(wrong), "caught": caught, "flagged_examples": examples}


def main(data: Path, out: Path) -> None:
    rows = [measure("BBC headline vs its article body", bbc(data / "bbc-news")),
            measure("SciFact claim vs a relevant abstract", scifact(data / "beir-scifact"))]
    lines = ["# Figures check: figures flagged as not in the text, changed figures caught", "",
             "Command: `.venv/bin/python eval/figures_check.py`. Sentences with at least one figure in",
             "digits; each is checked against the whole body or abstract (the product checks the cited",
             "passages).", "",
             "| source | sentences | flagged (a figure not found in the text) | changed figures caught |",
             "|---|---|---|---|"]
    for r in rows:
        n, c = int(r["sentences"]), int(r["changed"])  # type: ignore[call-overload]
        f, k = int(r["flagged"]), int(r["caught"])  # type: ignore[call-overload]
        lines.append(f"| {r['source']} | {n} | {f} ({f / n:.1%}) | {k} of {c} ({k / c:.1%}) |")
    for r in rows:
        lines += ["", f"Flagged, {r['source']} (first 25):", ""]
        lines += [f"- {e}" for e in r["flagged_examples"][:25]]  # type: ignore[index]
    write_generated(Path(f"{out}.md"), "\n".join(lines))  # the hand-written reading below the table stays
    Path(f"{out}.json").write_text(json.dumps(rows, indent=2) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--data", type=Path, default=SHARED_DATA,
                     help="the folder holding bbc-news/ and beir-scifact/")
    cli.add_argument("--out", type=Path, default=ROOT / "eval" / "results" / "figures_check",
                     help="results prefix: writes OUT.md (between its generated markers) and OUT.json")
    args = cli.parse_args()
    main(args.data, args.out)
