#!/usr/bin/env bash
# Sourced by the test script: makes sure the line-coverage tools are installed, outside the
# clone so a machine pays for them once, and puts them on PATH:
# - cargo-llvm-cov 0.9.1 (crates.io, `cargo install --locked`, ~2 min to build once) under
#   $QTS_LLVM_COV_ROOT (default $HOME/.cache/qts/cargo-llvm-cov-0.9.1);
# - Debian's llvm-22 (llvm-cov and llvm-profdata of the same LLVM as this toolchain's rustc,
#   whose profile format they must read), installed when missing (CI runs as root).
qts_llvm_cov_version="0.9.1"
qts_llvm_cov_root="${QTS_LLVM_COV_ROOT:-$HOME/.cache/qts/cargo-llvm-cov-$qts_llvm_cov_version}"
if [ ! -x "$qts_llvm_cov_root/bin/cargo-llvm-cov" ]; then
    echo "installing cargo-llvm-cov $qts_llvm_cov_version into $qts_llvm_cov_root (once per machine)" >&2
    cargo install --quiet --locked --root "$qts_llvm_cov_root" "cargo-llvm-cov@$qts_llvm_cov_version"
fi
export PATH="$qts_llvm_cov_root/bin:$PATH"

qts_llvm_major="$(rustc -vV | sed -n 's/^LLVM version: \([0-9]*\).*/\1/p')"
if [ ! -x "/usr/bin/llvm-cov-$qts_llvm_major" ] || [ ! -x "/usr/bin/llvm-profdata-$qts_llvm_major" ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "installing llvm-$qts_llvm_major (Debian package) for the coverage report" >&2
        apt-get update -qq >/dev/null 2>&1 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "llvm-$qts_llvm_major" >/dev/null
    else
        echo "error: the coverage report needs LLVM $qts_llvm_major's tools: sudo apt-get install -y llvm-$qts_llvm_major" >&2
        exit 1
    fi
fi
export LLVM_COV="/usr/bin/llvm-cov-$qts_llvm_major"
export LLVM_PROFDATA="/usr/bin/llvm-profdata-$qts_llvm_major"
