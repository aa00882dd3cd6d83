#!/usr/bin/env bash
# A universe portfolio: qts's engine against vectorbt (see universe.py).
set -euo pipefail
cd "$(dirname "$0")/.."
py="$(scripts/golden/setup_venv.sh)"
cargo build --release --locked -p qts-backtest --example bench_universe
"$py" bench/universe.py target/release/examples/bench_universe "$@"
