"""qts's backtester against backtesting.py and vectorbt, on the same data, in one run.

    bench/backtest.sh

1. One SmaCross(10, 20) backtest with the full statistics on the last 10 years (2,520 bars)
   of the bundled S&P 500 history: backtesting.py's `Backtest.run()` against qts with
   backtesting.py's execution rules (cash 10,000, commission 0.002); both final equities must
   agree to 1e-6.
2. A grid of 10,000 SMA pairs (fast 2..101 x slow fast+1..fast+100) on the same bars:
   vectorbt's `Portfolio.from_signals` (crossovers as long/short entries, filled at the next
   open, all in, fees 0.002) against qts's parallel grid. vectorbt allows fractional shares
   and qts's preset trades whole ones, so the grids' returns agree closely, not exactly; the
   best total return of each is printed.
3. The whole `qts backtest` process (start, configuration, read, validate, backtest, JSON) on
   the full 5,031-bar S&P 500 sample, against backtesting.py's in-process `run()` on the same
   bars (when the `qts` executable is given as the second argument).
"""

import json
import pathlib
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd

ROOT = pathlib.Path(__file__).resolve().parents[1]


def best_of(n, f):
    t = float("inf")
    out = None
    for _ in range(n):
        s = time.perf_counter()
        out = f()
        t = min(t, time.perf_counter() - s)
    return t, out


def whole_process(qts_cli, strategy):
    """`qts backtest` as a script calls it (start, configuration, read, validate, backtest,
    print) on the whole 5,031-bar S&P 500 sample, against backtesting.py's in-process `run()`
    on the same bars; medians of alternating runs."""
    from backtesting import Backtest

    path = ROOT / "examples/data/sp500_daily.csv"
    full = pd.read_csv(path)
    data = full.assign(date=pd.to_datetime(full.date)).set_index("date").rename(columns=str.capitalize)
    args = [qts_cli, "backtest", "--data", str(path), "--execution", "backtesting-py",
            "--cash", "10000", "--commission", "0.002", "--json", "-q"]
    ours, theirs = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(15):
            s = time.perf_counter()
            out = json.loads(subprocess.check_output(args, cwd=ROOT))
            ours.append(time.perf_counter() - s)
            s = time.perf_counter()
            stats = Backtest(data, strategy, cash=10_000, commission=0.002).run()
            theirs.append(time.perf_counter() - s)
    same = abs(stats["Equity Final [$]"] - out["final_equity"]) <= 1e-6 * abs(out["final_equity"])
    q, b = float(np.median(ours)), float(np.median(theirs))
    print(f"whole `qts backtest` process, {len(full)} bars, against backtesting.py's run():")
    print(f"  qts {q * 1e3:.2f} ms   backtesting.py {b * 1e3:.1f} ms   ratio {b / q:.1f}x   "
          f"final equity {'same' if same else 'DIFFERENT'}")
    if not same:
        sys.exit(f"final equity: qts {out['final_equity']} != backtesting.py {stats['Equity Final [$]']}")


def main(binary, qts_cli=None):
    df = pd.read_csv(ROOT / "examples/data/sp500_daily.csv").tail(2520).reset_index(drop=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "ten_years.csv"
        df.to_csv(path, index=False)
        ours = json.loads(subprocess.check_output([binary, "single", str(path), "200"]))
        grid = json.loads(subprocess.check_output([binary, "grid", str(path)]))

    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover

    def SMA(values, n):
        return pd.Series(values).rolling(n).mean()

    class SmaCross(Strategy):
        def init(self):
            self.a = self.I(SMA, self.data.Close, 10)
            self.b = self.I(SMA, self.data.Close, 20)

        def next(self):
            if crossover(self.a, self.b):
                self.position.close()
                self.buy()
            elif crossover(self.b, self.a):
                self.position.close()
                self.sell()

    data = df.assign(date=pd.to_datetime(df.date)).set_index("date").rename(columns=str.capitalize)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        secs, stats = best_of(5, lambda: Backtest(data, SmaCross, cash=10_000, commission=0.002).run())
    theirs = stats["Equity Final [$]"]
    same = abs(theirs - ours["final_equity"]) <= 1e-6 * abs(theirs)
    print(f"single backtest, {len(df)} bars, {ours['metrics']} metrics:")
    print(f"  qts {ours['secs'] * 1e3:.3f} ms   backtesting.py {secs * 1e3:.1f} ms   "
          f"ratio {secs / ours['secs']:.0f}x   final equity {'same' if same else 'DIFFERENT'}")
    print(f"  (bars validated once, as for a grid; checking them on every run too: "
          f"{ours['secs_checking_bars'] * 1e3:.3f} ms, {secs / ours['secs_checking_bars']:.0f}x; "
          f"engine {ours['engine_secs'] * 1e3:.3f} ms, metrics {ours['metrics_secs'] * 1e3:.3f} ms)")
    if not same:
        sys.exit(f"final equity: qts {ours['final_equity']} != backtesting.py {theirs}")

    if qts_cli:
        whole_process(qts_cli, SmaCross)

    import vectorbt as vbt
    close, open_ = data.Close, data.Open
    fast = [f for f in range(2, 102) for _ in range(100)]
    slow = [f + d for f in range(2, 102) for d in range(1, 101)]

    def run_vbt(c, o, fs, ss):
        ma_f = vbt.MA.run(c, window=fs, short_name="f").ma
        ma_s = vbt.MA.run(c, window=ss, short_name="s").ma
        ma_f.columns = ma_s.columns = range(len(fs))
        up = (ma_f > ma_s) & (ma_f.shift(1) < ma_s.shift(1))
        down = (ma_f < ma_s) & (ma_f.shift(1) > ma_s.shift(1))
        pf = vbt.Portfolio.from_signals(
            c, entries=up.shift(1, fill_value=False), short_entries=down.shift(1, fill_value=False),
            price=o, fees=0.002, init_cash=10_000, freq="1D")
        return pf.total_return()

    run_vbt(close.iloc[:60], open_.iloc[:60], fast[:3], slow[:3])  # JIT-compile first
    vsecs, vret = best_of(1, lambda: run_vbt(close, open_, fast, slow))
    print(f"grid of {grid['pairs']} SMA pairs ({grid['threads']} threads for qts):")
    print(f"  qts {grid['secs']:.2f} s   vectorbt {vsecs:.2f} s   ratio {vsecs / grid['secs']:.1f}x   "
          f"best total return qts {grid['best_total_return']:.4f}, vectorbt {float(np.max(vret)):.4f}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
