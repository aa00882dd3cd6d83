"""A second, independent implementation of qts's default execution rules (`--execution
default`), written from docs/backtest.md ("Execution rules", sizing, costs, trades, metrics),
not from the engine's code. crates/backtest/tests/default_rules_golden.rs runs the engine on
the same cases and compares every fill, the equity curve, every round trip and every metric.

Run:  "$(scripts/golden/setup_venv.sh)" scripts/golden/default_rules.py

Each case writes crates/backtest/tests/golden/default_rules/<case>.json.gz: the settings (as
`--set` overrides, so the engine is configured through the same keys a user writes), the
strategy, the predictions of a signal case, and what this simulator produced. The metrics are
computed from the simulator's own equity curve and trades: empyrical for the return metrics it
defines, quantstats for those only it has, scipy for PSR/MinTRL, and the documented formulas
for the trade and account figures.

Kept deliberately plain: one loop over the bars in the documented order, dicts and lists, no
vectorisation, so it reads as the rules do.
"""

import gzip
import json
import math
import pathlib
import warnings

import empyrical as ep
import numpy as np
import pandas as pd
import quantstats as qs
import talib
from scipy import stats

ROOT = pathlib.Path(__file__).resolve().parents[2]
DATA = ROOT / "examples" / "data"
OUT = ROOT / "crates" / "backtest" / "tests" / "golden" / "default_rules"

# The documented defaults (config/backtest_config.yaml, config/base_config.yaml). Every case
# states all of them as overrides, so the golden file does not depend on the shipped files.
DEFAULTS = {
    "backtest.initial_capital": 100000.0,
    "backtest.execution.fill_price": "next_open",
    "backtest.execution.margin": 0.0,
    "backtest.costs.commission_model": "percent",
    "backtest.costs.commission_rate": 0.0005,
    "backtest.costs.commission_per_share": 0.005,
    "backtest.costs.commission_minimum": 1.0,
    "backtest.costs.commission_fixed": 0.0,
    "backtest.costs.slippage_model": "fixed_bps",
    "backtest.costs.slippage_bps": 5.0,
    "backtest.costs.slippage_volatility_fraction": 0.1,
    "backtest.costs.max_volume_fraction": 0.025,
    "backtest.position_sizing.method": "volatility_scaled",
    "backtest.position_sizing.fixed_fraction": 0.10,
    "backtest.position_sizing.target_volatility": 0.15,
    "backtest.position_sizing.volatility_lookback": 20,
    "backtest.position_sizing.kelly_fraction": 0.5,
    "backtest.position_sizing.kelly_cap": 0.25,
    "backtest.position_sizing.shrink_by_interval": True,
    "backtest.risk.stop_loss.enabled": True,
    "backtest.risk.stop_loss.pct": 0.08,
    "backtest.risk.take_profit.enabled": False,
    "backtest.risk.take_profit.pct": 0.20,
    "backtest.risk.trailing_stop.enabled": False,
    "backtest.risk.trailing_stop.pct": 0.10,
    "backtest.risk.atr_stop.enabled": False,
    "backtest.risk.atr_stop.period": 14,
    "backtest.risk.atr_stop.multiple": 3.0,
    "backtest.risk.circuit_breaker.enabled": True,
    "backtest.risk.circuit_breaker.max_drawdown": 0.20,
    "backtest.risk.circuit_breaker.cooldown_days": 20,
    "backtest.metrics.periods_per_year": 252,
    "trading.rebalance": "weekly",
    "trading.rebalance_weekday": "monday",
    "trading.allow_short": False,
    "trading.fractional_shares": False,
    "risk.max_position_fraction": 0.25,
    "risk.max_gross_exposure": 1.0,
    "risk.max_drawdown": 0.25,
}

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday"]


def load(name):
    df = pd.read_csv(DATA / name)
    df["date"] = pd.to_datetime(df["date"])
    return df


def load_symbols(files, symbols):
    """The series of `files` by symbol: a bar file is one (named by its stem, as qts names
    it), a wide file of closes one per column (open = high = low = close, volume 0)."""
    out = {}
    for name in files:
        df = load(name)
        if "close" in df.columns:
            out[pathlib.Path(name).stem] = df
            continue
        for sym in df.columns[1:]:
            c = df[sym].astype(float)
            out[sym] = pd.DataFrame({"date": df["date"], "open": c, "high": c, "low": c, "close": c,
                                     "volume": 0.0})
    return [out[s].reset_index(drop=True) for s in symbols] if symbols else list(out.values())


def cut(frame, rule):
    """A symbol's own history for a universe case: from / to a date (a late listing, a
    delisting) and dates dropped inside it (days it has no bar)."""
    keep = pd.Series(True, index=frame.index)
    if "from" in rule:
        keep &= frame["date"] >= pd.Timestamp(rule["from"])
    if "to" in rule:
        keep &= frame["date"] <= pd.Timestamp(rule["to"])
    for d in rule.get("drop", []):
        keep &= frame["date"] != pd.Timestamp(d)
    return frame[keep].reset_index(drop=True)


def union_dates(frames):
    """Symbols with their own histories on the union of their dates (docs/backtest.md,
    "A universe"): a date a symbol has no bar on holds NaN in its prices."""
    dates = sorted(set().union(*[set(f["date"]) for f in frames]))
    index = pd.DatetimeIndex(dates)
    out = []
    for f in frames:
        g = f.set_index("date").reindex(index)
        g.index.name = "date"
        out.append(g.reset_index())
    return out


# ---- strategies: the targets a strategy gives at each close (docs/backtest.md, `--strategy`)


def sma_cross_targets(close, fast, slow):
    """Long on a cross above, short on a cross below (backtesting.py's `crossover`: the fast
    average below the slow one at the previous close and above it at this one). Decides from
    bar `slow` on (its warm-up)."""
    f = pd.Series(close).rolling(fast).mean().to_numpy()
    s = pd.Series(close).rolling(slow).mean().to_numpy()
    targets = [None] * len(close)
    for t in range(slow, len(close)):
        if f[t - 1] < s[t - 1] and f[t] > s[t]:
            targets[t] = (1.0, None)
        elif s[t - 1] < f[t - 1] and s[t] > f[t]:
            targets[t] = (-1.0, None)
    return targets, slow


