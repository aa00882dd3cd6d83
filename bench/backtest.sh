#!/usr/bin/env bash
# qts's backtester against backtesting.py and vectorbt (see backtest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
py="$(scripts/golden/setup_venv.sh)"
"$py" -m pip install -q vectorbt
cargo build --release --locked -p qts-backtest --example bench_backtest
"$py" bench/backtest.py target/release/examples/bench_backtest
