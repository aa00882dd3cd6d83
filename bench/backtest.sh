#!/usr/bin/env bash
# qts's backtester against backtesting.py and vectorbt (see backtest.py).
set -euo pipefail
cd "$(dirname "$0")/.."
py="$(scripts/golden/setup_venv.sh)"
"$py" -m pip install -q vectorbt
cargo build --release --locked -p qts-backtest --example bench_backtest
cargo build --release --locked -p qts-data --example bench_load
# The `qts` executable alone (no libtorch), as scripts call it.
cargo build --release --locked -p qts-cli --no-default-features --bin qts
echo "loading the 5,031-bar S&P 500 sample (best of 50):"
target/release/examples/bench_load examples/data/sp500_daily.csv 50
"$py" bench/backtest.py target/release/examples/bench_backtest target/release/qts
