#!/usr/bin/env bash
# qts's research tools against their peers, in one run (see research.py): the parameter search
# against vectorbt and backtesting.py's optimize, the walk-forward, and Monte Carlo against a
# vectorised numpy bootstrap.
set -euo pipefail
cd "$(dirname "$0")/.."
py="$(scripts/golden/setup_venv.sh)"
"$py" -m pip install -q vectorbt
# The `qts` executable alone (no libtorch), as scripts call it.
cargo build --release --locked -p qts-cli --no-default-features --bin qts
"$py" bench/research.py target/release/qts
