"""Feature kernels against TA-Lib, on the same data, in one run.

    bench/features.sh            (builds the Rust side and runs this with the golden venv)

Writes 1,000,000 synthetic daily bars (a seeded mean-reverting log price, consistent OHLC)
and the last 10 years (2,520 bars) of the bundled S&P 500 history, times each indicator with
TA-Lib (best of N) and with qts (`bench_features`, best of N), checks that both computed the
same values (sum of non-NaN outputs to 1e-9 relative), and prints the ratios. It also times
qts's whole default feature set on the 10-year file.
"""

import json
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
import pandas as pd
import talib

ROOT = pathlib.Path(__file__).resolve().parents[1]
N = 1_000_000
REPEATS = 7


def best(f):
    out, t = None, float("inf")
    for _ in range(REPEATS):
        s = time.perf_counter()
        out = f()
        t = min(t, time.perf_counter() - s)
    return t, out


def main(binary):
    rng = np.random.default_rng(42)
    # A mean-reverting log price (Ornstein-Uhlenbeck around 100, 1% daily moves): a plain
    # random walk over a million days wanders over six orders of magnitude, where TA-Lib's own
    # running sums lose every digit of the Bollinger deviation.
    shocks = rng.normal(0, 0.01, N)
    logp = np.empty(N)
    logp[0] = 0.0
    for i in range(1, N):
        logp[i] = 0.999 * logp[i - 1] + shocks[i]
    close = 100 * np.exp(logp)
    open_ = close * np.exp(rng.normal(0, 0.002, N))
    high = np.maximum(open_, close) * (1 + np.abs(rng.normal(0, 0.003, N)))
    low = np.minimum(open_, close) * (1 - np.abs(rng.normal(0, 0.003, N)))
    volume = rng.integers(1_000, 1_000_000, N).astype(float)
    dates = pd.bdate_range("1900-01-01", periods=N).strftime("%Y-%m-%d")
    with tempfile.TemporaryDirectory() as tmp:
        big = pathlib.Path(tmp) / "bars.csv"
        df = pd.DataFrame({"date": dates, "open": open_, "high": high, "low": low, "close": close, "volume": volume})
        df.to_csv(big, index=False, float_format="%.17g")
        # Read back what the Rust side reads, so both compute on identical doubles.
        df = pd.read_csv(big)
        o, h, l, c, v = (df[k].to_numpy(dtype=float) for k in ("open", "high", "low", "close", "volume"))
        sp = pd.read_csv(ROOT / "examples/data/sp500_daily.csv").tail(2520)
        ten = pathlib.Path(tmp) / "ten_years.csv"
        sp.to_csv(ten, index=False)
        ours = json.loads(subprocess.check_output([binary, str(big), str(ten), str(REPEATS)]))

    talib_fns = {
        "sma_20": lambda: talib.SMA(c, 20),
        "ema_12": lambda: talib.EMA(c, 12),
        "rsi_14": lambda: talib.RSI(c, 14),
        "macd": lambda: talib.MACD(c, 12, 26, 9)[0],
        "bb_upper": lambda: talib.BBANDS(c, 20, 2.0, 2.0, 0)[0],
        "mom_10": lambda: talib.MOM(c, 10),
        "roc_10": lambda: talib.ROC(c, 10),
        "atr_14": lambda: talib.ATR(h, l, c, 14),
        "obv": lambda: talib.OBV(c, v),
    }
    print(f"{'indicator':<10} {'qts ms':>9} {'TA-Lib ms':>10} {'TA-Lib/qts':>11}  values")
    for name, fn in talib_fns.items():
        secs, out = best(fn)
        q = ours["kernels"][name]
        ref = float(np.nansum(out))
        same = abs(q["checksum"] - ref) <= 1e-9 * max(abs(ref), 1.0)
        print(f"{name:<10} {q['secs'] * 1e3:>9.3f} {secs * 1e3:>10.3f} {secs / q['secs']:>10.2f}x  {'same' if same else 'DIFFERENT'}")
        if not same:
            sys.exit(f"{name}: qts checksum {q['checksum']!r} != TA-Lib {ref!r}")
    d = ours["default_set"]
    print(f"default feature set, {d['bars']} bars (10 years), {d['columns']} columns: {d['secs'] * 1e6:.0f} us")


if __name__ == "__main__":
    main(sys.argv[1])
