"""A universe portfolio: qts's engine against vectorbt's `Portfolio.from_orders` on the same
target weights, in one run.

    bench/universe.sh [SYMBOLS] [YEARS]

Seeded synthetic prices (geometric Brownian motion, 2% daily volatility) for 500 symbols over
20 years of business days; 30% list late and 20% are delisted early (their cells empty before
and after), so the universe runs on the union of their dates. The forecast of each symbol at a
close is its 20-day momentum over the bars it has. The portfolio: every Monday (decided at the
previous close and filled at that close), the 50 best forecasts with a bar, equal weight,
scaled to 95% of equity, fractional shares, a 5 bp commission, no slippage, no stops.

qts: `bench_universe` reads the two wide files, then (timed, best of 3) runs the `rank`
strategy through the engine with every metric, the buy-and-hold baseline and the universe
statistics (rank IC per date included).
vectorbt: the same weights (computed here from the rule, not from qts) through
`from_orders(size_type="targetpercent")` grouped with cash sharing, sells first, the 20 years in
one call (best of 3 after a warm-up that compiles numba). Both final equities are printed: they
agree to the rounding of the order in which each values the book.
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
TOP, GROSS, RATE = 50, 0.95, 0.0005


def universe(symbols, years, seed=7):
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range("2003-01-01", periods=252 * years)
    n = len(dates)
    returns = rng.normal(0.0003, 0.02, size=(n, symbols))
    close = 50 * np.exp(np.cumsum(returns, axis=0))
    first = np.zeros(symbols, dtype=int)
    last = np.full(symbols, n - 1)
    late = rng.random(symbols) < 0.3
    first[late] = rng.integers(1, int(n * 0.6), late.sum())
    gone = rng.random(symbols) < 0.2
    last[gone] = rng.integers(int(n * 0.4), n - 1, gone.sum())
    last = np.maximum(last, first + 60)
    rows = np.arange(n)[:, None]
    close = np.where((rows >= first) & (rows <= last), close, np.nan)
    names = [f"S{i:03d}" for i in range(symbols)]
    return dates, close, names, first, last


def momentum(close):
    out = np.full_like(close, np.nan)
    for s in range(close.shape[1]):
        idx = np.flatnonzero(~np.isnan(close[:, s]))
        c = close[idx, s]
        if len(c) > 20:
            out[idx[20:], s] = c[20:] / c[:-20] - 1
    return out


def mondays(dates):
    """The first bar of each ISO week on or after Monday: qts's weekly rule."""
    seen, flags = set(), []
    for d in dates:
        key = tuple(d.isocalendar())[:2]
        flags.append(key not in seen)
        seen.add(key)
    return np.array(flags)


def weights(close, forecast, dates, last):
    n, k = close.shape
    rebalance = mondays(dates)
    target = np.full((n, k), np.nan)
    for t in range(n - 1):
        tradable = ~np.isnan(close[t])
        # A symbol is delisted at the first close after its last bar, closed at its last close
        # (qts's `delisted`; the price carried over, as `price` below is).
        target[t, last + 1 == t] = 0.0
        if not rebalance[t + 1]:
            continue
        f = forecast[t]
        ok = np.flatnonzero(tradable & ~np.isnan(f))
        order = ok[np.lexsort((ok, -f[ok]))][:TOP]
        scale = min(1.0, GROSS / (len(order) / TOP)) if len(order) else 1.0
        target[t, tradable] = 0.0
        target[t, order] = scale / TOP
    return target


def best_of(n, f):
    best, out = float("inf"), None
    for _ in range(n):
        s = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - s)
    return best, out


def main():
    symbols = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    years = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    dates, close, names, first, last = universe(symbols, years)
    forecast = momentum(close)
    with tempfile.TemporaryDirectory() as tmp:
        closes_csv, forecasts_csv = pathlib.Path(tmp, "closes.csv"), pathlib.Path(tmp, "forecasts.csv")
        frame = pd.DataFrame(close, index=dates.strftime("%Y-%m-%d"), columns=names)
        frame.index.name = "date"
        frame.to_csv(closes_csv, float_format="%.10g")
        fc = pd.DataFrame(forecast, index=frame.index, columns=names)
        fc.to_csv(forecasts_csv, float_format="%.10g")
        # What qts reads is what vectorbt gets: the same rounded numbers.
        close = pd.read_csv(closes_csv, index_col=0).to_numpy()
        forecast = pd.read_csv(forecasts_csv, index_col=0).to_numpy()
        ours = json.loads(subprocess.check_output([sys.argv[1], str(closes_csv), str(forecasts_csv), str(TOP), "3"]))

    import vectorbt as vbt

    target = weights(close, forecast, dates, last)
    price = pd.DataFrame(close, index=dates, columns=names)

    def run():
        return vbt.Portfolio.from_orders(
            close=price.ffill(), size=pd.DataFrame(target, index=dates, columns=names), price=price.ffill(),
            size_type="targetpercent", fees=RATE, init_cash=100000.0, group_by=True, cash_sharing=True,
            call_seq="auto", freq="1D",
        )

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run()  # numba compiles here
        vsecs, pf = best_of(3, run)
        value = pf.value().to_numpy()
    n_cells = close.shape[0] * close.shape[1]
    print(f"universe: {symbols} symbols x {close.shape[0]} bars ({years} years), "
          f"{int((~np.isnan(close)).sum())} bars present; weekly top-{TOP} equal weight")
    print(f"  qts {ours['secs']:.3f} s (engine, {ours['metrics']} metrics, baseline, universe statistics with "
          f"the rank IC of {ours['rank_ic_dates']} dates; reading the two wide files {ours['read_secs']:.2f} s more)")
    print(f"  vectorbt from_orders {vsecs:.3f} s (simulation only)   ratio {vsecs / ours['secs']:.1f}x")
    print(f"  final equity qts {ours['final_equity']:.2f}, vectorbt {value[-1]:.2f} "
          f"(relative difference {abs(ours['final_equity'] / value[-1] - 1):.1e}); fills {ours['fills']}")
    print(f"  qts peak memory {ours['peak_rss_mib']:.0f} MiB for {n_cells} cells "
          f"({ours['peak_rss_mib'] * 2**20 / n_cells:.0f} bytes a cell, the two files read included)")


if __name__ == "__main__":
    main()
