"""Writes the fixture that crates/stats/tests/overfitting_golden.rs checks qts's
Diebold-Mariano test against (`qts models compare`, `qts experiments compare`):

  crates/stats/tests/golden/diebold_mariano.json

Run:  "$(scripts/golden/setup_venv.sh)" scripts/golden/diebold_mariano.py

Written from the papers with numpy and scipy, not from qts's code: Diebold & Mariano,
"Comparing Predictive Accuracy" (1995): d_t = L(e_a,t) - L(e_b,t), the long-run variance of
the mean from the autocovariances gamma_k = (1/T) sum_{t>k} (d_t - dbar)(d_{t-k} - dbar) for
k < h, DM = dbar / sqrt((gamma_0 + 2 sum_{k=1}^{h-1} gamma_k) / T); Harvey, Leybourne &
Newbold, "Testing the equality of prediction mean squared errors" (1997), eq. 9:
DM* = DM sqrt((T + 1 - 2h + h(h-1)/T) / T), p = 2 (1 - F_t(T-1)(|DM*|)).

The forecasts: each day's GOOG close-to-close return from day 21 on, forecast (a) as 0 and
(b) as the mean of the 20 returns before it; the errors are the return minus the forecast.
"""

import json
import pathlib

import numpy as np
import pandas as pd
from scipy import stats

ROOT = pathlib.Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "crates" / "stats" / "tests" / "golden"


def dm(a, b, h, loss):
    score = np.square if loss == "squared" else np.abs
    d = score(a) - score(b)
    t = len(d)
    dbar = d.mean()
    gamma = [np.sum((d[k:] - dbar) * (d[:t - k] - dbar)) / t for k in range(h)]
    var = (gamma[0] + 2 * sum(gamma[1:])) / t
    stat = dbar / np.sqrt(var)
    corrected = stat * np.sqrt((t + 1 - 2 * h + h * (h - 1) / t) / t)
    return {"loss": loss, "horizon": h, "periods": t, "mean_loss_a": score(a).mean(),
            "mean_loss_b": score(b).mean(), "statistic": stat, "corrected": corrected,
            "p_value": 2 * stats.t.sf(abs(corrected), df=t - 1)}


def main():
    close = pd.read_csv(ROOT / "examples/data/goog_daily.csv")["close"].to_numpy()
    r = close[1:] / close[:-1] - 1
    target = r[20:]
    trailing = np.array([r[i - 20:i].mean() for i in range(20, len(r))])
    a, b = target - 0.0, target - trailing
    cases = [dm(a, b, 1, "squared"), dm(a, b, 1, "absolute"), dm(a, b, 5, "squared")]
    (GOLDEN / "diebold_mariano.json").write_text(json.dumps({"cases": cases}, indent=1) + "\n")
    print(json.dumps(cases, indent=1))


if __name__ == "__main__":
    main()
