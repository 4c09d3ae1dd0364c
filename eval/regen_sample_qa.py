"""Rewrite the gold passage ids of eval/sample_qa.jsonl from the current chunking of corpus/sample.

A passage id is ARTICLE:N, so changing the chunking defaults renumbers passages; the gold passages of
a question are the passages of its gold articles that contain one of its answers.

    .venv/bin/python eval/regen_sample_qa.py           # rewrite the file (other fields untouched)
    .venv/bin/python eval/regen_sample_qa.py --check   # exit 1 if the file is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rag.chunking import chunk_articles  # noqa: E402
from rag.evaluation.qa import gold_passage_ids, load_qa  # noqa: E402
from rag.ingest import ingest  # noqa: E402
from rag.settings import SAMPLE_CORPUS, Settings  # noqa: E402

QA_FILE = ROOT / "eval" / "sample_qa.jsonl"


def regenerated(path: Path = QA_FILE) -> str:
    passages = chunk_articles(ingest([SAMPLE_CORPUS]).articles, Settings().chunking)
    items = {it.id: it for it in load_qa(path)}
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        obj = json.loads(line)
        obj["gold_passage_ids"] = list(gold_passage_ids(items[obj["id"]], passages))
        lines.append(json.dumps(obj, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def main() -> int:
    new = regenerated()
    if QA_FILE.read_text(encoding="utf-8") == new:
        print(f"{QA_FILE.name} is up to date")
        return 0
    if "--check" in sys.argv:
        print(f"{QA_FILE.name} is out of date: run .venv/bin/python eval/regen_sample_qa.py")
        return 1
    QA_FILE.write_text(new, encoding="utf-8")
    print(f"rewrote the gold passage ids in {QA_FILE.name}")
    return 0


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--check", action="store_true", help="exit 1 if the file is out of date; write nothing")
    cli.parse_args()
    sys.exit(main())