def signal_targets(pred, lower, upper, long_above, short_below):
    """A target at every close with a prediction: long above `long_above`, short below
    `short_below`, else flat; the forecast (and its interval) goes with it."""
    targets = [None] * len(pred)
    for t, p in enumerate(pred):
        if p is None or not math.isfinite(p):
            continue
        strength = 1.0 if p > long_above else (-1.0 if p < short_below else 0.0)
        targets[t] = (strength, (p, lower[t], upper[t]))
    return targets, 0


def rank_forecasts(close, z=1.645):
    """Predictions for a universe case, per symbol over the bars it has: the 5-bar log return
    as the forecast, its interval ± z × the 20-bar standard deviation of 1-bar log returns,
    each rounded to 8 significant digits (the golden file stores them so)."""
    out = [None] * len(close)
    idx = np.flatnonzero(~np.isnan(close))
    c = close[idx]
    lr = np.log(c[1:] / c[:-1])
    r8 = lambda x: float(f"{x:.8g}")
    for k in range(21, len(c)):
        p = math.log(c[k] / c[k - 5]) / 5
        half = z * float(np.std(lr[k - 20:k], ddof=1))
        out[idx[k]] = (r8(p), r8(p - half), r8(p + half))
    return out


class RankBook:
    """The rank strategy's selection, written from docs/backtest.md ("--strategy rank"): at a
    close whose next bar executes a rebalance, long the `top` best-forecast names that have a
    bar (TopkDropout when `drop` is finite), short the `bottom` worst, weighted equally, by
    forecast or by inverse volatility, their share of the book |names| / slots."""

    def __init__(self, forecasts, close, rules):
        self.f, self.close, self.r = forecasts, close, rules
        self.longs = []

    def vol(self, s, t):
        c = self.close[s][: t + 1]
        c = c[~np.isnan(c)]
        n = self.r["lookback"]
        if len(c) < n + 1:
            return math.nan
        r = np.log(c[1:] / c[:-1])[-n:]
        return float(np.std(r, ddof=1))

    def targets(self, t, tradable):
        r, n = self.r, len(self.close)
        top, bottom, drop = r["top"], r["bottom"], r["drop"]
        fc = {}
        for s in range(n):
            f = self.f[s][t] if tradable[s] else None
            if f is None:
                continue
            if r["weighting"] == "inverse_vol":
                v = self.vol(s, t)
                if not (math.isfinite(v) and v > 0):
                    continue
            fc[s] = f
        skip = lambda f: r["interval"] == "skip" and f[1] < 0 < f[2]
        ranked = sorted((s for s, f in fc.items() if f[0] >= r["min_forecast"] and not skip(f)),
                        key=lambda s: (-fc[s][0], s))
        pos = {s: i for i, s in enumerate(ranked)}
        held = [s for s in self.longs if tradable[s]]
        if drop is None:
            longs = ranked[:top]
        else:
            last = sorted((s for s in held if s in pos), key=pos.get)
            fresh = [s for s in ranked if s not in last][:max(drop + top - len(last), 0)]
            comb = sorted(last + fresh, key=pos.get)
            worst = comb[max(len(comb) - drop, 0):]
            sold = [s for s in last if drop > 0 and s in worst]
            places = max(len(sold) + top - len(last), 0)
            longs = sorted([s for s in last if s not in sold] + fresh[:places], key=pos.get)
        shorts = sorted((s for s, f in fc.items() if s not in longs and not skip(f)),
                        key=lambda s: (fc[s][0], s))[:bottom]
        w = [0.0] * n
        for names, slots, side in ((longs, top, 1.0), (shorts, bottom, -1.0)):
            if not names or slots == 0:
                continue
            if r["weighting"] == "equal":
                raw = [1.0] * len(names)
            elif r["weighting"] == "forecast":
                raw = [max(side * fc[s][0], 0.0) for s in names]
                if sum(raw) <= 0:
                    raw = [1.0] * len(names)
            else:
                raw = [1 / self.vol(s, t) for s in names]
            total = sum(raw)
            for s, x in zip(names, raw):
                w[s] = side * (len(names) / slots) * x / total
                if r["interval"] == "shrink":
                    _, lo, hi = fc[s]
                    mid, half = (lo + hi) / 2, abs(hi - lo) / 2
                    if not (mid == 0 and half == 0):
                        w[s] *= abs(mid) / (abs(mid) + half)
        self.longs = longs + [s for s in self.longs if not tradable[s]]
        return {s: (w[s], fc.get(s)) for s in range(n) if tradable[s]}


def momentum_forecasts(close, start):
    """Predictions for the signal cases: the 5-bar log return as the forecast of the next
    one's, its interval ± 1.645 × the 20-bar standard deviation of 1-bar log returns. Any
    column known at its close would do; this one changes sign often and has real widths."""
    lr = np.log(close[1:] / close[:-1])
    pred, lower, upper = [None] * len(close), [None] * len(close), [None] * len(close)
    for t in range(max(start, 21), len(close)):
        p = math.log(close[t] / close[t - 5]) / 5
        half = 1.645 * float(np.std(lr[t - 20:t], ddof=1))
        pred[t], lower[t], upper[t] = p, p - half, p + half
    return pred, lower, upper


# ---- the account: FIFO lots, round trips (docs/backtest.md, "Trades are round trips")


