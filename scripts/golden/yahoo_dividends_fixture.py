"""Writes crates/data/tests/golden/yahoo_calm_dividends.csv: real Yahoo Finance daily bars of
Cal-Maine Foods (CALM), 2022-01-03 .. 2024-08-05, with Yahoo's own adjusted close and its
dividends, as yfinance recorded them for its tests.

Source: github.com/ranaroussi/yfinance (Apache-2.0), tests/data/CALM-1d-no-bad-divs.csv as last
changed by commit a74ad474d98e6d5b7a681253aae5d6b55f9e43cd ("no bad divs": a series yfinance's price repair leaves as it is). Every number
is copied verbatim as text; the timestamp becomes its ISO date; the columns are renamed to
qts's (`date,open,high,low,close,adj_close,volume,dividend,split`). Yahoo's `Close` is
split-adjusted and its `Dividends` are on the same basis; `Adj Close` also folds in every
dividend, Yahoo's own total-return adjustment, against which crates/data/tests/actions_golden.rs
checks qts's.

    python3 scripts/golden/yahoo_dividends_fixture.py PATH/TO/yfinance/tests/data/CALM-1d-no-bad-divs.csv
"""

import csv
import hashlib
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "crates/data/tests/golden/yahoo_calm_dividends.csv"


def main(src: str) -> None:
    with open(src, newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    assert header[:9] == [
        "Datetime", "Open", "High", "Low", "Close", "Adj Close", "Volume", "Dividends",
        "Stock Splits",
    ], header
    out = ["date,open,high,low,close,adj_close,volume,dividend,split"]
    for r in rows[1:]:
        out.append(",".join([r[0][:10]] + r[1:9]))
    OUT.write_text("\n".join(out) + "\n")
    data = OUT.read_bytes()
    print(f"{OUT.name}: {len(out) - 1} rows, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main(sys.argv[1])
