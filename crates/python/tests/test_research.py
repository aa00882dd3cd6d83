"""The research tools from Python: the CLI's answers, from the same library calls."""

import pytest

import qts
from conftest import GOOG, SP500


def test_a_search_is_the_cli_search(cli_json, tmp_path):
    expected = cli_json(
        "optimize", "--data", "examples/data/goog_daily.csv", "--strategy", "sma-cross",
        "--grid", "fast=5:30:5", "--grid", "slow=20,40,60,80", "--maximize", "sharpe_ratio", "--json",
    )
    got = qts.optimize(
        "examples/data/goog_daily.csv", "sma-cross", {"fast": "5:30:5", "slow": [20, 40, 60, 80]},
        maximize="sharpe_ratio", config=qts.Config.load("config"),
    )
    assert got.report == expected
    assert len(got.trials) == expected["trials"]
    # The same grid written as ranges (STOP excluded, as Python's range).
    again = qts.optimize(
        "examples/data/goog_daily.csv", "sma-cross", {"fast": range(5, 30, 5), "slow": range(20, 81, 20)},
        maximize="sharpe_ratio", config=qts.Config.load("config"),
    )
    assert again.report == expected
    random = qts.optimize(
        GOOG, "sma-cross", {"fast": range(5, 31, 5), "slow": range(20, 81, 20)},
        maximize="final_equity", method="random", trials=7, seed=3,
    )
    # Seven points drawn; those with fast ≥ slow are skipped and counted.
    assert random.report["trials"] + random.report["skipped"] == 7
    with pytest.raises(qts.BacktestError, match="grid"):
        qts.optimize(GOOG, "sma-cross", {"fast": "5:1:0"}, maximize="final_equity")
    with pytest.raises(ValueError, match="at least one parameter"):
        qts.optimize(GOOG, "sma-cross", {}, maximize="final_equity")


def test_a_walk_forward_is_the_cli_walk_forward(cli_json):
    expected = cli_json(
        "walk-forward", "--data", "examples/data/sp500_daily.csv", "--strategy", "sma-cross",
        "--grid", "fast=10,20,40", "--grid", "slow=60,120", "--maximize", "sharpe_ratio",
        "--train", "756", "--test", "252", "--json",
    )
    got = qts.walk_forward(
        "examples/data/sp500_daily.csv", "sma-cross", {"fast": [10, 20, 40], "slow": [60, 120]},
        maximize="sharpe_ratio", train=756, test=252, config=qts.Config.load("config"),
    )
    for key in ("what", "data"):
        expected.pop(key)
    assert got.report == expected
    assert len(got.windows) == len(expected["windows"]) > 5
    assert got.oos_equity.columns == ["date", "equity", "buy_and_hold", "exposure"]
    # No windows given: the configuration's backtest.walk_forward (756 / 252 / 252).
    by_config = qts.walk_forward(
        "examples/data/sp500_daily.csv", "sma-cross", {"fast": [10, 20, 40], "slow": [60, 120]},
        maximize="sharpe_ratio", config=qts.Config.load("config"),
    )
    assert by_config.report == got.report


@pytest.mark.parametrize("method", ["iid", "block", "trades", "student-t"])
def test_monte_carlo_of_a_result_is_the_cli_on_its_folder(cli, cli_json, tmp_path, method):
    out = tmp_path / "run"
    cli("backtest", "--data", "examples/data/goog_daily.csv", "--out", str(out))
    expected = cli_json("monte-carlo", "--run", str(out), "--method", method, "--paths", "500", "--json")
    result = qts.backtest("examples/data/goog_daily.csv", "sma-cross", config=qts.Config.load("config"))
    got = qts.monte_carlo(result, method=method, paths=500)
    expected.pop("source")
    assert got == expected
    assert got["final_equity"]["lower"] < got["final_equity"]["upper"]
    # What is not given comes from backtest.monte_carlo.
    cfg = qts.Config.load("config", [f"backtest.monte_carlo.method={method.replace('-', '_')}",
                                     "backtest.monte_carlo.simulations=500"])
    assert qts.monte_carlo(result, config=cfg) == got


def test_a_long_search_reports_progress_and_stops_on_ctrl_c(ctrl_c):
    seen = []
    grid = {"fast": range(2, 100), "slow": range(101, 300)}
    done = qts.optimize(SP500, "sma-cross", {"fast": range(5, 30, 5), "slow": [40, 80]}, maximize="final_equity",
                        progress=lambda d, t: seen.append((d, t)))
    # The last report is the whole grid.
    assert seen[-1] == (10, 10) and done.report["trials"] == 10

    import _thread

    seen.clear()

    def watch(done, total):
        seen.append((done, total))
        if len(seen) == 1:
            # Ctrl-C as Python delivers it (SIGINT's flag), at the first report of a search of
            # 19,502 points.
            _thread.interrupt_main()

    with pytest.raises(KeyboardInterrupt):
        qts.optimize(SP500, "sma-cross", grid, maximize="final_equity", progress=watch)
    total = 98 * 199
    assert seen and all(t == total for _, t in seen)
    assert seen[-1][0] < total, "the search ran to its end after Ctrl-C"
    # The pool is free again: the next search runs.
    again = qts.optimize(GOOG, "sma-cross", {"fast": [5, 10], "slow": [40]}, maximize="final_equity")
    assert again.report["trials"] == 2


def test_a_walk_forward_reports_its_windows(capsys):
    qts.walk_forward(SP500, "sma-cross", {"fast": [10, 20], "slow": [60]}, maximize="sharpe_ratio",
                     train=756, test=252, progress=True)
    out = capsys.readouterr().out
    import re

    # Each line: the windows done and the time left at the pace so far.
    last = out.rstrip("\n").split("\r")[-1]
    assert re.fullmatch(r"walk-forward: (\d+)/\1 windows · \d+s elapsed, about 0s left", last), repr(last)
    assert "\rwalk-forward: " in out and out.endswith("\n")


def test_a_walk_whose_sharpe_ratio_is_undefined_still_shows_itself():
    # Regression: a walk with no trades out of sample (its Sharpe ratio `null` in the JSON)
    # raised TypeError from its repr, so a notebook could not display it.
    import pyarrow as pa

    windows = qts.Table(pa.table({"window": [1, 2]}))
    walk = qts.WalkForward({"out_of_sample": {"sharpe_ratio": None}}, windows, windows)
    assert repr(walk) == "WalkForward(2 windows; out of sample: Sharpe n/a)"
    walk.report["out_of_sample"]["sharpe_ratio"] = 1.2345
    assert repr(walk) == "WalkForward(2 windows; out of sample: Sharpe 1.23)"