class Account:
    def __init__(self, cash, n):
        self.cash = cash
        self.lots = [[] for _ in range(n)]  # each: [signed size, price, bar, date, entry commission]
        self.trips = [None] * n  # the round trip in progress: its closed lots
        self.round_trips = []

    def position(self, s):
        return sum(lot[0] for lot in self.lots[s])

    def avg_entry(self, s):
        lots = self.lots[s]
        return sum(l[0] * l[1] for l in lots) / sum(l[0] for l in lots)

    def fill(self, s, size, price, commission, bar, date):
        self.cash -= size * price + commission
        per_share = commission / abs(size)
        left = size
        lots = self.lots[s]
        while left != 0 and lots and (lots[0][0] > 0) != (left > 0):
            lot = lots[0]
            closed = math.copysign(min(abs(left), abs(lot[0])), lot[0])
            entry_commission = lot[4] * (closed / lot[0])
            exit_commission = per_share * abs(closed)
            part = {
                "symbol": s, "size": abs(closed), "long": closed > 0, "entry_bar": lot[2], "entry_date": lot[3],
                "exit_bar": bar, "exit_date": date, "entry_value": abs(closed) * lot[1],
                "exit_value": abs(closed) * price,
                "pnl": closed * (price - lot[1]) - entry_commission - exit_commission,
                "commission": entry_commission + exit_commission,
            }
            if self.trips[s] is None:
                self.trips[s] = []
            self.trips[s].append(part)
            lot[4] -= entry_commission
            lot[0] -= closed
            left += closed
            if abs(lot[0]) < 1e-12:
                lots.pop(0)
        if not lots and self.trips[s]:
            self.round_trips.append(round_trip(self.trips[s]))
            self.trips[s] = None
        if abs(left) > 1e-12:
            lots.append([left, price, bar, date, per_share * abs(left)])


def round_trip(parts):
    """A round trip from its closed lots: sizes, values, P&L and commissions add up; prices
    are share-weighted; the return is the P&L over the whole entry value; the duration runs
    from the first entry to the last exit, in calendar days."""
    size = sum(p["size"] for p in parts)
    entry_value = sum(p["entry_value"] for p in parts)
    exit_value = sum(p["exit_value"] for p in parts)
    pnl = sum(p["pnl"] for p in parts)
    first = min(parts, key=lambda p: p["entry_bar"])
    last = max(parts, key=lambda p: p["exit_bar"])
    return {
        "symbol": parts[0]["symbol"],
        "side": "long" if parts[0]["long"] else "short",
        "size": size,
        "entry_bar": first["entry_bar"],
        "exit_bar": last["exit_bar"],
        "entry_price": entry_value / size,
        "exit_price": exit_value / size,
        "pnl": pnl,
        "return": pnl / entry_value,
        "commission": sum(p["commission"] for p in parts),
        "duration_days": (last["exit_date"] - first["entry_date"]).total_seconds() / 86400,
    }


# ---- the simulation (docs/backtest.md, "Execution rules (`--execution default`)")


def rebalance_days(dates, rule, weekday):
    """Which bars a rebalance executes on: every bar (daily); the first bar of each ISO week
    on or after the weekday (weekly); the first bar of each month (monthly)."""
    out, seen = [], set()
    for d in dates:
        if rule == "daily":
            out.append(True)
            continue
        key = tuple(d.isocalendar())[:2] if rule == "weekly" else (d.year, d.month)
        ok = key not in seen and (rule != "weekly" or d.weekday() >= WEEKDAYS.index(weekday))
        if ok:
            seen.add(key)
        out.append(ok)
    return out


def on_present(values, has, kernel):
    """`kernel` over the bars a symbol has, put back on the calendar: NaN before its first
    bar; a missing day carries the value of the last bar it had."""
    idx = np.flatnonzero(has)
    computed = kernel(*[v[idx] for v in values])
    out, k, last = np.full(len(has), math.nan), 0, math.nan
    for t in range(len(has)):
        if has[t]:
            last = computed[k]
            k += 1
            out[t] = last
        elif k > 0:
            out[t] = last
    return out


