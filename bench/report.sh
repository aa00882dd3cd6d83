#!/usr/bin/env bash
# The HTML backtest report against quantstats' HTML tearsheet on the same daily returns (see
# report.py): 20 years of S&P 500 bars, a fast crossover for many trades.
set -euo pipefail
cd "$(dirname "$0")/.."
py="$(scripts/golden/setup_venv.sh)"
cargo build --release --locked -p qts-cli --no-default-features --bin qts
"$py" bench/report.py target/release/qts
