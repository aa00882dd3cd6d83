"""Writes crates/stats/tests/golden/empyrical_metrics.json, which
crates/stats/tests/empyrical_golden.rs compares qts's return metrics against.

Run:  "$(scripts/golden/setup_venv.sh)" scripts/golden/empyrical_metrics.py

Series: daily simple returns of the bundled GOOG closes (2004-08-19 .. 2013-03-01), with the
S&P 500 closes of the same dates as the benchmark, for two annual risk-free rates (0 and 2%,
turned into a per-day rate as (1 + R)^(1/252) - 1, as qts does). Also the S&P 500 alone over
its whole 1999-2018 history. skew/kurtosis are pandas' (bias-corrected, excess kurtosis);
ulcer_index, information_ratio, best_day, worst_day and average_drawdown (the mean depth of
quantstats' drawdown periods) are quantstats' (empyrical has none of them);
max_drawdown_duration, in bars, is counted here with pandas (quantstats counts calendar days).
"""

import json
import pathlib

import empyrical as ep
import pandas as pd
import quantstats as qs

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"
OUT = ROOT / "crates" / "stats" / "tests" / "golden" / "empyrical_metrics.json"


def metrics(r, b, rf_annual):
    rf = (1 + rf_annual) ** (1 / 252) - 1
    out = {
        "total_return": ep.cum_returns_final(r),
        "annual_return": ep.annual_return(r),
        "cagr": ep.cagr(r),
        "annual_volatility": ep.annual_volatility(r),
        "sharpe_ratio": ep.sharpe_ratio(r, risk_free=rf),
        "sortino_ratio": ep.sortino_ratio(r, required_return=rf),
        "downside_risk": ep.downside_risk(r, required_return=rf),
        "calmar_ratio": ep.calmar_ratio(r),
        "omega_ratio": ep.omega_ratio(r, risk_free=rf),
        "max_drawdown": ep.max_drawdown(r),
        "stability_of_timeseries": ep.stability_of_timeseries(r),
        "tail_ratio": ep.tail_ratio(r),
        "value_at_risk": ep.value_at_risk(r, cutoff=0.05),
        "conditional_value_at_risk": ep.conditional_value_at_risk(r, cutoff=0.05),
        "skew": r.skew(),
        "kurtosis": r.kurt(),
    }
    # Metrics empyrical lacks, from quantstats (on a date-indexed series, as it expects).
    rs = r.copy()
    rs.index = pd.to_datetime(rs.index)
    out["ulcer_index"] = qs.stats.ulcer_index(rs)
    out["best_day"] = qs.stats.best(rs)
    out["worst_day"] = qs.stats.worst(rs)
    # Distinct drawdowns as quantstats finds them (percent in its table).
    details = qs.stats.drawdown_details(qs.stats.to_drawdown_series(rs))
    out["average_drawdown"] = details["max drawdown"].mean() / 100
    # Bars below a previous peak, the longest run (quantstats counts calendar days instead):
    # on the equity curve from 1 before the first return.
    equity = pd.concat([pd.Series([1.0]), (1 + r.reset_index(drop=True)).cumprod()], ignore_index=True)
    under = equity < equity.cummax()
    runs = under.groupby((~under).cumsum()).sum()
    out["max_drawdown_duration"] = int(runs.max())
    if b is not None:
        out["alpha"] = ep.alpha(r, b, risk_free=rf)
        out["beta"] = ep.beta(r, b, risk_free=rf)
        bs = b.copy()
        bs.index = rs.index
        out["information_ratio"] = qs.stats.information_ratio(rs, bs)
    return {k: float(v) for k, v in out.items()}


def main():
    goog = pd.read_csv(DATA / "goog_daily.csv", index_col="date")["close"]
    spx = pd.read_csv(DATA / "sp500_daily.csv", index_col="date")["close"]
    r = goog.pct_change().dropna()
    b = spx.pct_change().reindex(r.index)
    assert not b.isna().any(), "benchmark dates must cover the strategy's"
    cases = {
        "goog_vs_sp500_rf0": metrics(r, b, 0.0),
        "goog_vs_sp500_rf2": metrics(r, b, 0.02),
        "sp500_rf0": metrics(spx.pct_change().dropna(), None, 0.0),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"empyrical": ep.__version__, "quantstats": qs.__version__, "cases": cases}, indent=1) + "\n")
    print(f"{OUT.relative_to(ROOT)}: {len(cases)} cases (empyrical {ep.__version__})")


if __name__ == "__main__":
    main()