def simulate(bars, targets, warmup, cfg, book=None):
    n_sym, n = len(bars), len(bars[0])
    c = cfg
    periods = c["backtest.metrics.periods_per_year"]
    open_ = [b["open"].to_numpy(float) for b in bars]
    high = [b["high"].to_numpy(float) for b in bars]
    low = [b["low"].to_numpy(float) for b in bars]
    close = [b["close"].to_numpy(float) for b in bars]
    volume = [b["volume"].to_numpy(float) for b in bars]
    dates = list(bars[0]["date"])
    # Daily volatility known at each close: the sample standard deviation of the last
    # `volatility_lookback` one-bar log returns.
    lookback = c["backtest.position_sizing.volatility_lookback"]
    # A universe (docs/backtest.md, "A universe"): a symbol has a bar where its close is a
    # number; a position is marked at its last close over a missing day; the indicators run
    # over the bars it has; its bars ending before the calendar's is a delisting.
    has = [~np.isnan(cl) for cl in close]
    mark = [pd.Series(cl).ffill().to_numpy() for cl in close]
    last_bar = [int(np.flatnonzero(h)[-1]) for h in has]
    delisted_after = [lb if lb + 1 < n else None for lb in last_bar]
    vol = [on_present([cl], has[s], lambda x: pd.Series(np.log(x / np.roll(x, 1)))
                      .where(np.arange(len(x)) > 0).rolling(lookback).std().to_numpy())
           for s, cl in enumerate(close)]
    atr = [on_present([high[s], low[s], close[s]], has[s],
                      lambda h, l, cl: talib.ATR(h, l, cl, timeperiod=c["backtest.risk.atr_stop.period"]))
           for s in range(n_sym)]
    tradable = [False] * n_sym
    listed = []
    rebalance = rebalance_days(dates, c["trading.rebalance"], c["trading.rebalance_weekday"])

    acct = Account(c["backtest.initial_capital"], n_sym)
    pending = []  # (symbol, size or "close", reason)
    fills, equity, cash, drawdown = [], [], [], []
    standing = [None] * n_sym  # each symbol's standing target: (strength, forecast)
    stopped = [False] * n_sym  # flattened by a protective exit or the breaker since its target
    best = [math.nan] * n_sym  # best price since entry (trailing stop)
    atr_distance = [math.nan] * n_sym
    peak = c["backtest.initial_capital"]
    cooldown_until = -1
    exposed = 0

    def commission(size, price):
        model = c["backtest.costs.commission_model"]
        if model == "percent":
            return abs(size) * price * c["backtest.costs.commission_rate"]
        if model == "per_share":
            return max(abs(size) * c["backtest.costs.commission_per_share"], c["backtest.costs.commission_minimum"])
        return c["backtest.costs.commission_fixed"]

    def slippage_fraction(s, t):
        model = c["backtest.costs.slippage_model"]
        if model == "fixed_bps":
            return c["backtest.costs.slippage_bps"] / 10000
        if model == "volatility_scaled":
            # A fraction of the previous day's volatility (none known: no slippage).
            v = vol[s][t - 1] if t > 0 else math.nan
            return c["backtest.costs.slippage_volatility_fraction"] * v if math.isfinite(v) else 0.0
        return 0.0

    def round_shares(x):
        return x if c["trading.fractional_shares"] else float(math.trunc(x))

    def equity_at(t):
        return acct.cash + sum(acct.position(s) * mark[s][t] for s in range(n_sym) if acct.position(s) != 0)

    def execute(s, want, reference, slips, t, reason):
        held = acct.position(s)
        size = -held if want == "close" else want
        if size == 0:
            return
        price = reference * (1 + math.copysign(slippage_fraction(s, t), size)) if slips else reference
        # At most max_volume_fraction of the bar's volume (whole shares of it), when the bar
        # has a volume.
        mvf, v = c["backtest.costs.max_volume_fraction"], volume[s][t]
        if mvf < 1 and math.isfinite(v) and v > 0:
            cap = math.floor(v * mvf)
            if abs(size) > cap:
                size = math.copysign(cap, size)
        # A buy (that covers no short) is cut to what the cash and the margin can pay, whole
        # shares unless fractional, a share costing its price and its commission.
        if size > 0 and held >= 0:
            budget = acct.cash + c["backtest.execution.margin"] * equity_at(t)
            unit = price + max(commission(1.0, price), 0.0)
            size = min(size, round_shares(max(budget / unit, 0.0)))
        if size == 0:
            return
        fee = commission(size, price)
        acct.fill(s, size, price, fee, t, dates[t])
        now = acct.position(s)
        if now != 0 and (held == 0 or (held > 0) != (now > 0)):
            # A new position: its trailing and ATR stops start from this entry.
            best[s] = price
            atr_distance[s] = atr[s][t - 1] * c["backtest.risk.atr_stop.multiple"] if t > 0 else math.nan
        fills.append({"bar": t, "symbol": s, "size": size, "price": price, "commission": fee,
                      "slippage": abs(size) * abs(price - reference), "reason": reason})

    def exit_levels(s):
        held = acct.position(s)
        entry, d = acct.avg_entry(s), (1 if held > 0 else -1)
        stops = []
        if c["backtest.risk.stop_loss.enabled"]:
            stops.append((entry * (1 - d * c["backtest.risk.stop_loss.pct"]), "stop_loss"))
        if c["backtest.risk.trailing_stop.enabled"]:
            stops.append((best[s] * (1 - d * c["backtest.risk.trailing_stop.pct"]), "trailing_stop"))
        if c["backtest.risk.atr_stop.enabled"] and math.isfinite(atr_distance[s]):
            stops.append((entry - d * atr_distance[s], "atr_stop"))
        stop = None
        for level, why in stops:  # the tightest: for a long the highest
            if math.isfinite(level) and (stop is None or d * level > d * stop[0]):
                stop = (level, why)
        tp = entry * (1 + d * c["backtest.risk.take_profit.pct"]) if c["backtest.risk.take_profit.enabled"] else None
        return stop, tp

    for t in range(n):
        # 1. Orders submitted at the previous close fill at this open. A symbol without a bar
        #    here fills nothing: a rebalance (a day order) expires, the breaker's close waits.
        waiting = []
        for s, want, reason in pending:
            if not has[s][t]:
                if reason == "circuit_breaker":
                    waiting.append((s, want, reason))
                continue
            execute(s, want, open_[s][t], True, t, reason)
        pending = waiting
        # 2. Protective exits against this bar's range (a position entered at this open too):
        #    a stop fills at min(open, level) for a long (gaps fill at the open), with slippage;
        #    the take-profit at max(open, target), as a limit, without; the stop first.
        for s in range(n_sym):
            held = acct.position(s)
            if held == 0 or not has[s][t]:
                continue
            stop, tp = exit_levels(s)
            o, h, l = open_[s][t], high[s][t], low[s][t]
            hit = None
            if stop is not None:
                level, why = stop
                if held > 0 and l <= level:
                    hit = (min(o, level), why, True)
                elif held < 0 and h >= level:
                    hit = (max(o, level), why, True)
            if hit is None and tp is not None:
                if held > 0 and h >= tp:
                    hit = (max(o, tp), "take_profit", False)
                elif held < 0 and l <= tp:
                    hit = (min(o, tp), "take_profit", False)
            if hit is not None:
                execute(s, "close", hit[0], hit[2], t, hit[1])
                stopped[s] = True
        # 3. Delistings (the first close after a symbol's last bar, the calendar going on):
        #    its orders cancelled, its position closed at its last close (with slippage and
        #    commission). Then the equity at the close; the drawdown circuit breaker.
        for s in range(n_sym):
            gone = delisted_after[s] is not None and delisted_after[s] + 1 == t
            tradable[s] = bool(has[s][t]) and not gone
            if gone:
                pending = [p for p in pending if p[0] != s]
                if acct.position(s) != 0:
                    execute(s, "close", mark[s][t], True, t, "delisted")
                stopped[s] = True
        listed.append(sum(tradable))
        e = equity_at(t)
        peak = max(peak, e)
        dd = e / peak - 1 if peak > 0 else 0.0
        equity.append(e)
        cash.append(acct.cash)
        drawdown.append(dd)
        if any(acct.position(s) != 0 for s in range(n_sym)):
            exposed += 1
        for s in range(n_sym):
            held = acct.position(s)
            if not has[s][t]:
                continue
            if held > 0:
                best[s] = max(best[s], high[s][t])
            elif held < 0:
                best[s] = min(best[s], low[s][t])
        cooling = t < cooldown_until
        if c["backtest.risk.circuit_breaker.enabled"] and not cooling \
                and dd <= -c["backtest.risk.circuit_breaker.max_drawdown"]:
            for s in range(n_sym):
                if acct.position(s) != 0:
                    pending.append((s, "close", "circuit_breaker"))
                stopped[s] = True
            # No rebalance at this close nor at the next cooldown_days closes; the drawdown is
            # measured from this close's equity from now on.
            cooldown_until = t + 1 + c["backtest.risk.circuit_breaker.cooldown_days"]
            peak = e
        # 4. The strategy decides at this close; when the next bar is a rebalancing bar, the
        #    targets become orders that fill at its open.
        if t < warmup or t + 1 >= n:
            continue
        if book is not None:
            # The rank strategy decides only at a close whose next bar rebalances.
            given = book.targets(t, tradable) if rebalance[t + 1] else {}
            for s, target in given.items():
                standing[s] = target
                stopped[s] = False
        else:
            for s in range(n_sym):
                if targets[s][t] is not None:
                    standing[s] = targets[s][t]
                    stopped[s] = False
        if not rebalance[t + 1] or t < cooldown_until:
            continue
        if book is not None:
            # Its strengths are the weights: the sizer is skipped, the account limits apply.
            weights = cap_weights([x[0] if x is not None and not stopped[s] else 0.0
                                   for s, x in enumerate(standing)], c)
        else:
            weights = size_weights(standing, stopped, [vol[s][t] for s in range(n_sym)], c, periods)
        deltas = []
        for s in range(n_sym):
            if not tradable[s]:
                continue
            if standing[s] is None and acct.position(s) == 0:
                continue
            want = round_shares(weights[s] * e / close[s][t])
            delta = want - acct.position(s)
            if abs(delta) > 1e-9:
                deltas.append((delta, s))
        deltas.sort(key=lambda x: x[0])  # sells first: a rotation frees cash before it spends
        pending.extend((s, delta, "rebalance") for delta, s in deltas)

    return {
        "fills": fills, "equity": equity, "cash": cash, "drawdown": drawdown,
        "trades": acct.round_trips,
        "open_positions": [acct.position(s) for s in range(n_sym)],
        "exposure_time": exposed / n,
        "dates": dates,
        "listed": listed,
    }


