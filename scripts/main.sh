#!/usr/bin/env bash
# Builds qts and runs the main job on the bundled sample data: checks the configuration,
# validates the GOOG sample history, computes its features and backtests an SMA crossover on
# it (results in target/sample/).
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked --bin qts
qts=./target/release/qts
$qts config validate
$qts data validate examples/data/goog_daily.csv --as-of 2013-03-04
$qts features examples/data/goog_daily.csv --out target/sample/goog_features.csv
$qts backtest --data examples/data/goog_daily.csv --strategy sma-cross --param fast=10 --param slow=20 --out target/sample
