"""The `qts` Python package: what a call costs over the Rust it wraps, what passing a large
frame in costs, and a parameter search against vectorbt in the same process.

    bench/python.sh

1. One SmaCross(10, 20) backtest with every metric on the last 10 years (2,520 bars) of the
   bundled S&P 500 history, backtesting.py's rules (cash 10,000, commission 0.002):
   `qts.backtest(...)` from Python (bars validated, the request run, the JSON parsed into
   `result.stats`) against the same work in Rust (`bench_backtest request`); the overhead is
   the ratio minus one. Final equities must agree exactly.
2. A 1,000,000-row pandas frame (a random walk, OHLCV) passed in with `qts.Bars.from_frame`:
   the time and the peak memory over the frame's own size (in a child process, max RSS).
3. A 20 x 20 SMA grid on the same 2,520 bars: `qts.optimize` (backtesting.py's rules, every
   metric, the deflated Sharpe ratio and PBO over the trials) against vectorbt's
   `Portfolio.from_signals` over the same pairs (fills at the next open, fees 0.002), both
   called from this one Python process.
"""

import json
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd

import qts

ROOT = pathlib.Path(__file__).resolve().parents[1]
OVERRIDES = [
    "backtest.initial_capital=10000",
    "backtest.costs.commission_model=percent",
    "backtest.costs.commission_rate=0.002",
]


def best_of(n, f):
    t, out = float("inf"), None
    for _ in range(n):
        s = time.perf_counter()
        out = f()
        t = min(t, time.perf_counter() - s)
    return t, out


def call_overhead(binary, path):
    cfg = qts.Config.load(None, OVERRIDES)
    bars = qts.read_bars(path)
    rust = json.loads(subprocess.check_output([binary, "request", str(path), "300"]))
    call = lambda: qts.backtest(bars, "sma-cross", {"fast": 10, "slow": 20}, cfg, execution="backtesting-py")
    secs, result = best_of(300, call)
    # `result.stats` is parsed from the JSON on first use: the call and the dict, apart.
    with_stats, _ = best_of(300, lambda: call().stats)
    assert result.stats["final_equity"] == rust["final_equity"], (result.stats["final_equity"], rust)
    # The rows too, as a notebook reads them.
    rows, _ = best_of(50, lambda: (result.equity.to_pandas(), result.trades.to_pandas()))
    print(f"1. one backtest, {len(bars)} bars, every metric (best of 300):")
    print(f"   Rust request {rust['secs'] * 1e3:.3f} ms, qts.backtest from Python {secs * 1e3:.3f} ms: "
          f"overhead {100 * (secs / rust['secs'] - 1):.1f}%; with result.stats read as a dict "
          f"{with_stats * 1e3:.3f} ms ({100 * (with_stats / rust['secs'] - 1):.1f}%); equity and trades to pandas "
          f"{rows * 1e3:.3f} ms more")


CHILD = r"""
import resource, sys, time
import numpy as np, pandas as pd
import qts
n = 1_000_000
rng = np.random.default_rng(1)
close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
frame = pd.DataFrame({
    "open": close, "high": close * 1.01, "low": close * 0.99, "close": close,
    "volume": np.full(n, 1e6),
}, index=pd.date_range("1800-01-01", periods=n, freq="D", name="date"))
size = frame.memory_usage(index=True).sum()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
t = time.perf_counter()
bars = qts.Bars.from_frame(frame, "WALK")
secs = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(secs, size, peak - before, len(bars))
"""


def large_frame():
    out = subprocess.check_output([sys.executable, "-c", CHILD]).split()
    secs, size, grown, rows = float(out[0]), int(out[1]), int(out[2]), int(out[3])
    print(f"2. a {rows:,}-row pandas frame ({size / 2**20:.0f} MiB) into qts.Bars.from_frame: {secs * 1e3:.0f} ms, "
          f"peak memory +{grown / 2**20:.0f} MiB ({grown / size:.2f}x the frame: the bars are copied once "
          "into the library's columns)")


def search_against_vectorbt(path):
    import vectorbt as vbt

    cfg = qts.Config.load(None, OVERRIDES)
    fast, slow = list(range(5, 105, 5)), list(range(10, 410, 20))
    secs, found = best_of(
        3,
        lambda: qts.optimize(path, "sma-cross", {"fast": fast, "slow": slow}, maximize="total_return",
                             config=cfg, execution="backtesting-py"),
    )
    df = pd.read_csv(path, parse_dates=["date"]).set_index("date")
    pairs = [(f, s) for f in fast for s in slow if f < s]

    close, open_ = df["close"], df["open"]

    def vectorbt(c=close, o=open_, pairs=pairs):
        # As bench/backtest.py: crossovers as long and short entries (SmaCross flips), filled
        # at the next open, all in, fees 0.002.
        ma_f = vbt.MA.run(c, window=[p[0] for p in pairs], short_name="f").ma
        ma_s = vbt.MA.run(c, window=[p[1] for p in pairs], short_name="s").ma
        ma_f.columns = ma_s.columns = range(len(pairs))
        up = (ma_f > ma_s) & (ma_f.shift(1) < ma_s.shift(1))
        down = (ma_f < ma_s) & (ma_f.shift(1) > ma_s.shift(1))
        pf = vbt.Portfolio.from_signals(
            c, entries=up.shift(1, fill_value=False), short_entries=down.shift(1, fill_value=False),
            price=o, fees=0.002, init_cash=10_000, freq="1D")
        return pf.total_return()

    vectorbt(close.iloc[:60], open_.iloc[:60], pairs[:3])  # JIT-compile first
    theirs, returns = best_of(3, vectorbt)
    print(f"3. a {len(pairs)}-pair SMA grid, {len(df)} bars: qts.optimize {secs:.3f} s "
          f"({found.report['trials']} trials with every metric, DSR and PBO), "
          f"vectorbt {theirs:.3f} s: {theirs / secs:.1f}x; best total return qts {found.best['metrics']['total_return']:.4f}, "
          f"vectorbt {returns.max():.4f}")


def main():
    binary = sys.argv[1]
    df = pd.read_csv(ROOT / "examples/data/sp500_daily.csv").tail(2520).reset_index(drop=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "sp500_2520.csv"
        df.to_csv(path, index=False)
        call_overhead(binary, path)
        large_frame()
        search_against_vectorbt(path)


if __name__ == "__main__":
    main()
