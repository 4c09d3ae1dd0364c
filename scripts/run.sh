#!/usr/bin/env bash
# Installs the project, builds the sample index if needed and starts the chat UI on 127.0.0.1:7860.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export GRADIO_ANALYTICS_ENABLED=False HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/rag demo "$@"
