#!/usr/bin/env bash
# Runs every test of the workspace on a fresh machine. Installs what the tests need first
# (nothing beyond the Rust toolchain yet; later issues add their installs here, cached outside
# the clone so a machine pays for them once).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
    echo "error: cargo not found; install Rust (https://rustup.rs) and retry" >&2
    exit 1
fi

cargo test --workspace --locked "$@"
