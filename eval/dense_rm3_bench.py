"""Dense-seeded RM3 (fusion_bench.rm3 with a dense seed): expand the BM25 query with the words of the
top dense passages, then fuse as the default does. The mirror image of the default's BM25-seeded
dense feedback. Train split only.

    .venv/bin/python eval/dense_rm3_bench.py   # about 3 minutes; writes eval/results/dense_rm3.md
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fusion_bench import SCIFACT, Bench, default_fusion, rm3, rocchio  # noqa: E402
from tune_embedder import hybrid  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "dense_rm3.md"


def main(data: Path) -> None:
    b = Bench(data)
    dn = rocchio(b, b.bm, beta=0.25, top=3)
    bm_alone = b.ndcg("train", b.maxp(np.where(b.bm > 0, b.bm, -np.inf)))
    default = b.ndcg("train", hybrid(b))
    lines = ["| seed | feedback passages | terms | lambda | dense weight | BM25 alone | hybrid |",
             "|---|---|---|---|---|---|---|",
             f"| default (no expansion) | - | - | - | 0.6 | {bm_alone:.4f} | {default:.4f} |"]
    print("\n".join(lines), flush=True)
    for (name, seed), fbd, fbt, lam in itertools.product(
            [("dense + feedback", dn), ("dense", b.dense)], [3, 5, 10], [10, 30], [0.2, 0.4]):
        ex = rm3(b, fbd, fbt, lam, seed=seed)
        alone = b.ndcg("train", b.maxp(np.where(ex > 0, ex, -np.inf)))
        for w in (0.5, 0.6):
            fused = b.ndcg("train", default_fusion(b, ex, dn, w))
            line = f"| {name} | {fbd} | {fbt} | {lam} | {w} | {alone:.4f} | {fused:.4f} |"
            print(line, flush=True)
            lines.append(line)
    OUT.write_text("# Dense-seeded RM3 for BM25, SciFact train (809 queries), nDCG@10\n\n"
                   "Command: `.venv/bin/python eval/dense_rm3_bench.py`\n\n" + "\n".join(lines) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    cli = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    cli.add_argument("--data", type=Path, default=SCIFACT, help="BEIR SciFact folder")
    main(cli.parse_args().data)