def size_weights(standing, stopped, daily_vol, c, periods):
    """docs/backtest.md, "Sizing": strength → weight by the method, shrunk by the forecast
    interval, capped per position and in gross, shorts removed unless allowed."""
    method = c["backtest.position_sizing.method"]
    inputs = [(t if t is not None and not stopped[s] else (0.0, None)) for s, t in enumerate(standing)]
    w = []
    for (strength, forecast), v in zip(inputs, daily_vol):
        if method == "fixed_fractional":
            w.append(strength * c["backtest.position_sizing.fixed_fraction"])
        elif method == "volatility_scaled":
            annual = v * math.sqrt(periods)
            ok = math.isfinite(annual) and annual > 0
            w.append(strength * c["backtest.position_sizing.target_volatility"] / annual if ok else 0.0)
        elif method == "kelly":
            cap = c["backtest.position_sizing.kelly_cap"]
            if forecast is not None and v > 0 and strength != 0:
                full = forecast[0] / (v * v)
                w.append(min(max(c["backtest.position_sizing.kelly_fraction"] * full, -cap), cap) * abs(strength))
            else:
                w.append(strength * cap)
        elif method == "risk_parity":
            w.append(None)  # below: needs every symbol's inverse volatility
        else:
            raise ValueError(method)
    if method == "risk_parity":
        inv = [1 / v if v > 0 and strength != 0 else 0.0 for (strength, _), v in zip(inputs, daily_vol)]
        total = sum(inv)
        w = [strength * x / total if total > 0 else 0.0 for (strength, _), x in zip(inputs, inv)]
    if c["backtest.position_sizing.shrink_by_interval"]:
        for i, (_, forecast) in enumerate(inputs):
            if forecast is not None and forecast[1] is not None and forecast[2] is not None:
                lo, hi = forecast[1], forecast[2]
                mid, half = (lo + hi) / 2, abs(hi - lo) / 2
                if not (mid == 0 and half == 0):
                    w[i] *= abs(mid) / (abs(mid) + half)
    return cap_weights(w, c)


def cap_weights(w, c):
    """The account limits: shorts removed unless allowed, each weight within the position
    cap, the gross scaled down to its limit."""
    w = list(w)
    cap = c["risk.max_position_fraction"]
    for i in range(len(w)):
        if not c["trading.allow_short"] and w[i] < 0:
            w[i] = 0.0
        w[i] = min(max(w[i], -cap), cap)
    gross = sum(abs(x) for x in w)
    if gross > c["risk.max_gross_exposure"] and gross > 0:
        w = [x * c["risk.max_gross_exposure"] / gross for x in w]
    return w


# ---- metrics (docs/backtest.md, "Metrics")


