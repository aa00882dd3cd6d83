"""Configuration, validation, features, reports and errors: each what the CLI gives."""

import json
import math

import pandas as pd
import pytest

import qts
from conftest import GOOG, SP500


def test_the_configuration_is_the_cli_configuration(cli_json):
    expected = cli_json("config", "show", "--json", "--set", "backtest.initial_capital=50000")
    cfg = qts.Config.load("config", ["backtest.initial_capital=50000"])
    assert cfg.to_dict() == expected
    assert cfg.files[0] == "config/base_config.yaml"
    assert qts.Config.load().files == []


def test_a_bad_configuration_names_the_key_and_the_file(tmp_path):
    with pytest.raises(qts.ConfigError, match=r"backtest\.nope: unknown key `nope`"):
        qts.Config.load("config", ["backtest.nope=1"])
    (tmp_path / "backtest_config.yaml").write_text("backtest:\n  initial_capital: -5\n")
    with pytest.raises(qts.ConfigError, match=r"backtest_config\.yaml:2.*initial_capital"):
        qts.Config.load(tmp_path)
    with pytest.raises(qts.ConfigError, match="no such configuration directory"):
        qts.Config.load(tmp_path / "missing")
    # One base class for every qts error.
    assert issubclass(qts.ConfigError, qts.QtsError) and issubclass(qts.DataError, qts.QtsError)


def test_files_are_read_under_the_configured_limits(tmp_path):
    small = qts.Config.load("config", ["data.limits.max_rows=1000"])
    limit = r"goog_daily\.csv: 2148 rows exceeds the limit of 1000 set by data\.limits\.max_rows"
    with pytest.raises(qts.DataError, match=limit):
        qts.read_bars(GOOG, small)
    # Every function that takes a path reads it under the same caps.
    with pytest.raises(qts.DataError, match=limit):
        qts.backtest(str(GOOG), "sma-cross", config=small)
    with pytest.raises(qts.DataError, match=limit):
        qts.validate(str(GOOG), small)
    signals = tmp_path / "signals.csv"
    signals.write_text("date,prediction\n" + "".join(f"2010-01-{d:02},0.1\n" for d in range(1, 29)))
    bars = qts.read_bars(GOOG)
    with pytest.raises(qts.DataError, match=r"signals\.csv: 28 rows exceeds the limit of 10 set by data\.limits\.max_rows"):
        qts.backtest(bars, "signal", config=qts.Config.load("config", ["data.limits.max_rows=10"]), signals=signals)
    # The defaults, and a configuration with room, read the file.
    assert len(qts.read_bars(GOOG).to_pandas()) == 2148
    assert len(qts.read_bars(GOOG, qts.Config.load("config")).to_pandas()) == 2148


def test_validation_is_the_cli_report(cli_json):
    for path in [GOOG, SP500]:
        shown = str(path.relative_to(path.parents[2]))
        expected = cli_json("data", "validate", shown, "--json", "--as-of", "2019-01-02")
        got = qts.validate(shown, qts.Config.load("config"), as_of="2019-01-02")
        assert got.doc["report"] == expected["report"]
        assert got.summary == expected["summary"]
        assert len(got.findings) == len(expected["report"]["findings"])
        assert got.findings.column("check") == [f["check"] for f in expected["report"]["findings"]]
    assert "<table>" in got._repr_html_() or "every check passed" in got._repr_html_()
    page = got.page().page
    assert page.startswith("<!DOCTYPE html>") and "sp500_daily" in page


def test_bad_bars_name_the_row_and_the_column():
    frame = pd.read_csv(GOOG, parse_dates=["date"])
    broken = frame.copy()
    broken.loc[7, "close"] = -1.0
    report = qts.validate(broken, as_of="2013-03-01")
    assert report.fails
    assert any(7 in rows for rows in report.findings.column("first_rows"))
    with pytest.raises(qts.DataError, match=r"^<frame>: data validation failed \(.*rows 7\)\); qts.validate\(bars\) lists every finding$"):
        qts.backtest(broken, "sma-cross")
    with pytest.raises(qts.DataError, match=r"no `close` column"):
        qts.Bars.from_frame(frame.drop(columns=["close"]))
    with pytest.raises(qts.DataError, match=r"no time column"):
        qts.Bars.from_frame(frame.drop(columns=["date"]))
    text = frame.assign(volume="many")
    with pytest.raises(qts.DataError, match=r"column `volume` is (large_)?string, expected numbers"):
        qts.Bars.from_frame(text)
    with pytest.raises(qts.DataError, match=r"goog_daily\.csv|missing\.csv"):
        qts.read_bars("examples/data/missing.csv")
    with pytest.raises(qts.BacktestError, match=r"unknown strategy `nope`; known: buy-and-hold, sma-cross, signal, equal-weight, rank"):
        qts.backtest(frame, "nope")
    with pytest.raises(qts.BacktestError, match=r"parameter `speed`"):
        qts.backtest(frame, "sma-cross", {"speed": 3})
    with pytest.raises(ValueError, match="execution"):
        qts.backtest(frame, "sma-cross", execution="fast")


def test_features_are_the_cli_features(cli, tmp_path):
    out = tmp_path / "features.csv"
    cli("features", "examples/data/goog_daily.csv", "--out", str(out))
    written = pd.read_csv(out, parse_dates=["date"])
    got = qts.features(GOOG, qts.Config.load("config")).to_pandas()
    assert list(got.columns[1:]) == list(written.columns[1:])
    assert (got["time"].dt.date == written["date"].dt.date).all()
    for name in written.columns[1:]:
        for a, b in zip(written[name], got[name]):
            assert (math.isnan(a) and math.isnan(b)) or a == b, name


def test_the_report_page_is_the_cli_page(cli, tmp_path):
    page = tmp_path / "report.html"
    cli("backtest", "--data", "examples/data/goog_daily.csv", "--report", str(page))
    r = qts.backtest("examples/data/goog_daily.csv", "sma-cross", config=qts.Config.load("config"))
    html = qts.report(r)
    assert html.page == page.read_text()
    assert html._repr_html_().startswith("<iframe srcdoc=")
    saved = html.save(tmp_path / "again.html")
    assert open(saved).read() == html.page
    # The notebook summary says what was traded, over which span, beside buy-and-hold.
    summary = r._repr_html_()
    assert r.stats["start"] in summary and "buy-and-hold" in summary


def test_strategies_are_listed_with_their_defaults():
    listed = qts.strategies()
    assert set(listed) == {"buy-and-hold", "sma-cross", "signal", "equal-weight", "rank"}
    assert listed["rank"]["params"]["top"] == 5 and listed["rank"]["params"]["weighting"] == "equal"
    defaults = listed["sma-cross"]["params"]
    bars = qts.read_bars(GOOG)
    by_default = qts.backtest(bars, "sma-cross").stats
    explicit = qts.backtest(bars, "sma-cross", defaults).stats
    assert by_default == explicit
    assert json.dumps(listed)
