"""Writes the fixtures that crates/stats/tests/overfitting_golden.rs compares qts's
overfitting statistics against:

  crates/stats/tests/golden/overfitting.json          expected values
  crates/stats/tests/golden/trials_goog_sma.csv.gz    trial returns: SMA crossovers on GOOG
  crates/stats/tests/golden/trials_noise_edge.csv.gz  trial returns: noise, one with an edge

Run:  "$(scripts/golden/setup_venv.sh)" scripts/golden/overfitting.py

An independent implementation written from the papers, with numpy and scipy only (not from
qts's code): Bailey & Lopez de Prado, "The Sharpe Ratio Efficient Frontier" (2012) for PSR
(eq. 11) and MinTRL (eq. 14); "The Deflated Sharpe Ratio" (2014) for SR0 (eq. 2) and DSR
(eq. 3); Bailey, Borwein, Lopez de Prado & Zhu, "The Probability of Backtest Overfitting"
(2015), section 2, for CSCV. Sharpe ratios are per period with ddof=1; skewness and kurtosis
are scipy's skew(bias=True) and kurtosis(fisher=False, bias=True). CSCV computes each
combination's Sharpe ratios directly on the rows of its blocks (qts sums blocks instead), ranks
with scipy.stats.rankdata(method="average") and takes the in-sample best with numpy.argmax.
"""

import gzip
import itertools
import json
import pathlib

import numpy as np
import pandas as pd
from scipy import stats

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"
GOLDEN = ROOT / "crates" / "stats" / "tests" / "golden"
EULER = 0.5772156649015329


def sharpe(r):
    return r.mean(axis=0) / r.std(axis=0, ddof=1)


def psr(sr, sr_star, t, g3, g4):
    return stats.norm.cdf((sr - sr_star) * np.sqrt(t - 1) / np.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2))


def moments(r):
    return stats.skew(r, bias=True), stats.kurtosis(r, fisher=False, bias=True)


def min_trl(r, sr_star=0.0, alpha=0.95):
    sr = sharpe(r)
    g3, g4 = moments(r)
    return 1 + (1 - g3 * sr + (g4 - 1) / 4 * sr**2) * (stats.norm.ppf(alpha) / (sr - sr_star)) ** 2


def dsr(m):
    n, t = m.shape[1], m.shape[0]
    srs = sharpe(m)
    best = int(np.argmax(srs))
    v = np.var(srs, ddof=1)
    sr0 = np.sqrt(v) * ((1 - EULER) * stats.norm.ppf(1 - 1 / n) + EULER * stats.norm.ppf(1 - 1 / (n * np.e)))
    g3, g4 = moments(m[:, best])
    return {
        "deflated_sharpe_ratio": float(psr(srs[best], sr0, t, g3, g4)),
        "best_trial": best,
        "best_sharpe": float(srs[best]),
        "expected_max_sharpe": float(sr0),
        "sharpe_variance": float(v),
    }


def cscv(m, splits):
    t, n = m.shape
    block = t // splits
    m = m[t - block * splits:]
    blocks = [m[i * block:(i + 1) * block] for i in range(splits)]
    logits, losses = [], 0
    for is_idx in itertools.combinations(range(splits), splits // 2):
        oos_idx = [b for b in range(splits) if b not in is_idx]
        ins = np.concatenate([blocks[b] for b in is_idx])
        oos = np.concatenate([blocks[b] for b in oos_idx])
        best = int(np.argmax(sharpe(ins)))
        rank = stats.rankdata(sharpe(oos), method="average")[best]
        w = rank / (n + 1)
        logits.append(float(np.log(w / (1 - w))))
        losses += oos[:, best].mean() < 0
    logits = np.array(logits)
    return {
        "probability_of_backtest_overfitting": float((logits <= 0).mean()),
        "probability_of_oos_loss": float(losses / len(logits)),
        "combinations": len(logits),
        "rows_used": block * splits,
        "logit_mean": float(logits.mean()),
        "logit_min": float(logits.min()),
        "logit_max": float(logits.max()),
    }


def write_matrix(path, dates, names, m):
    df = pd.DataFrame(m, columns=names)
    df.insert(0, "date", dates)
    with gzip.open(path, "wt", newline="") as f:
        # repr-exact floats, so both sides read the same numbers.
        df.to_csv(f, index=False, float_format="%.17g")


def main():
    goog = pd.read_csv(DATA / "goog_daily.csv")
    spx = pd.read_csv(DATA / "sp500_daily.csv")
    out = {"returns": {}, "matrices": {}}
    for name, df in [("goog", goog), ("sp500", spx)]:
        r = df.close.to_numpy()[1:] / df.close.to_numpy()[:-1] - 1
        g3, g4 = moments(r)
        out["returns"][name] = {
            "rows": len(r),
            "sharpe": float(sharpe(r)),
            "probabilistic_sharpe_ratio": float(psr(sharpe(r), 0.0, len(r), g3, g4)),
            "min_track_record_length": float(min_trl(r)),
            "skew": float(g3),
            "kurtosis": float(g4),
        }

    # SMA crossovers on GOOG: long when the fast average is above the slow one at the previous
    # close, short below; returns close to close, no costs.
    close = goog.close.to_numpy()
    r = close[1:] / close[:-1] - 1
    pairs = [(f, s) for f in (5, 10, 20, 40) for s in (30, 50, 100, 150, 200) if f < s]
    cols, names = [], []
    for f, s in pairs:
        fast = pd.Series(close).rolling(f).mean().to_numpy()
        slow = pd.Series(close).rolling(s).mean().to_numpy()
        pos = np.where(fast > slow, 1.0, -1.0)[:-1]
        cols.append(pos[199:] * r[199:])
        names.append(f"fast={f};slow={s}")
    m = np.column_stack(cols)
    dates = goog.date.to_numpy()[1:][199:]
    write_matrix(GOLDEN / "trials_goog_sma.csv.gz", dates, names, m)
    res = dsr(m)
    res["best_trial"] = names[res["best_trial"]]
    res.update(cscv(m, 16))
    res.update({"trials": m.shape[1], "rows": m.shape[0], "splits": 16})
    out["matrices"]["trials_goog_sma.csv.gz"] = res

    # 19 trials of seeded noise and one with a steady edge, over 1,000 days; 10 splits.
    rng = np.random.default_rng(20141201)
    m = rng.normal(0.0, 0.01, size=(1000, 20))
    m[:, 7] += 0.004
    names = [f"trial{i}" for i in range(20)]
    dates = pd.bdate_range("2015-01-01", periods=1000).strftime("%Y-%m-%d")
    write_matrix(GOLDEN / "trials_noise_edge.csv.gz", dates, names, m)
    res = dsr(m)
    res["best_trial"] = names[res["best_trial"]]
    res.update(cscv(m, 10))
    res.update({"trials": m.shape[1], "rows": m.shape[0], "splits": 10})
    out["matrices"]["trials_noise_edge.csv.gz"] = res

    (GOLDEN / "overfitting.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
