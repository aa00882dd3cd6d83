"""An equal-weight top-k portfolio of a universe through vectorbt, and the forecasts' rank IC
through scipy: the references crates/backtest/tests/vectorbt_rank_golden.rs holds qts to.

Run:  "$(scripts/golden/setup_venv.sh)" scripts/golden/vectorbt_rank.py

The universe: seven of the 20 stocks of examples/data/stocks20_daily_adjclose.csv, 2010-2014,
one listed late (AMD from 2011-03-01) and two with days cut out of their history, on the union
of their dates. The forecasts: each symbol's 5-bar log return over the bars it has (as
default_rules.py's rank cases). The weights, written here from the rule (not from qts): at each
close but the last, the `top` names with a bar and a forecast, best first (ties by the order of
the universe), each 1/top, scaled together to the gross limit of 0.95; every other name with a
bar 0; a name without a bar no order. vectorbt trades them with `Portfolio.from_orders`:
`size_type="targetpercent"` at the close, fractional shares, one commission rate (`fees`),
grouped with cash sharing, sells first (`call_seq="auto"`). qts trades the same universe with
`--strategy rank --param top=K` under `fill_price: close` with the same rate and gross limit.

The rank IC: per date, scipy's `spearmanr` between the forecasts at that close and the next
bar's returns of the names with a bar at both (at least 3 names), then their mean, standard
deviation (n − 1), t-statistic (mean / (std / √n)) and ICIR (mean / std).
"""

import gzip
import json
import math
import pathlib
import sys
import warnings

import numpy as np
import pandas as pd
import vectorbt as vbt
from scipy import stats

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import default_rules as dr  # noqa: E402  (the same loader, cuts and forecasts)

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "crates" / "backtest" / "tests" / "golden" / "vectorbt_rank.json.gz"

SYMBOLS = ["JNJ", "AMD", "KO", "GE", "XOM", "MSFT", "WMT"]
CUTS = {s: {"from": "2010-01-04", "to": "2014-12-31"} for s in SYMBOLS}
CUTS["AMD"] = {"from": "2011-03-01", "to": "2014-12-31"}
CUTS["GE"]["drop"] = ["2012-05-14", "2012-05-15"]
CUTS["XOM"]["drop"] = ["2013-07-01"]
TOP = 3
GROSS = 0.95
RATE = 0.001
CASH = 100000.0


def main():
    warnings.simplefilter("ignore")
    frames = dr.union_dates([dr.cut(f, CUTS[s]) for f, s in
                             zip(dr.load_symbols(["stocks20_daily_adjclose.csv"], SYMBOLS), SYMBOLS)])
    dates = pd.DatetimeIndex(frames[0]["date"])
    close = np.column_stack([f["close"].to_numpy(float) for f in frames])
    n, k = close.shape
    forecasts = [dr.rank_forecasts(close[:, s]) for s in range(k)]

    target = np.full((n, k), np.nan)
    for t in range(n - 1):
        ranked = sorted((s for s in range(k) if not math.isnan(close[t, s]) and forecasts[s][t] is not None),
                        key=lambda s: (-forecasts[s][t][0], s))
        chosen = ranked[:TOP]
        scale = min(1.0, GROSS / (len(chosen) / TOP)) if chosen else 1.0
        for s in range(k):
            if not math.isnan(close[t, s]):
                target[t, s] = scale / TOP if s in chosen else 0.0
    price = pd.DataFrame(close, index=dates, columns=SYMBOLS)
    pf = vbt.Portfolio.from_orders(
        close=price.ffill(), size=pd.DataFrame(target, index=dates, columns=SYMBOLS),
        price=price, size_type="targetpercent", fees=RATE, init_cash=CASH,
        group_by=True, cash_sharing=True, call_seq="auto", freq="1D",
    )
    value = pf.value().to_numpy()
    orders = pf.orders.records_readable
    fills = [{"bar": int(dates.get_loc(r["Timestamp"])), "symbol": r["Column"],
              "size": float(r["Size"]) * (1 if r["Side"] == "Buy" else -1), "price": float(r["Price"]),
              "commission": float(r["Fees"])} for _, r in orders.iterrows()]
    fills.sort(key=lambda f: (f["bar"], SYMBOLS.index(f["symbol"])))

    ic = []
    for t in range(n - 1):
        names = [s for s in range(k) if forecasts[s][t] is not None
                 and not math.isnan(close[t, s]) and not math.isnan(close[t + 1, s])]
        if len(names) < 3:
            continue
        f = [forecasts[s][t][0] for s in names]
        r = [close[t + 1, s] / close[t, s] - 1 for s in names]
        rho = stats.spearmanr(f, r).statistic
        if math.isfinite(rho):
            ic.append({"date": str(dates[t].date()), "ic": float(rho)})
    x = np.array([v["ic"] for v in ic])
    summary = {"mean": float(x.mean()), "std": float(x.std(ddof=1)),
               "t_stat": float(x.mean() / (x.std(ddof=1) / math.sqrt(len(x)))),
               "icir": float(x.mean() / x.std(ddof=1)), "dates": len(x)}

    doc = {
        "note": __doc__.split("\n\n")[1].replace("\n", " "),
        "data": ["stocks20_daily_adjclose.csv"], "symbols": SYMBOLS, "cuts": CUTS,
        "strategy": {"name": "rank", "top": TOP},
        "sets": ["backtest.execution.fill_price=close", f"backtest.costs.commission_rate={RATE}",
                 "backtest.costs.commission_model=percent", "backtest.costs.slippage_model=none",
                 "backtest.costs.max_volume_fraction=1.0", f"backtest.initial_capital={CASH}",
                 "backtest.risk.stop_loss.enabled=false", "backtest.risk.circuit_breaker.enabled=false",
                 "trading.rebalance=daily", "trading.fractional_shares=true",
                 f"risk.max_position_fraction={GROSS}", f"risk.max_gross_exposure={GROSS}"],
        "predictions": [
            {"date": str(dates[t].date()), "symbol": SYMBOLS[s], "prediction": f[0], "lower": f[1], "upper": f[2]}
            for t in range(n) for s in range(k) if (f := forecasts[s][t]) is not None
        ],
        "value": [float(v) for v in value],
        "fills": fills,
        "rank_ic": ic,
        "rank_ic_summary": summary,
        "versions": {"vectorbt": vbt.__version__, "scipy": __import__("scipy").__version__},
    }
    text = json.dumps(doc, separators=(",", ":")).encode()
    with open(OUT, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(text)
    print(f"{len(fills)} fills, final value {value[-1]:.2f}, rank IC mean {summary['mean']:.4f} over "
          f"{summary['dates']} dates (t {summary['t_stat']:.2f})")


if __name__ == "__main__":
    main()
