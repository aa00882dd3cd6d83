"""Writes the TA-Lib golden files that crates/data/tests/talib_golden.rs compares against.

Run:  "$(scripts/golden/setup_venv.sh)" scripts/golden/talib_features.py

For each bundled daily history it writes crates/data/tests/golden/talib_<name>.csv: `date`,
then one column per indicator. Columns for the default feature set carry qts's public names
(sma_20, macd, bb_pct_b, ...); columns for other parameters add them (sma_7, macd_5_35_5,
bb_upper_10_1.5, ...). Values are written with 17 significant digits; TA-Lib's NaN is empty.
bb_pct_b / bb_width are derived from TA-Lib's bands; volatility and log returns, which TA-Lib
lacks, come from numpy/pandas (rolling std with ddof=1).
"""

import math
import pathlib

import numpy as np
import pandas as pd
import talib

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"
OUT = ROOT / "crates" / "data" / "tests" / "golden"


def columns(df):
    o, h, l, c, v = (df[k].to_numpy(dtype=float) for k in ("open", "high", "low", "close", "volume"))
    out = {}
    for p in (5, 7, 20, 50, 200):
        out[f"sma_{p}"] = talib.SMA(c, p)
    for p in (5, 12, 26, 50):
        out[f"ema_{p}"] = talib.EMA(c, p)
    for p in (7, 14, 21):
        out[f"rsi_{p}"] = talib.RSI(c, p)
    for (f, s, g), suffix in (((12, 26, 9), ""), ((5, 35, 5), "_5_35_5"), ((3, 10, 16), "_3_10_16")):
        line, signal, hist = talib.MACD(c, f, s, g)
        out[f"macd{suffix}"], out[f"macd_signal{suffix}"], out[f"macd_hist{suffix}"] = line, signal, hist
    for (p, k), suffix in (((20, 2.0), ""), ((10, 1.5), "_10_1.5")):
        up, mid, low = talib.BBANDS(c, p, k, k, 0)
        out[f"bb_upper{suffix}"], out[f"bb_middle{suffix}"], out[f"bb_lower{suffix}"] = up, mid, low
        out[f"bb_pct_b{suffix}"] = (c - low) / (up - low)
        out[f"bb_width{suffix}"] = (up - low) / mid
    for p in (1, 10, 25):
        out[f"mom_{p}"] = talib.MOM(c, p)
        out[f"roc_{p}"] = talib.ROC(c, p)
    for p in (5, 14, 30):
        out[f"atr_{p}"] = talib.ATR(h, l, c, p)
    out["obv"] = talib.OBV(c, v)
    logret = np.log(pd.Series(c) / pd.Series(c).shift(1))
    for w in (10, 20):
        daily = logret.rolling(w).std(ddof=1).to_numpy()
        out[f"volatility_{w}"] = daily
        out[f"volatility_ann_{w}"] = daily * math.sqrt(252)
    for hz in (1, 5, 20):
        out[f"log_return_{hz}"] = np.log(pd.Series(c) / pd.Series(c).shift(hz)).to_numpy()
    return out


def fmt(x):
    return "" if not np.isfinite(x) else repr(float(x))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for name in ("goog_daily", "sp500_daily"):
        df = pd.read_csv(DATA / f"{name}.csv")
        cols = columns(df)
        path = OUT / f"talib_{name}.csv"
        with open(path, "w") as f:
            f.write("date," + ",".join(cols) + "\n")
            for i, d in enumerate(df["date"]):
                f.write(d + "," + ",".join(fmt(cols[k][i]) for k in cols) + "\n")
        print(f"{path.relative_to(ROOT)}: {len(df)} rows, {len(cols)} columns (TA-Lib {talib.__version__})")


if __name__ == "__main__":
    main()
