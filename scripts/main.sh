#!/usr/bin/env bash
# Builds qts and runs the main job on the bundled sample data: checks the configuration,
# validates the GOOG sample history, computes its features, backtests an SMA crossover on it,
# trains the default LSTM on it (a few epochs), predicts with it and backtests the
# predictions, and decides what to trade after the last close (results in target/sample/).
# Installs libtorch once (scripts/torch-env.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=scripts/torch-env.sh
source scripts/torch-env.sh
cargo build --release --locked --bin qts --bin qts-torch
qts=./target/release/qts
$qts config validate
$qts data validate examples/data/goog_daily.csv --as-of 2013-03-04
$qts features examples/data/goog_daily.csv --out target/sample/goog_features.csv
$qts backtest --data examples/data/goog_daily.csv --strategy sma-cross --param fast=10 --param slow=20 --out target/sample
# The model: a short training run (the full 100 epochs take minutes), registered under
# target/sample/models, then its predictions over the last year and a backtest trading them.
QTS_SAMPLE=target/sample
$qts --set registry.directory=$QTS_SAMPLE/models \
    --set model.training.checkpoints.directory=$QTS_SAMPLE/checkpoints \
    --set model.training.epochs=5 --set model.training.warmup_epochs=1 \
    train --config config/model_configs/lstm_default.yaml --data examples/data/goog_daily.csv
$qts --set registry.directory=$QTS_SAMPLE/models \
    predict --model lstm_default --data examples/data/goog_daily.csv --from 2012-03-01 \
    --mc-dropout 20 --out $QTS_SAMPLE/goog_predictions.csv
$qts backtest --data examples/data/goog_daily.csv --strategy signal \
    --signals $QTS_SAMPLE/goog_predictions.csv --out $QTS_SAMPLE/signal
# After the last close of the sample: what to trade at the next open, with the same engine step
# the backtests used (the SMA crossover, then the model with its MC-dropout interval).
$qts decide --data examples/data/goog_daily.csv --param fast=10 --param slow=20 --as-of 2013-03-01
$qts --set registry.directory=$QTS_SAMPLE/models \
    decide --model lstm_default --data examples/data/goog_daily.csv --mc-dropout 20 --as-of 2013-03-01
# The main job end to end (`qts run`): the model walked forward — retrained on each 3-year window,
# trading the next year out of sample — against buy-and-hold and the SMA crossover on the same
# windows, the significance of its lead, its deflated Sharpe ratio, Monte Carlo intervals, the
# reports, the tracked run, and the decision for the next session (about 1.5 minutes on 2 cores).
$qts --set registry.directory=$QTS_SAMPLE/models run --out $QTS_SAMPLE/run
