#!/usr/bin/env bash
# Builds qts and runs the main job on the bundled sample data. Until the backtesting engine
# lands, the main job checks the configuration, validates the sample history and computes its
# features.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked --bin qts
qts=./target/release/qts
$qts config validate
$qts data validate examples/data/goog_daily.csv --as-of 2013-03-04
$qts features examples/data/goog_daily.csv --out target/sample/goog_features.csv