def metrics(sim, first_close_index, close, periods):
    eq = pd.Series(sim["equity"], index=pd.DatetimeIndex(sim["dates"]))
    r = eq.pct_change().iloc[1:]
    out = {
        "total_return": eq.iloc[-1] / eq.iloc[0] - 1,
        "annual_return": ep.annual_return(r, annualization=periods),
        "cagr": ep.cagr(r, annualization=periods),
        "annual_volatility": ep.annual_volatility(r, annualization=periods),
        "sharpe_ratio": ep.sharpe_ratio(r, annualization=periods),
        "sortino_ratio": ep.sortino_ratio(r, annualization=periods),
        "downside_risk": ep.downside_risk(r, annualization=periods),
        "calmar_ratio": ep.calmar_ratio(r, annualization=periods),
        "omega_ratio": ep.omega_ratio(r, annualization=periods),
        "max_drawdown": ep.max_drawdown(r),
        "stability_of_timeseries": ep.stability_of_timeseries(r),
        "tail_ratio": ep.tail_ratio(r),
        "value_at_risk": ep.value_at_risk(r, cutoff=0.05),
        "conditional_value_at_risk": ep.conditional_value_at_risk(r, cutoff=0.05),
        "skew": r.skew(),
        "kurtosis": r.kurt(),
        "ulcer_index": qs.stats.ulcer_index(r),
        "best_day": qs.stats.best(r),
        "worst_day": qs.stats.worst(r),
    }
    details = qs.stats.drawdown_details(qs.stats.to_drawdown_series(r))
    out["average_drawdown"] = details["max drawdown"].mean() / 100 if len(details) else 0.0
    under = eq < eq.cummax()
    out["max_drawdown_duration"] = int(under.groupby((~under).cumsum()).sum().max())
    x = r.to_numpy()
    sr = x.mean() / x.std(ddof=1)
    g3, g4 = stats.skew(x, bias=True), stats.kurtosis(x, fisher=False, bias=True)
    out["probabilistic_sharpe_ratio"] = stats.norm.cdf(sr * math.sqrt(len(x) - 1) / math.sqrt(1 - g3 * sr + (g4 - 1) / 4 * sr**2))
    out["min_track_record_length"] = (1 + (1 - g3 * sr + (g4 - 1) / 4 * sr**2) * (stats.norm.ppf(0.95) / sr) ** 2
                                      if sr > 0 else None)

    trades = sim["trades"]
    rets = [t["return"] for t in trades]
    pnls = [t["pnl"] for t in trades]
    wins = [x for x in rets if x > 0]
    losses = [x for x in rets if x < 0]
    mean = lambda v: sum(v) / len(v) if v else None
    out["num_trades"] = len(trades)
    out["win_rate"] = sum(p > 0 for p in pnls) / len(pnls) if pnls else None
    out["best_trade"] = max(rets) if rets else None
    out["worst_trade"] = min(rets) if rets else None
    out["avg_trade"] = (math.exp(sum(math.log1p(x) for x in rets) / len(rets)) - 1 if all(x > -1 for x in rets) else 0.0) if rets else None
    out["avg_win"] = mean(wins)
    out["avg_loss"] = mean(losses)
    out["payoff_ratio"] = out["avg_win"] / abs(out["avg_loss"]) if wins and losses else None
    out["profit_factor"] = sum(wins) / abs(sum(losses)) if losses else None
    out["expectancy"] = mean(rets)
    out["sqn"] = math.sqrt(len(pnls)) * np.mean(pnls) / np.std(pnls, ddof=1) if len(pnls) > 1 else None
    win_pnl = [p for p in pnls if p > 0]
    loss_pnl = [-p for p in pnls if p < 0]
    out["kelly_criterion"] = (out["win_rate"] - (1 - out["win_rate"]) / (mean(win_pnl) / mean(loss_pnl))
                              if win_pnl and loss_pnl else None)
    streak = {"w": 0, "l": 0, "bw": 0, "bl": 0}
    for p in pnls:
        streak["w"], streak["l"] = (streak["w"] + 1, 0) if p > 0 else ((0, streak["l"] + 1) if p < 0 else (0, 0))
        streak["bw"], streak["bl"] = max(streak["bw"], streak["w"]), max(streak["bl"], streak["l"])
    out["max_consecutive_wins"] = streak["bw"]
    out["max_consecutive_losses"] = streak["bl"]
    out["avg_trade_duration"] = mean([t["duration_days"] for t in trades])

    fills = sim["fills"]
    out["final_equity"] = eq.iloc[-1]
    out["exposure_time"] = sim["exposure_time"]
    traded = sum(abs(f["size"] * f["price"]) for f in fills)
    out["turnover"] = traded / eq.mean() / (len(eq) / periods)
    out["total_costs"] = sum(f["commission"] + f["slippage"] for f in fills)
    out["total_commission"] = sum(f["commission"] for f in fills)
    out["buy_and_hold_return"] = close[-1] / close[first_close_index] - 1
    out["num_bars"] = len(eq)
    return {k: (None if v is None or (isinstance(v, float) and not math.isfinite(v)) else
                (int(v) if isinstance(v, (int, np.integer)) else float(v))) for k, v in out.items()}


# ---- the cases


def common_dates(frames):
    """Several symbols trade one portfolio on the dates they share (qts requires files with
    the same dates): each frame cut to the dates every one of them has."""
    dates = set(frames[0]["date"])
    for f in frames[1:]:
        dates &= set(f["date"])
    cut = [f[f["date"].isin(dates)].reset_index(drop=True) for f in frames]
    assert len({len(c) for c in cut}) == 1
    return cut


def case(name, data, strategy, sets, note, signal_from=None):
    cfg = dict(DEFAULTS)
    cfg.update(sets)
    files = data if isinstance(data, list) else [data]
    frames = common_dates([load(f) for f in files])
    closes = [f["close"].to_numpy(float) for f in frames]
    predictions = None
    if strategy["name"] == "sma-cross":
        per_symbol = [sma_cross_targets(c, strategy["fast"], strategy["slow"]) for c in closes]
        targets, warmup = [t for t, _ in per_symbol], per_symbol[0][1]
    else:
        assert len(files) == 1, "a signal case trades one symbol"
        pred, lower, upper = momentum_forecasts(closes[0], signal_from)
        t, warmup = signal_targets(pred, lower, upper, strategy["long_above"], strategy["short_below"])
        targets = [t]
        predictions = [
            {"date": str(frames[0]["date"][i].date()), "prediction": pred[i], "lower": lower[i], "upper": upper[i]}
            for i in range(len(closes[0])) if pred[i] is not None
        ]
    sim = simulate(frames, targets, warmup, cfg)
    m = metrics(sim, max(warmup - 1, 0), closes[0], cfg["backtest.metrics.periods_per_year"])
    dates = sim["dates"]
    doc = {
        "case": name,
        "note": note,
        "data": files,
        "strategy": strategy,
        "sets": [f"{k}={json.dumps(v) if isinstance(v, bool) else v}" for k, v in cfg.items()],
        "predictions": predictions,
        **outcome(sim, m),
    }
    write(name, doc, sim)


