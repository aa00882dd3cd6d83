"""A backtest from Python is the CLI's backtest: the same JSON to the bit, the same rows, from
a file or from a pandas, polars or pyarrow frame."""

import csv
import math
from pathlib import Path

import pandas as pd
import polars as pl
import pyarrow as pa
import pytest

import qts
from conftest import CONFIG, GOOG, SP500

CASES = [
    ("sma-cross", {"fast": 10, "slow": 30}, [], {}),
    ("buy-and-hold", {}, [], {}),
    ("sma-cross", {"fast": 5, "slow": 50}, ["--execution", "backtesting-py"], {"execution": "backtesting-py"}),
    (
        "sma-cross",
        {"fast": 20, "slow": 60},
        ["--from", "2008-01-02", "--to", "2011-12-30", "--close-at-end"],
        {"start": "2008-01-02", "end": "2011-12-30", "close_at_end": True},
    ),
]


def cli_args(strategy, params, extra, data=GOOG):
    args = ["backtest", "--data", str(data.relative_to(CONFIG.parent)), "--strategy", strategy, "--json"]
    for k, v in params.items():
        args += ["--param", f"{k}={v}"]
    return args + extra


@pytest.mark.parametrize("strategy,params,extra,kwargs", CASES)
def test_a_file_backtest_is_the_cli_json_to_the_bit(cli_json, strategy, params, extra, kwargs):
    expected = cli_json(*cli_args(strategy, params, extra))
    got = qts.backtest(
        qts.read_bars("examples/data/goog_daily.csv"), strategy, params, qts.Config.load("config"), **kwargs
    )
    # Whole documents: every metric, the buy-and-hold baseline, the rules, notes and stamp.
    assert got.stats == expected
    assert got.stats["num_trades"] > 0 or strategy == "buy-and-hold"


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def same_number(text: str, value: float) -> bool:
    parsed = float(text)
    return (math.isnan(parsed) and math.isnan(value)) or parsed == value


def test_trades_and_equity_are_the_cli_files_row_for_row(cli, tmp_path):
    out = tmp_path / "run"
    cli(*cli_args("sma-cross", {"fast": 10, "slow": 30}, ["--out", str(out)]))
    r = qts.backtest(qts.read_bars(GOOG), "sma-cross", {"fast": 10, "slow": 30}, qts.Config.load("config"))
    trades, equity = read_csv(out / "trades.csv"), read_csv(out / "equity.csv")
    assert len(trades) == len(r.trades) == r.stats["num_trades"]
    mine = r.trades.to_arrow().to_pylist()
    for row, t in zip(trades, mine):
        assert row["entry_time"] == t["entry_time"].date().isoformat()
        assert row["exit_time"] == t["exit_time"].date().isoformat()
        assert row["side"] == t["side"]
        for key in ["size", "entry_price", "exit_price", "pnl", "return", "commission", "duration_days"]:
            assert same_number(row[key], t[key]), (key, row[key], t[key])
    assert len(equity) == len(r.equity)
    for row, e in zip(equity, r.equity.to_arrow().to_pylist()):
        assert row["date"] == e["date"].date().isoformat()
        for key in ["equity", "cash", "drawdown", "buy_and_hold", "price"]:
            assert same_number(row[key], e[key]), (key, row[key], e[key])
    # Orders and fills agree with the trades: every fill belongs to a filled order.
    filled = {o["id"] for o in r.orders.to_arrow().to_pylist() if o["status"] == "filled"}
    assert {f["order_id"] for f in r.fills.to_arrow().to_pylist()} <= filled
    assert sum(f["commission"] for f in r.fills.to_arrow().to_pylist()) == pytest.approx(
        r.stats["total_commission"], rel=1e-12
    )


def frames(path: Path):
    frame = pd.read_csv(path, parse_dates=["date"])
    return {
        "pandas with a DatetimeIndex": frame.set_index("date"),
        "pandas with a date column": frame,
        "polars": pl.read_csv(path, try_parse_dates=True),
        "pyarrow": pa.Table.from_pandas(frame, preserve_index=False),
    }


