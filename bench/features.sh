#!/usr/bin/env bash
# Feature kernels against TA-Lib on the same 1,000,000 bars, in one run (see features.py).
set -euo pipefail
cd "$(dirname "$0")/.."
py="$(scripts/golden/setup_venv.sh)"
cargo build --release --locked -p qts-data --example bench_features
"$py" bench/features.py target/release/examples/bench_features
