"""Writes the fixture that crates/stats/tests/overfitting_golden.rs checks qts's test of a
difference of two Sharpe ratios against (`qts compare`, `qts experiments compare|best`):

  crates/stats/tests/golden/sharpe_difference.json

Run:  "$(scripts/golden/setup_venv.sh)" scripts/golden/sharpe_difference.py

Written from the papers with numpy and scipy, not from qts's code: Jobson & Korkie (1981) with
Memmel's correction ("Performance hypothesis testing with the Sharpe ratio", Finance Letters,
2003, eq. 2): theta = [2(1 - rho) + (SR_a^2 + SR_b^2 - 2 SR_a SR_b rho^2) / 2] / T,
z = (SR_a - SR_b) / sqrt(theta), p = 2 (1 - Phi(|z|)), with per-period Sharpe ratios (ddof=1)
and the Pearson correlation of the paired returns. Cases: the daily close-to-close returns of
GOOG against the S&P 500 on the days both have, over the whole overlap and over 2010-2012.
"""

import json
import pathlib

import numpy as np
import pandas as pd
from scipy import stats

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"
GOLDEN = ROOT / "crates" / "stats" / "tests" / "golden"


def returns(name):
    df = pd.read_csv(DATA / name, parse_dates=["date"]).set_index("date")
    return df["close"].pct_change().dropna()


def jkm(a, b):
    t = len(a)
    sa = a.mean() / a.std(ddof=1)
    sb = b.mean() / b.std(ddof=1)
    rho = np.corrcoef(a, b)[0, 1]
    theta = (2 * (1 - rho) + 0.5 * (sa**2 + sb**2 - 2 * sa * sb * rho**2)) / t
    z = (sa - sb) / np.sqrt(theta)
    return {"sharpe_a": sa, "sharpe_b": sb, "correlation": rho, "periods": t, "z": z,
            "p_value": 2 * stats.norm.sf(abs(z))}


def main():
    goog, spx = returns("goog_daily.csv"), returns("sp500_daily.csv")
    both = pd.concat({"a": goog, "b": spx}, axis=1, join="inner")
    cases = []
    for name, frame in [("goog_vs_sp500", both),
                        ("goog_vs_sp500_2010_2012", both.loc["2010-01-01":"2012-12-31"])]:
        out = jkm(frame["a"].to_numpy(), frame["b"].to_numpy())
        out.update(name=name, start=str(frame.index[0].date()), end=str(frame.index[-1].date()))
        cases.append(out)
    (GOLDEN / "sharpe_difference.json").write_text(json.dumps({"cases": cases}, indent=1) + "\n")
    print(json.dumps(cases, indent=1))


if __name__ == "__main__":
    main()
