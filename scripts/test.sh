#!/usr/bin/env bash
# Runs every test of the workspace on a fresh machine. Installs what the tests need first,
# cached outside the clone so a machine pays for them once: libtorch (PyPI torch==2.13.0, in
# a venv under ~/.cache/qts, see scripts/torch-env.sh) for the models crate, and MLflow
# (mlflow==3.17.2, scripts/mlflow-env.sh) for the tracking tests, Debian's chromium for the
# browser tests of the HTML reports, and a venv for the Python package's tests
# (scripts/python-env.sh). The tests run instrumented (cargo-llvm-cov with Debian's llvm-22,
# scripts/coverage-env.sh), and the script ends with the workspace's line coverage, which must
# be at least 80% (QTS_COVERAGE_FLOOR) when every test ran (no arguments).
#
#   scripts/test.sh --quick [ARGS]   the inner loop: the library crates' unit, golden and
#                                    property tests, not instrumented, without the CLI's
#                                    process tests, the browser, MLflow or Python (libtorch is
#                                    still installed: the models crate's tests train).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo not found; install Rust (https://rustup.rs) and retry" >&2
    exit 1
fi

# shellcheck source=scripts/torch-env.sh
source scripts/torch-env.sh

if [ "${1:-}" = "--quick" ]; then
    shift
    exec cargo test --workspace --locked --exclude qts-cli "$@"
fi

# Headless Chromium for the browser tests of the HTML reports (crates/cli/tests/cli_report.rs):
# Debian's package, installed when missing (CI runs as root).
if [ ! -x "${QTS_CHROMIUM:-/usr/bin/chromium}" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing chromium (Debian package) for the report tests" >&2
        apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "error: the report tests need Chromium: sudo apt-get install -y chromium (or set QTS_CHROMIUM)" >&2
        exit 1
    fi
fi
# A real MLflow server for the tracking tests (crates/cli/tests/cli_tracking.rs).
# shellcheck source=scripts/mlflow-env.sh
source scripts/mlflow-env.sh

# The Python package's test venv (pytest, pandas, polars, pyarrow, nbclient).
# shellcheck source=scripts/python-env.sh
source scripts/python-env.sh

# shellcheck source=scripts/coverage-env.sh
source scripts/coverage-env.sh
# The instrumented build: cargo-llvm-cov's rustc wrapper instruments the workspace's crates
# only, in target/ as usual, so the binaries the CLI tests and pytest start write their
# profiles too (target/*.profraw). `clean` drops the profiles and objects of an earlier run.
eval "$(cargo llvm-cov show-env --sh 2>/dev/null)"
cargo llvm-cov clean --workspace
cargo test --workspace --locked "$@"

# The Python package and its model extension, built as a user's `pip install` builds them
# (wheels by maturin), installed into the test venv, then their tests, which compare them with
# the `qts` and `qts-torch` just built.
echo "== Python package (crates/python, crates/python-torch)" >&2
rm -rf target/wheels
# The wheels are release builds, not instrumented (the report reads the debug objects).
for package in python python-torch; do
    (cd "crates/$package" && env -u RUSTC_WRAPPER "$(dirname "$QTS_PYTHON")/maturin" build --locked --quiet -o ../../target/wheels)
done
"$QTS_PYTHON" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps target/wheels/*.whl
QTS_BIN="$PWD/target/debug/qts" "$QTS_PYTHON" -m pytest -q -p no:cacheprovider crates/python/tests

# Line coverage of the workspace, from every profile the tests above wrote (cargo tests, the
# binaries they started, and the `qts` pytest ran). Below the floor fails the run.
echo "== line coverage (cargo llvm-cov; the tests above, instrumented)" >&2
if [ "$#" -eq 0 ]; then
    cargo llvm-cov report --summary-only --fail-under-lines "${QTS_COVERAGE_FLOOR:-80}"
else
    echo "(a subset of the tests ran: the coverage floor is not applied)" >&2
    cargo llvm-cov report --summary-only
fi
