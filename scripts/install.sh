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
