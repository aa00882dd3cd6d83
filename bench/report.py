"""Times `qts backtest --report` (the report's share: with minus without) and `qts report DIR`
against quantstats.reports.html on the same equity curve, and prints the sizes."""
import os
import subprocess
import sys
import tempfile
import time

import pandas as pd
import quantstats as qs

qts = os.path.abspath(sys.argv[1])
data = os.path.abspath("examples/data/sp500_daily.csv")
args = [qts, "-q", "-C", os.path.abspath("config"), "--set", "mlflow.enabled=false",
        "--set", "trading.rebalance=daily", "backtest", "--data", data,
        "--param", "fast=2", "--param", "slow=5"]


def best(cmd, n=10, cwd=None):
    out = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=cwd)
        out = min(out, time.perf_counter() - t)
    return out


with tempfile.TemporaryDirectory() as d:
    subprocess.run(args + ["--out", "run"], check=True, stdout=subprocess.DEVNULL, cwd=d)
    trades = sum(1 for _ in open(os.path.join(d, "run/trades.csv"))) - 1
    plain = best(args, cwd=d)
    with_report = best(args + ["--report", "r.html"], cwd=d)
    alone = best([qts, "-q", "-C", os.path.abspath("config"), "report", "run", "--out", "r2.html"], cwd=d)
    size = os.path.getsize(os.path.join(d, "r.html"))
    eq = pd.read_csv(os.path.join(d, "run/equity.csv"), index_col=0, parse_dates=True)["equity"]
    returns = eq.pct_change().dropna()
    t = time.perf_counter()
    qs.reports.html(returns, output=os.path.join(d, "qs.html"), title="bench")
    qs_time = time.perf_counter() - t
    qs_size = os.path.getsize(os.path.join(d, "qs.html"))
print(f"{len(eq)} bars, {trades} trades")
print(f"qts backtest: {plain * 1e3:.1f} ms; with --report: {with_report * 1e3:.1f} ms "
      f"(the report: {(with_report - plain) * 1e3:.1f} ms); qts report DIR: {alone * 1e3:.1f} ms")
print(f"page: {size / 1024:.0f} KB; quantstats.reports.html: {qs_time * 1e3:.0f} ms, {qs_size / 1024:.0f} KB")
print(f"ratio (quantstats / qts report DIR, whole process): {qs_time / alone:.1f}x")
