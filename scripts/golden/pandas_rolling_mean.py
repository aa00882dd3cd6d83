"""Writes crates/data/tests/golden/pandas_rolling_mean.json, which
crates/data/tests/pandas_rolling_mean.rs compares qts's running SMA (the SMA crossover's, in
`qts_data::features::running`) against bit for bit.

Run:  "$(scripts/golden/setup_venv.sh)" scripts/golden/pandas_rolling_mean.py

Why bit for bit: a crossover compares two averages, and where they tie exactly (GOOG's 5- and
25-day averages are both 489.242 on 2010-08-17) the last bit decides whether the strategy
trades. backtesting.py's SmaCross computes its averages with pandas' `rolling(n).mean()`, so
qts computes them as pandas does. Series: the bundled GOOG and S&P 500 closes, windows 5, 10,
20, 25, 50 and 200. For each, the number of values after the warm-up and the SHA-256 of their
IEEE-754 bits (little-endian, in order), so the file stays small and the check exact; and
the values around the GOOG tie in full.
"""

import hashlib
import json
import pathlib
import struct

import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"
OUT = ROOT / "crates" / "data" / "tests" / "golden" / "pandas_rolling_mean.json"
WINDOWS = [5, 10, 20, 25, 50, 200]


def main():
    series = []
    for name in ["goog_daily", "sp500_daily"]:
        frame = pd.read_csv(DATA / f"{name}.csv")
        close = frame["close"].astype(float)
        for w in WINDOWS:
            mean = close.rolling(w).mean().to_numpy()
            kept = mean[w - 1:]
            assert not any(v != v for v in kept)
            digest = hashlib.sha256(b"".join(struct.pack("<d", v) for v in kept)).hexdigest()
            series.append({"series": name, "window": w, "values": len(kept), "sha256": digest})
    goog = pd.read_csv(DATA / "goog_daily.csv")
    t = int(goog.index[goog["date"] == "2010-08-17"][0])
    tie = {
        "date": "2010-08-17",
        "t": t,
        "sma_5": [float(v) for v in goog["close"].rolling(5).mean().iloc[t - 1:t + 2]],
        "sma_25": [float(v) for v in goog["close"].rolling(25).mean().iloc[t - 1:t + 2]],
    }
    OUT.write_text(json.dumps({"pandas": pd.__version__, "series": series, "goog_tie": tie}, indent=1) + "\n")
    print(f"{len(series)} series, pandas {pd.__version__}; tie {tie}")


if __name__ == "__main__":
    main()
