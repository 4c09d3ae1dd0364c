"""`rag eval`: retrieval evaluation on a BEIR folder or a QA file, and `rag eval compare A.json B.json`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rag.errors import EvalInputError
from rag.settings import DEFAULT_INDEX, PROJECT_ROOT, Settings

RESULTS = PROJECT_ROOT / "eval" / "results"
USAGE = """rag eval --beir DIR [--split test] [--modes bm25,dense,hybrid] [--cutoff 10] [--out PREFIX]
       rag eval --qa FILE [--index DIR] [--modes ...] [--out PREFIX]
       rag eval compare A.json B.json"""


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "eval",
        usage=USAGE,
        help="evaluate retrieval on a BEIR dataset or a QA file; compare two runs",
        description="Scores every retrieval mode in one run; writes PREFIX.md, PREFIX.json, PREFIX.png.",
    )
    p.add_argument("action", nargs="*", help="'compare A.json B.json' to diff two results")
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--beir", type=Path, metavar="DIR", help="BEIR folder (corpus.jsonl, queries.jsonl, qrels/)"
    )
    src.add_argument("--qa", type=Path, metavar="FILE", help="JSON Lines QA file for an existing index")
    p.add_argument("--split", default="test",
                   help="qrels split, or a QA file's split (dev, test, all); "
                   "tune on train/dev, report on test")
    p.add_argument(
        "--index", type=Path, default=DEFAULT_INDEX, help="index for --qa (default: index/default)"
    )
    p.add_argument(
        "--index-root", type=Path, default=PROJECT_ROOT / "index", help="where BEIR indexes are kept"
    )
    p.add_argument("--modes", default="bm25,dense,hybrid", help="comma-separated retrieval modes")
    p.add_argument("--cutoff", type=int, default=10, metavar="K",
                   help="metric cut-off (nDCG@K, Recall@K, MRR@K)")
    p.add_argument("--k", dest="cutoff", type=int, default=argparse.SUPPRESS,
                   help=argparse.SUPPRESS)  # deprecated alias of --cutoff
    p.add_argument("--depth", type=int, default=100, help="documents kept per query (Recall@100 needs 100)")
    p.add_argument("--limit", type=int, help="only the first N queries (quick tuning runs)")
    p.add_argument("--out", type=Path, help="output prefix (default eval/results/NAME-SPLIT)")
    p.add_argument("--no-answers", action="store_true", help="--qa: skip the answer-level checks")
    p.add_argument("--batch", type=int, default=1, help="embed N queries at once (faster; latency averaged)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=run)


def _compare(paths: list[str]) -> int:
    from rag.evaluation.report import compare, load_report

    if len(paths) != 2:
        raise EvalInputError("compare takes two result files.", help="Usage: rag eval compare A.json B.json")
    print(compare(load_report(paths[0]), load_report(paths[1])))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.action:
        if args.action[0] != "compare":
            raise EvalInputError(f"unknown eval action {args.action[0]!r}.", help=f"Usage:\n{USAGE}")
        return _compare(args.action[1:])
    if not args.beir and not args.qa:
        raise EvalInputError("nothing to evaluate.", help=f"Usage:\n{USAGE}")
    from rag.evaluation.report import render_markdown, write_report
    from rag.evaluation.runner import evaluate_beir, evaluate_qa

    settings = Settings.from_env()  # with the command's --set
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    progress = not args.quiet
    if args.beir:
        from rag.evaluation.beir import load_beir

        dataset = load_beir(args.beir, args.split)
        report = evaluate_beir(
            dataset,
            settings,
            modes,
            args.cutoff,
            args.depth,
            args.index_root,
            args.limit,
            progress=progress,
            batch=args.batch,
        )
        # beir-scifact -> eval/results/scifact-test.*, the committed table a re-run can be diffed against
        out = args.out or RESULTS / f"{dataset.name.removeprefix('beir-')}-{args.split}"
    else:
        from rag.evaluation.qa import load_qa, qa_fingerprint

        items = load_qa(args.qa)
        split = "all (QA file)"
        if any(it.split for it in items) and args.split != "all":
            # a QA file split into dev / test: tune on dev, report on test (--split all for every item)
            items, split = [it for it in items if it.split == args.split], args.split
            if not items:
                raise EvalInputError(f"{args.qa} has no questions in split {args.split!r}.",
                                     help="Use --split dev, --split test or --split all.")
        items = items[: args.limit] if args.limit else items
        report = evaluate_qa(
            items,
            args.index,
            settings,
            modes,
            args.cutoff,
            args.depth,
            name=args.qa.stem,
            fingerprint=qa_fingerprint(args.qa),
            answers=not args.no_answers,
            progress=progress,
            split=split,
        )
        suffix = "" if split.startswith("all") else f"-{split}"
        out = args.out or RESULTS / f"qa-{args.qa.stem}{suffix}"
    paths = write_report(report, out)
    print(render_markdown(report))
    print("wrote " + ", ".join(str(p) for p in paths.values()))
    return 0