def rank_case(name, files, symbols, cuts, strategy, sets, note, z=1.645):
    """A universe case: the symbols of `files` (all when `symbols` is empty), each cut to its
    own history, on the union of their dates, traded by the rank strategy on their forecasts."""
    cfg = dict(DEFAULTS)
    cfg.update(sets)
    frames = load_symbols(files, symbols)
    names = symbols or [pathlib.Path(f).stem for f in files]
    frames = union_dates([cut(f, cuts.get(sym, {})) for f, sym in zip(frames, names)])
    closes = [f["close"].to_numpy(float) for f in frames]
    forecasts = [rank_forecasts(c, z) for c in closes]
    # The parameters as `--param` text, with the documented defaults.
    given = {k: str(v) for k, v in strategy.items() if k != "name"}
    rules = {
        "top": int(given.get("top", "5")),
        "bottom": int(given.get("bottom", "0")),
        "weighting": given.get("weighting", "equal"),
        "drop": None if given.get("drop", "inf") == "inf" else int(given["drop"]),
        "min_forecast": float(given.get("min_forecast", "-inf")),
        "interval": given.get("interval", "ignore"),
        "lookback": int(given.get("lookback", "20")),
    }
    sim = simulate(frames, None, 0, cfg, book=RankBook(forecasts, closes, rules))
    assert not np.isnan(closes[0]).any(), "the first symbol has every date (buy and hold's basis)"
    m = metrics(sim, 0, closes[0], cfg["backtest.metrics.periods_per_year"])
    dates = sim["dates"]
    doc = {
        "case": name,
        "note": note,
        "data": files,
        "symbols": names,
        "cuts": cuts,
        "strategy": strategy,
        "sets": [f"{k}={json.dumps(v) if isinstance(v, bool) else v}" for k, v in cfg.items()],
        "predictions": [
            {"date": str(dates[t].date()), "symbol": names[s], "prediction": f[0], "lower": f[1], "upper": f[2]}
            for t in range(len(dates)) for s, fs in enumerate(forecasts) if (f := fs[t]) is not None
        ],
        "listed": sim["listed"],
        **outcome(sim, m),
    }
    write(name, doc, sim)


def outcome(sim, m):
    """What the simulator produced, as a golden file holds it."""
    dates = sim["dates"]
    return {
        "fills": [dict(f, date=str(dates[f["bar"]].date())) for f in sim["fills"]],
        "equity": sim["equity"],
        "cash": sim["cash"],
        "drawdown": sim["drawdown"],
        "trades": [dict(t, entry_date=str(dates[t["entry_bar"]].date()), exit_date=str(dates[t["exit_bar"]].date()))
                   for t in sim["trades"]],
        "open_positions": sim["open_positions"],
        "metrics": m,
    }


