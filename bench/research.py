"""qts's research tools against their peers, on the same data, in one run.

    bench/research.sh

Every qts figure is the whole `qts` process (start, configuration, read, validate, search,
statistics, JSON), as a script calls it; the peers run in this Python process (their import
and JIT compilation not counted).

1. Parameter search, 10 years (the last 2,520 bars of the S&P 500 sample), SMA crossover,
   fast 2..101 x slow 3..202 with fast < slow (14,950 pairs), `--execution backtesting-py`,
   cash 10,000, commission 0.002, with DSR and PBO over all trials: against vectorbt's
   `Portfolio.from_signals` on the same pairs (next-open fills, fees 0.002), and against
   backtesting.py's `Backtest.optimize` on a 300-pair subgrid (its whole grid would take
   minutes; the ratio is per trial), whose best parameters and final equity qts must match.
2. Walk-forward of a 600-pair grid over the 20-year sample (5,031 bars), 3-year train and
   6-month test windows. Neither peer has a walk-forward; the figure is qts's alone, with
   backtesting.py's optimize time per trial for scale.
3. Monte Carlo, 10,000 i.i.d. and stationary-block paths of 10 years (2,520 daily returns):
   against numpy drawing the same i.i.d. paths vectorised (indices, cumulative products,
   the final equity, CAGR, Sharpe and max drawdown of every path).
"""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd

os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py's progress bars

ROOT = pathlib.Path(__file__).resolve().parents[1]
SP500 = ROOT / "examples/data/sp500_daily.csv"


def timed(f, n=1):
    best, out = float("inf"), None
    for _ in range(n):
        s = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - s)
    return best, out


def qts(binary, *args):
    return json.loads(subprocess.check_output([binary, "-q", *args, "--json"], cwd=ROOT))

# backtesting.py's optimize pickles the strategy into worker processes: it lives at module level.
from backtesting import Strategy  # noqa: E402
from backtesting.lib import crossover

def SMA(values, n):
    return pd.Series(values).rolling(n).mean()

class SmaCross(Strategy):
    n1 = 10
    n2 = 20

    def init(self):
        self.a = self.I(SMA, self.data.Close, self.n1)
        self.b = self.I(SMA, self.data.Close, self.n2)

    def next(self):
        if crossover(self.a, self.b):
            self.position.close()
            self.buy()
        elif crossover(self.b, self.a):
            self.position.close()
            self.sell()



def optimize(binary, tmp):
    df = pd.read_csv(SP500).tail(2520).reset_index(drop=True)
    path = pathlib.Path(tmp) / "ten_years.csv"
    df.to_csv(path, index=False)
    common = ["--data", str(path), "--execution", "backtesting-py", "--cash", "10000",
              "--commission", "0.002", "--maximize", "final_equity"]
    secs, ours = timed(lambda: qts(binary, "optimize", *common, "--grid", "fast=2:102:1",
                                   "--grid", "slow=3:203:1"))
    pairs = [(f, s) for f in range(2, 102) for s in range(3, 203) if f < s]
    assert ours["trials"] == len(pairs), (ours["trials"], len(pairs))
    print(f"parameter search, {len(df)} bars, {len(pairs)} SMA pairs, with DSR and PBO:")
    print(f"  qts optimize (whole process) {secs:.2f} s, {secs / len(pairs) * 1e6:.0f} us a trial; "
          f"best {ours['best']['params']}, DSR {ours['deflated_sharpe_ratio']:.3f}, "
          f"PBO {ours['probability_of_backtest_overfitting']:.3f}")

    data = df.assign(date=pd.to_datetime(df.date)).set_index("date").rename(columns=str.capitalize)
    import vectorbt as vbt

    def run_vbt(c, o, ps):
        fs, ss = [p[0] for p in ps], [p[1] for p in ps]
        ma_f = vbt.MA.run(c, window=fs, short_name="f").ma
        ma_s = vbt.MA.run(c, window=ss, short_name="s").ma
        ma_f.columns = ma_s.columns = range(len(fs))
        up = (ma_f > ma_s) & (ma_f.shift(1) < ma_s.shift(1))
        down = (ma_f < ma_s) & (ma_f.shift(1) > ma_s.shift(1))
        pf = vbt.Portfolio.from_signals(
            c, entries=up.shift(1, fill_value=False), short_entries=down.shift(1, fill_value=False),
            price=o, fees=0.002, init_cash=10_000, freq="1D")
        return pf.final_value()

    run_vbt(data.Close.iloc[:60], data.Open.iloc[:60], pairs[:3])  # JIT-compile first
    vsecs, final = timed(lambda: run_vbt(data.Close, data.Open, pairs))
    print(f"  vectorbt from_signals {vsecs:.2f} s (no DSR or PBO; fractional shares)   "
          f"ratio {vsecs / secs:.1f}x")

    from backtesting import Backtest

    fast, slow = range(5, 65, 3), range(10, 160, 10)
    sub = [(f, s) for f in fast for s in slow if f < s]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bsecs, stats = timed(lambda: Backtest(data, SmaCross, cash=10_000, commission=0.002).optimize(
            n1=fast, n2=slow, maximize="Equity Final [$]", constraint=lambda p: p.n1 < p.n2))
    qsecs, small = timed(lambda: qts(binary, "optimize", *common, "--grid", "fast=5:65:3",
                                     "--grid", "slow=10:160:10"))
    same = (small["best"]["params"] == {"fast": stats._strategy.n1, "slow": stats._strategy.n2}
            and abs(small["best"]["metrics"]["final_equity"] - stats["Equity Final [$]"])
            <= 1e-9 * stats["Equity Final [$]"])
    print(f"  backtesting.py optimize on {len(sub)} pairs {bsecs:.2f} s, qts {qsecs:.3f} s   "
          f"ratio {bsecs / qsecs:.0f}x   best and final equity {'same' if same else 'DIFFERENT'}")
    if not same:
        sys.exit(f"qts {small['best']} != backtesting.py {stats._strategy}")
    return bsecs / len(sub)


