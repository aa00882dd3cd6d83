"""Writes backtesting.py's results for its quick-start SmaCross, which
crates/backtest/tests/backtesting_py_golden.rs reproduces with `--execution backtesting-py`.

Run:  "$(scripts/golden/setup_venv.sh)" scripts/golden/backtesting_py_smacross.py

Cases (each writes <case>_trades.csv, <case>_equity.csv and <case>_stats.json into
crates/backtest/tests/golden/):
  goog_10_20   the quick-start: GOOG daily, SmaCross(10, 20), cash 10,000, commission 0.002
  goog_5_30    other parameters: SmaCross(5, 30), cash 25,000, commission 0.001
  goog_5_25    an exact tie: GOOG's 5- and 25-day averages are both 489.242 on 2010-08-17, so
               whether 2010-08-18 is a crossover rests on the last bit of each average
               (pandas' rolling mean, which qts's crossover reproduces bit for bit)
  sp500_20_50  other data: S&P 500 daily 1999-2018, SmaCross(20, 50), cash 1,000,000, commission 0.0005
"""

import json
import pathlib
import warnings

import pandas as pd
from backtesting import Backtest, Strategy
from backtesting.lib import crossover

ROOT = pathlib.Path(__file__).resolve().parents[2]
OUT = ROOT / "crates" / "backtest" / "tests" / "golden"


def SMA(values, n):
    return pd.Series(values).rolling(n).mean()


class SmaCross(Strategy):
    n1 = 10
    n2 = 20

    def init(self):
        close = self.data.Close
        self.sma1 = self.I(SMA, close, self.n1)
        self.sma2 = self.I(SMA, close, self.n2)

    def next(self):
        if crossover(self.sma1, self.sma2):
            self.position.close()
            self.buy()
        elif crossover(self.sma2, self.sma1):
            self.position.close()
            self.sell()


def load(name):
    df = pd.read_csv(ROOT / "examples" / "data" / f"{name}.csv", parse_dates=["date"], index_col="date")
    return df.rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]]


def run(case, data, n1, n2, cash, commission):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stats = Backtest(load(data), SmaCross, cash=cash, commission=commission).run(n1=n1, n2=n2)
    t = stats["_trades"]
    trades = pd.DataFrame({
        "entry_bar": t["EntryBar"], "exit_bar": t["ExitBar"], "size": t["Size"],
        "entry_price": t["EntryPrice"], "exit_price": t["ExitPrice"], "pnl": t["PnL"],
        "return": t["ReturnPct"], "commission": t["Commission"],
    })
    trades.to_csv(OUT / f"{case}_trades.csv", index=False, float_format="%.17g")
    eq = stats["_equity_curve"]
    pd.DataFrame({"equity": eq["Equity"].values}).to_csv(OUT / f"{case}_equity.csv", index=False, float_format="%.17g")
    keep = {
        "final_equity": stats["Equity Final [$]"],
        "total_return": stats["Return [%]"] / 100,
        "buy_and_hold_return": stats["Buy & Hold Return [%]"] / 100,
        "max_drawdown": stats["Max. Drawdown [%]"] / 100,
        "num_trades": int(stats["# Trades"]),
        "win_rate": stats["Win Rate [%]"] / 100,
        "best_trade": stats["Best Trade [%]"] / 100,
        "worst_trade": stats["Worst Trade [%]"] / 100,
        "avg_trade": stats["Avg. Trade [%]"] / 100,
        "profit_factor": stats["Profit Factor"],
        "expectancy": stats["Expectancy [%]"] / 100,
        "sqn": stats["SQN"],
        "kelly_criterion": stats["Kelly Criterion"],
        "exposure_time": stats["Exposure Time [%]"] / 100,
        "total_commission": stats["Commissions [$]"],
    }
    (OUT / f"{case}_stats.json").write_text(json.dumps({k: float(v) for k, v in keep.items()}, indent=1) + "\n")
    print(f"{case}: {len(trades)} trades, final equity {stats['Equity Final [$]']:.2f}")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    run("goog_10_20", "goog_daily", 10, 20, 10_000, 0.002)
    run("goog_5_30", "goog_daily", 5, 30, 25_000, 0.001)
    run("goog_5_25", "goog_daily", 5, 25, 25_000, 0.001)
    run("sp500_20_50", "sp500_daily", 20, 50, 1_000_000, 0.0005)


if __name__ == "__main__":
    main()
