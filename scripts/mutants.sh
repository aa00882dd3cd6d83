#!/usr/bin/env bash
# A bounded mutation check (not part of CI): cargo-mutants on chosen source files of a crate,
# each mutant built and that crate's tests run; the survivors are the tests' blind spots.
#
#   scripts/mutants.sh [PACKAGE FILE...]     default: qts-backtest's schedule and costs
#
# Installs cargo-mutants once (cargo install). Results in target/mutants.out (outcomes.json,
# caught.txt, missed.txt, timeout.txt). A full run of crates/backtest is ~1,000 mutants, hours
# on 2 cores; choose files.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/torch-env.sh
source scripts/torch-env.sh
command -v cargo-mutants >/dev/null 2>&1 || cargo install --locked cargo-mutants
package="${1:-qts-backtest}"
shift || true
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
    files=(crates/backtest/src/schedule.rs crates/backtest/src/costs.rs)
fi
args=()
for f in "${files[@]}"; do args+=(-f "$f"); done
cargo mutants -p "$package" "${args[@]}" --timeout 300 -o target || true
for kind in caught missed timeout unviable; do
    [ -f target/mutants.out/$kind.txt ] && echo "$kind: $(wc -l < target/mutants.out/$kind.txt)"
done
[ -s target/mutants.out/missed.txt ] && { echo "survivors:"; cat target/mutants.out/missed.txt; }
exit 0
