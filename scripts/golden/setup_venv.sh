#!/usr/bin/env bash
# Creates (once) the Python environment that runs the golden scripts, outside the clone so a
# machine pays for it once: ${QTS_GOLDEN_VENV:-$HOME/.cache/qts/golden-venv}.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${QTS_GOLDEN_VENV:-$HOME/.cache/qts/golden-venv}"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
"$venv/bin/pip" install -q -r "$here/requirements.txt"
echo "$venv/bin/python"