def write(name, doc, sim):
    OUT.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, indent=None, separators=(",", ":")).encode()
    # mtime=0: the gzip header carries no time, so a rerun writes the same bytes.
    with open(OUT / f"{name}.json.gz", "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=9, mtime=0) as f:
        f.write(text)
    reasons = {}
    for f in sim["fills"]:
        reasons[f["reason"]] = reasons.get(f["reason"], 0) + 1
    print(f"{name}: {len(sim['fills'])} fills {reasons}, {len(sim['trades'])} trades, "
          f"final equity {sim['equity'][-1]:.2f}")


def main():
    warnings.simplefilter("ignore")
    case("goog_sma_defaults", "goog_daily.csv", {"name": "sma-cross", "fast": 10, "slow": 30}, {},
         "the shipped defaults: volatility-scaled sizing capped at 25%, 8% stop-loss, 20% breaker with 20 days "
         "of cool-down, weekly on Mondays, whole shares, 5 bp commission and 5 bp slippage")
    case("goog_signal_trailing_take_profit", "goog_daily.csv",
         {"name": "signal", "long_above": 0.0, "short_below": 0.0},
         {"backtest.position_sizing.method": "fixed_fractional", "backtest.position_sizing.fixed_fraction": 0.6,
          "backtest.risk.stop_loss.enabled": False, "backtest.risk.trailing_stop.enabled": True,
          "backtest.risk.trailing_stop.pct": 0.05, "backtest.risk.take_profit.enabled": True,
          "backtest.risk.take_profit.pct": 0.06, "trading.rebalance": "daily", "trading.allow_short": True,
          "risk.max_position_fraction": 0.5},
         "forecasts with intervals (shrunk sizes), shorts, a 5% trailing stop and a 6% take-profit, daily",
         signal_from=250)
    case("goog_atr_monthly_fractional", "goog_daily.csv", {"name": "sma-cross", "fast": 5, "slow": 20},
         {"backtest.risk.stop_loss.enabled": False, "backtest.risk.atr_stop.enabled": True,
          "backtest.risk.atr_stop.multiple": 2.0, "trading.rebalance": "monthly", "trading.fractional_shares": True,
          "backtest.costs.commission_model": "per_share", "backtest.costs.slippage_model": "volatility_scaled",
          "backtest.costs.slippage_volatility_fraction": 0.5, "risk.max_position_fraction": 1.0,
          "backtest.position_sizing.target_volatility": 0.4},
         "an ATR stop (2 × ATR(14) at entry), monthly rebalancing, fractional shares, per-share commission with its "
         "minimum, slippage half the previous day's volatility")
    case("sp500_sma_breaker", "sp500_daily.csv", {"name": "sma-cross", "fast": 20, "slow": 50},
         {"backtest.risk.circuit_breaker.max_drawdown": 0.04, "backtest.risk.circuit_breaker.cooldown_days": 10,
          "trading.rebalance_weekday": "wednesday", "risk.max_position_fraction": 1.0,
          "backtest.position_sizing.target_volatility": 0.3, "backtest.costs.commission_model": "fixed",
          "backtest.costs.commission_fixed": 7.5},
         "a tight breaker (4% drawdown, 10 days of cool-down) that trips and re-enters, weekly on Wednesdays, "
         "a fixed commission per order")
    case("sp500_signal_kelly_short", "sp500_daily.csv", {"name": "signal", "long_above": 0.0005, "short_below": -0.0005},
         {"backtest.position_sizing.method": "kelly", "trading.allow_short": True,
          "backtest.risk.stop_loss.pct": 0.03, "backtest.risk.take_profit.enabled": True,
          "backtest.risk.take_profit.pct": 0.05, "trading.rebalance_weekday": "friday",
          "backtest.position_sizing.shrink_by_interval": False},
         "Kelly sizing from the forecast, shorts with their stops (3% stop-loss above a short's entry, 5% "
         "take-profit below), a dead band between the thresholds, weekly on Fridays", signal_from=1000)
    case("btc_monthly_sma", "btcusd_monthly.csv", {"name": "sma-cross", "fast": 3, "slow": 8},
         {"backtest.metrics.periods_per_year": 12, "backtest.position_sizing.volatility_lookback": 6,
          "trading.fractional_shares": True, "trading.rebalance": "daily", "backtest.risk.stop_loss.pct": 0.25,
          "backtest.risk.circuit_breaker.max_drawdown": 0.5, "risk.max_drawdown": 0.5,
          "backtest.risk.circuit_breaker.cooldown_days": 3,
          "backtest.position_sizing.target_volatility": 0.6},
         "monthly BTC/USD bars (12 periods a year): the volume cap binds early (2.5% of a month's BTC volume), "
         "fractional shares, big gaps through a 25% stop, a breaker at 50%")
    case("btc_monthly_weekly_whole", "btcusd_monthly.csv", {"name": "sma-cross", "fast": 2, "slow": 5},
         {"backtest.metrics.periods_per_year": 12, "backtest.position_sizing.method": "fixed_fractional",
          "backtest.position_sizing.fixed_fraction": 0.9, "risk.max_position_fraction": 0.9,
          "backtest.risk.trailing_stop.enabled": True, "backtest.risk.trailing_stop.pct": 0.3,
          "backtest.costs.max_volume_fraction": 0.01},
         "monthly bars under the weekly rule (each month-end bar opens a new week; those on a weekend too), whole "
         "shares, a 30% trailing stop and the stop-loss, 1% of volume per order")
    case("goog_sp500_risk_parity", ["goog_daily.csv", "sp500_daily.csv"], {"name": "sma-cross", "fast": 10, "slow": 40},
         {"backtest.position_sizing.method": "risk_parity", "risk.max_position_fraction": 0.8,
          "risk.max_gross_exposure": 0.9, "backtest.risk.stop_loss.pct": 0.06},
         "two symbols in one portfolio (GOOG and the S&P 500 on GOOG's dates): risk-parity weights, each capped at "
         "80%, their sum scaled to 90%, sells before buys when they rotate, a stop on each")
    case("goog_sp500_fixed_gross", ["sp500_daily.csv", "goog_daily.csv"], {"name": "sma-cross", "fast": 5, "slow": 25},
         {"backtest.position_sizing.method": "fixed_fractional", "backtest.position_sizing.fixed_fraction": 0.7,
          "risk.max_position_fraction": 0.7, "trading.fractional_shares": True, "trading.rebalance": "daily",
          "backtest.risk.circuit_breaker.max_drawdown": 0.08, "backtest.risk.circuit_breaker.cooldown_days": 5},
         "two symbols at 70% each: together over the gross limit of 1, so both are scaled to 50%; fractional "
         "shares, daily, a breaker at 8% that flattens both")
    rank_case("goog_sp500_rank_union", ["sp500_daily.csv", "goog_daily.csv"], [],
              {"goog_daily": {"drop": ["2008-10-10", "2011-08-08", "2011-08-09"]}},
              {"name": "rank", "top": 1},
              {"risk.max_position_fraction": 1.0, "backtest.risk.stop_loss.enabled": False},
              "GOOG (listed 2004-08-19, no bars after 2013-03-01: delisted while the S&P 500 goes on to 2018, "
              "three days cut out of its history) and the S&P 500 on the union of their dates: long the better "
              "forecast, all in, weekly; whole shares, the shipped costs and breaker")
    rank_case("stocks20_rank_dropout_short", ["stocks20_daily_adjclose.csv"],
              ["JNJ", "AMD", "BBY", "GE", "KO", "XOM", "MSFT"],
              {"JNJ": {"from": "2004-01-02", "to": "2012-12-31"},
               "AMD": {"from": "2006-03-01", "to": "2012-12-31"},
               "BBY": {"from": "2004-01-02", "to": "2010-06-30"},
               "GE": {"from": "2004-01-02", "to": "2012-12-31", "drop": ["2008-09-15", "2008-09-16", "2008-09-17"]},
               "KO": {"from": "2004-01-02", "to": "2012-12-31"},
               "XOM": {"from": "2004-01-02", "to": "2012-12-31", "drop": ["2009-03-09"]},
               "MSFT": {"from": "2004-01-02", "to": "2012-12-31"}},
              {"name": "rank", "top": 3, "bottom": 1, "weighting": "forecast", "drop": "1", "interval": "shrink"},
              {"trading.allow_short": True, "trading.fractional_shares": True, "risk.max_position_fraction": 0.5,
               "backtest.risk.stop_loss.pct": 0.06, "backtest.risk.circuit_breaker.max_drawdown": 0.1,
               "backtest.risk.circuit_breaker.cooldown_days": 5, "trading.rebalance_weekday": "wednesday"},
              "seven of the 20 stocks (adjusted closes only) 2004-2012: AMD listed 2006-03-01, BBY delisted after "
              "2010-06-30, GE without three days of September 2008 and XOM without 2009-03-09; top 3 long by "
              "forecast with TopkDropout (one replaced per week), the worst short, weights shrunk by the interval, "
              "fractional shares, a 6% stop, a breaker at 10%, weekly on Wednesdays")
    rank_case("stocks20_rank_inverse_vol_skip", ["stocks20_daily_adjclose.csv"],
              ["PG", "AAPL", "BAC", "HD", "PFE", "RRC"],
              {"PG": {"from": "2006-01-03", "to": "2011-12-30"},
               "AAPL": {"from": "2006-01-03", "to": "2011-12-30"},
               "BAC": {"from": "2006-01-03", "to": "2009-03-31"},
               "HD": {"from": "2007-06-01", "to": "2011-12-30", "drop": ["2008-10-10"]},
               "PFE": {"from": "2006-01-03", "to": "2011-12-30"},
               "RRC": {"from": "2006-01-03", "to": "2011-12-30"}},
              {"name": "rank", "top": 2, "weighting": "inverse_vol", "interval": "skip", "min_forecast": "0",
               "lookback": 30},
              {"risk.max_position_fraction": 0.6, "trading.rebalance": "monthly"},
              "six stocks 2006-2011: HD listed 2007-06-01 (and without 2008-10-10), BAC delisted after 2009-03-31; "
              "the 2 best positive forecasts whose interval does not straddle zero, inverse-volatility weights over "
              "30 returns, monthly, whole shares, the shipped stop and breaker; intervals ± 0.1 × the daily "
              "volatility, so some straddle zero and some do not", z=0.1)


if __name__ == "__main__":
    main()
