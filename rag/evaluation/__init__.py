"""Evaluate stage: score retrieval (and answers) on BEIR datasets and on QA files for the user's own index.

`rag eval --beir DIR`, `rag eval --qa FILE`, `rag eval compare A.json B.json` (see rag/cli/eval_cmd.py).
"""

from rag.evaluation.beir import BeirDataset, load_beir
from rag.evaluation.metrics import METRIC_NAMES, evaluate_run
from rag.evaluation.qa import QAItem, load_qa

__all__ = ["METRIC_NAMES", "BeirDataset", "QAItem", "evaluate_run", "load_beir", "load_qa"]
