"""Writes crates/cli/tests/golden/aapl_fmp/: Apple (AAPL) from 2016-01-04 to 2022-12-28 as FMP's
stand-in serves it in the tests — its prices as traded and its corporate actions — for
`qts run --symbols AAPL` across the 4:1 split of 2020-08-31 and 28 quarterly dividends.

Sources:
- Prices: the real adjusted closes of AAPL in examples/data/stocks20_daily_adjclose.csv (skfolio
  1.12.2, BSD-3-Clause; Yahoo Finance's adjusted close, split- and dividend-adjusted as of its
  extraction in late 2022, rounded to 3 decimals). No raw price is shipped in a wheel we can
  use, so the prices as traded are *reconstructed* from them by undoing the actions below with
  Yahoo's (CRSP's) convention: before a dividend D with ex-date e, the adjusted close is the
  close times (1 - D / close[e-1]); before a split of ratio r, divided by r. Going backwards
  from the last bar (whose adjusted close is its close):
      close[t] = adj[t] * S(t) / P(t+1) + D(t+1)
  where S(t) is the product of the split ratios after t, P(t+1) the product of the dividend
  factors after t+1, and D(t+1) the dividend going ex on the next bar (0 if none). So the
  bars reproduce Yahoo's adjusted close exactly once qts adjusts them back (what the test
  checks is that qts applies the actions and states the basis, not an independent price source).
  Closes only: open = high = low = close; the volume is a constant 100,000,000 shares after the
  split and 25,000,000 before it (synthetic, stated).
- Actions: Apple's published dividend history (investor.apple.com, amounts per share as
  declared, ex-dates) and its 4-for-1 split with ex-date 2020-08-31. FMP's own answers agree
  where they are quoted in public code (0.82 on 2020-05-08 and 2020-08-07, 0.205 on 2020-11-06).

    python3 scripts/golden/aapl_fmp_fixture.py
"""

import csv
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "examples/data/stocks20_daily_adjclose.csv"
OUT = ROOT / "crates/cli/tests/golden/aapl_fmp"
FIRST, LAST = "2016-01-04", "2022-12-28"

SPLITS = {"2020-08-31": 4.0}
DIVIDENDS = {
    "2016-02-04": 0.52, "2016-05-05": 0.57, "2016-08-04": 0.57, "2016-11-03": 0.57,
    "2017-02-09": 0.57, "2017-05-11": 0.63, "2017-08-10": 0.63, "2017-11-10": 0.63,
    "2018-02-09": 0.63, "2018-05-11": 0.73, "2018-08-10": 0.73, "2018-11-08": 0.73,
    "2019-02-08": 0.73, "2019-05-10": 0.77, "2019-08-09": 0.77, "2019-11-07": 0.77,
    "2020-02-07": 0.77, "2020-05-08": 0.82, "2020-08-07": 0.82, "2020-11-06": 0.205,
    "2021-02-05": 0.205, "2021-05-07": 0.22, "2021-08-06": 0.22, "2021-11-05": 0.22,
    "2022-02-04": 0.22, "2022-05-06": 0.23, "2022-08-05": 0.23, "2022-11-04": 0.23,
}


def main() -> None:
    with open(SRC, newline="") as f:
        rows = [(r["date"], float(r["AAPL"])) for r in csv.DictReader(f)]
    rows = [r for r in rows if FIRST <= r[0] <= LAST]
    dates = [d for d, _ in rows]
    for d in list(SPLITS) + list(DIVIDENDS):
        assert d in dates, f"{d} is not a trading day of the file"
    close = [0.0] * len(rows)
    split_after, factor_after = 1.0, 1.0  # S(t), P(t+1) for t = the bar being solved
    for t in range(len(rows) - 1, -1, -1):
        date, adj = rows[t]
        nxt = dates[t + 1] if t + 1 < len(rows) else None
        dividend = DIVIDENDS.get(nxt, 0.0) if nxt else 0.0
        close[t] = adj * split_after / factor_after + dividend
        if dividend:
            factor_after *= 1.0 - dividend / close[t]
        if date in SPLITS:
            split_after *= SPLITS[date]
    OUT.mkdir(parents=True, exist_ok=True)
    lines = ["date,open,high,low,close,volume"]
    for (date, _), c in zip(rows, close):
        volume = 100_000_000 if date >= "2020-08-31" else 25_000_000
        p = f"{c:.4f}"
        lines.append(f"{date},{p},{p},{p},{p},{volume}")
    (OUT / "prices.csv").write_text("\n".join(lines) + "\n")
    events = ["date,symbol,kind,value"]
    for d, r in SPLITS.items():
        events.append(f"{d},AAPL,split,{r:g}")
    for d, v in DIVIDENDS.items():
        events.append(f"{d},AAPL,dividend,{v:g}")
    events = events[:1] + sorted(events[1:])
    (OUT / "actions.csv").write_text("\n".join(events) + "\n")
    for name in ("prices.csv", "actions.csv"):
        data = (OUT / name).read_bytes()
        rows = data.count(b"\n") - 1
        print(f"{name}: {rows} rows, sha256 {hashlib.sha256(data).hexdigest()}")


if __name__ == "__main__":
    main()