@pytest.mark.parametrize("path", [GOOG, SP500], ids=["goog", "sp500"])
def test_every_frame_library_gives_the_file_result(path):
    cfg = qts.Config.load("config")
    symbol = path.stem
    expected = qts.backtest(qts.read_bars(path), "sma-cross", {"fast": 10, "slow": 40}, cfg).stats
    hashes = set()
    for name, frame in frames(path).items():
        got = qts.backtest(qts.Bars.from_frame(frame, symbol=symbol), "sma-cross", {"fast": 10, "slow": 40}, cfg)
        assert {k: v for k, v in got.stats.items() if k != "stamp"} == {
            k: v for k, v in expected.items() if k != "stamp"
        }, name
        hashes.add(got.stats["stamp"]["data_hash"])
    # The same values give the same stamp, whichever library held them.
    assert len(hashes) == 1


def test_a_pandas_round_trip_keeps_dtypes_zones_and_dates():
    frame = pd.read_csv(GOOG, parse_dates=["date"]).set_index("date")
    pd.testing.assert_frame_equal(qts.Bars.from_frame(frame).to_pandas(), frame)
    nanos = frame.copy()
    nanos.index = nanos.index.astype("datetime64[ns]")
    pd.testing.assert_frame_equal(qts.Bars.from_frame(nanos).to_pandas(), nanos)
    zoned = frame.copy()
    zoned.index = zoned.index.tz_localize("America/New_York")
    zoned.columns = [c.title() for c in zoned.columns]
    back = qts.Bars.from_frame(zoned).to_pandas()
    pd.testing.assert_frame_equal(back, zoned)
    polars = pl.read_csv(GOOG, try_parse_dates=True)
    assert polars.schema["date"] == pl.Date
    assert qts.Bars.from_frame(polars).to_polars().equals(polars)


def test_results_of_zoned_bars_carry_the_zone_and_the_exchange_dates():
    frame = pd.read_csv(GOOG, parse_dates=["date"]).set_index("date")
    zoned = frame.copy()
    zoned.index = zoned.index.tz_localize("America/New_York")
    cfg = qts.Config.load("config")
    naive = qts.backtest(qts.Bars.from_frame(frame, "GOOG"), "sma-cross", {}, cfg)
    aware = qts.backtest(qts.Bars.from_frame(zoned, "GOOG"), "sma-cross", {}, cfg)
    assert aware.stats["final_equity"] == naive.stats["final_equity"]
    dates = aware.equity.to_pandas()["date"]
    assert str(dates.dt.tz) == "America/New_York"
    assert list(dates.dt.date) == list(naive.equity.to_pandas()["date"].dt.date)
    entry = aware.trades.to_pandas()["entry_time"]
    assert str(entry.dt.tz) == "America/New_York"


def predictions(path: Path, tmp_path: Path) -> Path:
    """A predictions file as `qts predict` writes it: yesterday's 5-day return as the
    forecast (known at the close), the first half labelled train."""
    frame = pd.read_csv(path, parse_dates=["date"])
    past = frame["close"].pct_change(5)
    out = pd.DataFrame({"date": frame["date"].dt.strftime("%Y-%m-%d"), "prediction": past})
    out = out.dropna()
    half = len(out) // 2
    out["split"] = ["train"] * half + ["test"] * (len(out) - half)
    file = tmp_path / "predictions.csv"
    out.to_csv(file, index=False)
    return file


