#!/usr/bin/env bash
# qts's LSTM training and inference against PyTorch's nn.LSTM (see models.py): [THREADS] [cuda]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/torch-env.sh
cargo build --release --locked -p qts-models --example bench_models
"$qts_torch_venv/bin/python" -W ignore::UserWarning bench/models.py target/release/examples/bench_models "$@"
