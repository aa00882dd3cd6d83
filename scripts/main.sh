#!/usr/bin/env bash
# Builds qts and runs the main job on the bundled configuration. Until the backtesting issue
# lands, the main job is checking and printing the effective configuration.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked --bin qts
./target/release/qts config validate
./target/release/qts config show