def test_signals_from_a_file_or_a_frame_trade_as_the_cli(cli_json, tmp_path):
    file = predictions(GOOG, tmp_path)
    expected = cli_json(*cli_args("signal", {}, ["--signals", str(file)]))
    cfg = qts.Config.load("config")
    from_file = qts.backtest(qts.read_bars("examples/data/goog_daily.csv"), "signal", {}, cfg, signals=file)
    assert from_file.stats == expected
    # The training half is dropped, and the result says so.
    assert any("dropped" in n for n in expected["notes"])
    frame = pd.read_csv(file, parse_dates=["date"])
    from_frame = qts.backtest(qts.read_bars("examples/data/goog_daily.csv"), "signal", {}, cfg, signals=frame)
    drop = {"notes"}
    assert {k: v for k, v in from_frame.stats.items() if k not in drop} == {
        k: v for k, v in expected.items() if k not in drop
    }
    assert from_frame.stats["start"] == frame["date"][len(frame) // 2].date().isoformat()
    with pytest.raises(qts.BacktestError, match="training or validation rows"):
        qts.backtest(qts.read_bars(GOOG), "signal", {}, cfg, signals=frame.iloc[: len(frame) // 2])
    inside = qts.backtest(
        qts.read_bars(GOOG), "signal", {}, cfg, signals=frame, allow_in_sample=True
    )
    assert inside.stats["in_sample"] is True


def test_files_as_they_come_read_through_the_configuration(tmp_path):
    rows = list(csv.DictReader(open(GOOG)))
    vendor = tmp_path / "vendor.csv"
    with open(vendor, "w") as f:
        f.write("Date,Open,High,Low,Last,Vol\n")
        for r in rows:
            y, m, d = r["date"].split("-")
            f.write(f"{m}/{d}/{y},{r['open']},{r['high']},{r['low']},{r['close']},{r['volume']}\n")
    with pytest.raises(Exception, match="--columns close=Last,volume=Vol"):
        qts.read_bars(vendor, qts.Config.load("config"))
    cfg = qts.Config.load(
        "config",
        ["data.providers.local.columns={close: Last, volume: Vol}", "data.providers.local.date_format='%m/%d/%Y'"],
    )
    ours = qts.backtest(qts.read_bars(GOOG), "sma-cross", {"fast": 10, "slow": 40}, cfg).stats
    theirs = qts.backtest(qts.read_bars(vendor, cfg), "sma-cross", {"fast": 10, "slow": 40}, cfg).stats
    for key in ["total_return", "sharpe_ratio", "num_trades"]:
        assert ours[key] == theirs[key], key
    wide = tmp_path / "wide.csv"
    with open(wide, "w") as f:
        f.write("date,A,B\n")
        for r in rows:
            f.write(f"{r['date']},{r['close']},{r['close']}\n")
    with pytest.raises(Exception, match="a wide file of 2 symbols' closes"):
        qts.read_bars(wide, qts.Config.load("config"))


STOCKS20 = CONFIG.parent / "examples" / "data" / "stocks20_daily_adjclose.csv"


def momentum_long(symbols, frame, n=20):
    """20-bar momentum of each symbol as a long frame: date, symbol, prediction."""
    rows = []
    for sym in symbols:
        close = frame[sym]
        pred = close / close.shift(n) - 1
        rows.append(pd.DataFrame({"date": frame["date"], "symbol": sym, "prediction": pred}).dropna())
    return pd.concat(rows, ignore_index=True)


def test_a_universe_backtest_is_the_cli_json_to_the_bit(cli_json, tmp_path):
    wide = pd.read_csv(STOCKS20)
    names = ["AAPL", "MSFT", "KO", "XOM", "JNJ"]
    signals = momentum_long(names, wide)
    path = tmp_path / "momentum.csv"
    signals.to_csv(path, index=False)
    expected = cli_json(
        "backtest", "--data", str(STOCKS20), "--symbols", ",".join(names), "--strategy", "rank",
        "--param", "top=2", "--signals", str(path), "--from", "2015-01-02", "--json",
    )
    cfg = qts.Config.load("config")
    # The symbols of the wide file, and the predictions as a frame with a symbol column.
    got = qts.backtest(qts.read_universe(STOCKS20, names, cfg), "rank", {"top": 2}, cfg,
                       signals=str(path), start="2015-01-02")
    assert got.stats["universe"] == expected["universe"]
    assert got.stats["total_return"] == expected["total_return"]
    assert got.stats["universe"]["rank_ic"]["dates"] > 1000
    from_frame = qts.backtest(qts.read_universe(STOCKS20, names, cfg), "rank", {"top": 2}, cfg,
                              signals=signals, start="2015-01-02")
    assert from_frame.stats["total_return"] == expected["total_return"]
    # One long frame of bars with a symbol column is the same universe.
    long = pd.concat(
        [pd.DataFrame({"date": pd.to_datetime(wide["date"]), "symbol": s, "open": wide[s], "high": wide[s],
                       "low": wide[s], "close": wide[s], "volume": 0.0}) for s in names],
        ignore_index=True,
    )
    bars = qts.universe(long)
    assert [b.symbol for b in bars] == names
    by_long = qts.backtest(long, "rank", {"top": 2}, cfg, signals=signals, start="2015-01-02")
    assert by_long.stats["total_return"] == expected["total_return"]
    with pytest.raises(qts.DataError, match="no symbol NOPE"):
        qts.read_universe(STOCKS20, ["AAPL", "NOPE"])
    with pytest.raises(qts.DataError, match="no `ticker` column"):
        qts.universe(long, symbol_column="ticker")