def walk_forward(binary, per_trial):
    secs, wf = timed(lambda: qts(binary, "walk-forward", "--data", str(SP500), "--grid",
                                 "fast=5:105:4", "--grid", "slow=20:260:8", "--maximize",
                                 "sharpe_ratio", "--train", "756", "--test", "126"))
    n = len(wf["windows"])
    pairs = len([1 for f in range(5, 105, 4) for s in range(20, 260, 8) if f < s])
    print(f"walk-forward, 5,031 bars, {pairs} pairs, 3 y / 6 m: {n} windows, "
          f"{n * pairs} train backtests + {n} test backtests")
    print(f"  qts (whole process) {secs:.2f} s   (backtesting.py's optimize at its per-trial cost "
          f"would take {n * pairs * per_trial:.0f} s; neither peer has a walk-forward)   "
          f"out-of-sample Sharpe {wf['out_of_sample']['sharpe_ratio']:.3f}, "
          f"efficiency {wf['walk_forward_efficiency']:.3f}")


def monte_carlo(binary, tmp):
    df = pd.read_csv(SP500).tail(2521).reset_index(drop=True)
    r = df.close.pct_change().dropna().to_numpy()
    path = pathlib.Path(tmp) / "returns.csv"
    pd.DataFrame({"date": df.date.iloc[1:], "return": r}).to_csv(path, index=False)
    print(f"Monte Carlo, 10,000 paths of {len(r)} daily returns:")
    for method in ["iid", "block"]:
        secs, out = timed(lambda: qts(binary, "monte-carlo", "--returns", str(path), "--method",
                                      method, "--paths", "10000", "--seed", "1"), n=3)
        print(f"  qts {method:5s} (whole process) {secs:.3f} s   final equity 95% "
              f"[{out['final_equity']['lower']:.0f}, {out['final_equity']['upper']:.0f}]")
        if method == "iid":
            iid = secs

    def numpy_iid():
        rng = np.random.default_rng(1)
        paths = r[rng.integers(0, len(r), size=(10_000, len(r)))]
        eq = 100_000 * np.cumprod(1 + paths, axis=1)
        peak = np.maximum.accumulate(eq, axis=1)
        mdd = (eq / peak - 1).min(axis=1)
        sharpe = paths.mean(axis=1) / paths.std(axis=1, ddof=1) * np.sqrt(252)
        cagr = (eq[:, -1] / 100_000) ** (252 / len(r)) - 1
        return np.percentile(eq[:, -1], [2.5, 97.5]), mdd, sharpe, cagr

    nsecs, (band, *_) = timed(numpy_iid, n=3)
    print(f"  numpy vectorised iid {nsecs:.3f} s   final equity 95% [{band[0]:.0f}, {band[1]:.0f}]   "
          f"ratio {nsecs / iid:.1f}x")


def main(binary):
    with tempfile.TemporaryDirectory() as tmp:
        per_trial = optimize(binary, tmp)
        walk_forward(binary, per_trial)
        monte_carlo(binary, tmp)


if __name__ == "__main__":
    main(sys.argv[1])
