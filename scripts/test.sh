#!/usr/bin/env bash
# Installs everything (with the test tools) and runs the whole suite: ruff, mypy, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --dev
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
.venv/bin/ruff check rag tests eval app.py
.venv/bin/mypy rag eval
.venv/bin/python -m pytest -q "$@"
