"""Writes crates/research/tests/golden/backtesting_py_optimize.json: backtesting.py's
`Backtest.optimize` over SmaCross grids, which crates/backtest/tests/optimize_golden.rs
reproduces with `qts_backtest::optimize` under `--execution backtesting-py`.

Run:  "$(scripts/golden/setup_venv.sh)" scripts/golden/backtesting_py_optimize.py

Cases: GOOG daily, fast (n1) 5..55 step 5 x slow (n2) 10..190 step 10, cash 10,000,
commission 0.002 (the issue's grid); GOOG, n1 in 2..20 x n2 in 5,10,..,60, cash 25,000,
commission 0.001; S&P 500 1999-2018, n1 10..50 step 10 x n2 50..250 step 50, cash 1,000,000,
commission 0.0005. Each maximises 'Equity Final [$]' with constraint n1 < n2 and records the
best parameters, their final equity and the number of admissible combinations.
"""

import json
import pathlib
import warnings

import pandas as pd
from backtesting import Backtest

from backtesting_py_smacross import SmaCross, load

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "crates" / "research" / "tests" / "golden" / "backtesting_py_optimize.json"

CASES = [
    ("goog_issue_grid", "goog_daily", range(5, 60, 5), range(10, 200, 10), 10_000, 0.002),
    ("goog_fine_grid", "goog_daily", range(2, 21), range(5, 65, 5), 25_000, 0.001),
    ("sp500_coarse_grid", "sp500_daily", range(10, 60, 10), range(50, 300, 50), 1_000_000, 0.0005),
]


def main():
    out = {}
    for case, data, n1, n2, cash, commission in CASES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            bt = Backtest(load(data), SmaCross, cash=cash, commission=commission)
            stats, heatmap = bt.optimize(n1=n1, n2=n2, maximize="Equity Final [$]",
                                         constraint=lambda p: p.n1 < p.n2, return_heatmap=True)
        out[case] = {
            "data": f"{data}.csv",
            "fast": f"{n1.start}:{n1.stop}:{n1.step}",
            "slow": f"{n2.start}:{n2.stop}:{n2.step}",
            "cash": cash,
            "commission": commission,
            "best_fast": int(stats._strategy.n1),
            "best_slow": int(stats._strategy.n2),
            "final_equity": float(stats["Equity Final [$]"]),
            "combinations": int(heatmap.size),
        }
    OUT.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
