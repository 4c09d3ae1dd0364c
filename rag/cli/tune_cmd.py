"""`rag tune (--beir DIR [--split train] | --qa FILE --index DIR) --out DIR`: fine-tune the embedding
model on judged (query, document) pairs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from rag.cli.options import positive_int
from rag.errors import EvalInputError
from rag.settings import DEFAULT_INDEX, PROJECT_ROOT, Settings


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "tune",
        help="fine-tune the embedding model on judged (query, document) pairs",
        description="Trains a copy of the embedding model on judged pairs (a BEIR folder's split, or a "
        "QA file's questions and gold articles in an index) and saves it as a local model folder; "
        "index or evaluate with it through --model or --set embedding.model=DIR. Never tune on the "
        "questions you report on.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--beir", type=Path, metavar="DIR", help="BEIR folder with qrels/SPLIT.tsv")
    src.add_argument("--qa", type=Path, metavar="FILE", help="QA file (as for rag eval --qa) over --index")
    p.add_argument("--index", type=Path, default=DEFAULT_INDEX, help="index the --qa file's articles are in")
    p.add_argument("--split", default="train", help="judgments to train on (default: train; never test)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder for the tuned model")
    p.add_argument("--base", help="model to start from (default: the embedding model in settings)")
    # Defaults chosen on a dev split of SciFact train (eval/results/tune_embedder_dev.md).
    p.add_argument("--epochs", type=positive_int, default=6, help="passes over the pairs (default: 6)")
    p.add_argument("--lr", type=float, default=5e-5, help="peak learning rate (default: %(default)s)")
    p.add_argument("--batch-size", type=positive_int, default=32, help="pairs per step (in-batch negatives)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--index-root", type=Path, default=PROJECT_ROOT / "index", help="where BEIR indexes are kept"
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.beir and args.split == "test":
        raise EvalInputError(
            "refusing to tune on the test split: its scores would no longer measure anything.",
            help="Tune on train (or a dev split you hold out) and report on test.",
        )
    from rag.models import resolve_model_path
    from rag.store import Store
    from rag.tuning import TuneSettings, fine_tune, judged_pairs

    settings = Settings.from_env()
    if args.beir:
        from rag.evaluation.beir import load_beir
        from rag.evaluation.runner import ensure_beir_index

        dataset = load_beir(args.beir, args.split)
        index_dir = ensure_beir_index(dataset, settings, args.index_root, progress=not args.quiet)
        queries, qrels = dataset.queries, dataset.qrels
        source = f"{dataset.name}/{args.split}"
    else:
        from rag.evaluation.qa import load_qa

        items = load_qa(args.qa)
        index_dir = args.index
        queries = {it.id: it.question for it in items}
        qrels = {it.id: dict.fromkeys(it.gold_article_ids, 1) for it in items}
        source = str(args.qa)
    store = Store.open(index_dir)
    try:
        pairs = judged_pairs(store, store.embedder, queries, qrels)
    finally:
        store.close()
    base = resolve_model_path(args.base or settings.embedding.model)
    print(f"{len(pairs)} pairs from {len(queries)} queries ({source}); tuning {base}", file=sys.stderr)

    def show(step: int, steps: int, loss: float) -> None:
        if not args.quiet:
            print(f"\rstep {step}/{steps} loss {loss:.3f}", end="" if step < steps else "\n",
                  file=sys.stderr, flush=True)

    tune = TuneSettings(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed)
    out = fine_tune(base, pairs, args.out, tune, source=source, progress=show)
    print(f"Saved the tuned model to {out}")
    if args.beir:
        print(f"Evaluate it: rag eval --beir {args.beir} --set embedding.model={out}")
    print(f"Index with it: rag index PATH --model {out} --rebuild")
    return 0
