#!/usr/bin/env bash
# The Python package against the Rust call it wraps, and against vectorbt in the same kernel
# (see python.py). Builds the release wheel and installs it into the golden-scripts venv
# (which holds vectorbt and backtesting.py).
set -euo pipefail
cd "$(dirname "$0")/.."
py="$(scripts/golden/setup_venv.sh)"
"$py" -m pip install -q vectorbt maturin==1.16.0
cargo build --release --locked -p qts-backtest --example bench_backtest
rm -rf target/wheels-release
(cd crates/python && "$(dirname "$py")/maturin" build --release --locked --quiet -o ../../target/wheels-release)
"$py" -m pip install -q --force-reinstall --no-deps target/wheels-release/qts-*.whl
"$py" -m pip install -q "pyarrow>=14"
"$py" bench/python.py target/release/examples/bench_backtest
