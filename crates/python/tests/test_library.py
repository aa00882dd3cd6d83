"""Everything the CLI can do, from Python: the main job, a model walked forward and searched,
decisions, the paper account, tracked runs, reproduction, comparisons and the registry — each
the same library call as the command, so the same numbers to the bit."""

import json
from pathlib import Path

import pytest

import qts
from conftest import GOOG, ROOT

# Small enough that a debug build trains in seconds (as test_models' SMALL).
SMALL = [
    "model.training.epochs=2",
    "model.training.warmup_epochs=1",
    "model.lstm.hidden_size=8",
    "model.data.lookback=20",
    "model.data.purge_gap=20",
]


def where(tmp: Path, who: str) -> list[str]:
    return [
        f"registry.directory={tmp / who / 'models'}",
        f"model.training.checkpoints.directory={tmp / who / 'checkpoints'}",
        f"mlflow.local_store={tmp / who / 'runs'}",
        f"paper.database={tmp / who / 'paper.sqlite'}",
        f"monitoring.alert_log={tmp / who / 'alerts.jsonl'}",
    ]


def run_json(binary: str, overrides: list[str], *args: str) -> dict:
    import subprocess

    cmd = [binary, "-C", "config"]
    for o in overrides:
        cmd += ["--set", o]
    done = subprocess.run([*cmd, *args], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_namespace_holds_only_the_api():
    assert dir(qts) == sorted(qts.__all__)
    for name in qts.__all__:
        assert hasattr(qts, name), name
    for leaked in ("Any", "Optional", "Mapping", "annotations"):
        assert leaked not in dir(qts)


def test_the_main_job_from_python_is_qts_run(qts_torch_bin, tmp_path):
    settings = SMALL + ["model.training.epochs=2"]
    cli = run_json(
        qts_torch_bin, settings + where(tmp_path, "cli"), "run", "--data", "examples/data/goog_daily.csv",
        "--train", "500", "--test", "250", "--paths", "200", "--out", str(tmp_path / "cli" / "out"), "--json",
    )
    stages = []
    got = qts.run(
        "examples/data/goog_daily.csv", qts.Config.load("config", settings + where(tmp_path, "py")),
        out=tmp_path / "py" / "out", train=500, test=250, paths=200,
        progress=lambda *a: stages.append(a),
    )
    mine = dict(got.summary)
    # Everything but the wall time and where the pages went is the CLI's, to the bit.
    for key in ("seconds", "reports"):
        cli.pop(key)
        mine.pop(key)
    assert mine == cli
    assert [s[0] for s in stages if len(s) == 3] == [1, 2, 3, 4, 5, 6, 7]
    assert mine["out_of_sample"]["windows"] >= 5
    assert "<svg" in got.page().page and "<svg" in got.page("walk_forward").page
    # Tracked in the configuration's run store, as `qts run` is.
    assert any(r["run"]["name"] == "run: model vs baselines" for r in qts.runs(
        qts.Config.load("config", where(tmp_path, "py"))))


def test_a_model_walked_forward_from_python_is_the_cli_walk(qts_torch_bin, tmp_path):
    cli = run_json(
        qts_torch_bin, SMALL + where(tmp_path, "cli"), "walk-forward", "--data", "examples/data/goog_daily.csv",
        "--model-config", "config/model_configs/lstm_default.yaml", "--train", "600", "--test", "400", "--json",
    )
    cfg = qts.Config.load("config", SMALL + where(tmp_path, "py"), model="config/model_configs/lstm_default.yaml")
    got = qts.walk_forward_model("examples/data/goog_daily.csv", cfg, train=600, test=400)
    assert got.report == cli
    assert len(got.windows) == len(cli["windows"]) >= 3
    assert all(w["params"].startswith("model=lstm_default-wf@") for w in cli["windows"])


def three_stocks(tmp: Path) -> Path:
    """AAPL, MSFT (listed 2011) and KO (delisted mid-2014) of the wide file, 2010–2014."""
    lines = (ROOT / "examples/data/stocks20_daily_adjclose.csv").read_text().splitlines()
    header = lines[0].split(",")
    a, m, k = (header.index(s) for s in ("AAPL", "MSFT", "KO"))
    rows = ["date,AAPL,MSFT,KO"]
    for line in lines[1:]:
        c = line.split(",")
        if "2010-01-01" <= c[0] <= "2014-12-31":
            msft = "" if c[0] < "2011-01-03" else c[m]
            ko = "" if c[0] > "2014-06-30" else c[k]
            rows.append(f"{c[0]},{c[a]},{msft},{ko}")
    path = tmp / "three.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_the_main_job_on_a_universe_from_python_is_qts_run(qts_torch_bin, tmp_path):
    data = three_stocks(tmp_path)
    cli = run_json(
        qts_torch_bin, SMALL + where(tmp_path, "cli"), "run", "--data", str(data), "--param", "top=1",
        "--train", "500", "--test", "250", "--paths", "200", "--out", str(tmp_path / "cli" / "out"), "--json",
    )
    got = qts.run(
        qts.read_universe(data), qts.Config.load("config", SMALL + where(tmp_path, "py")),
        out=tmp_path / "py" / "out", train=500, test=250, paths=200, params={"top": 1}, track=False,
    )
    mine = dict(got.summary)
    for key in ("seconds", "reports", "data"):
        cli.pop(key)
        mine.pop(key)
    assert mine == cli
    assert mine["universe"]["symbols"] == ["AAPL", "MSFT", "KO"]
    assert mine["universe"]["strategy"].startswith("rank(top 1")


def test_a_universe_walked_forward_from_python_is_the_cli_walk(qts_torch_bin, tmp_path):
    data = three_stocks(tmp_path)
    cli = run_json(
        qts_torch_bin, SMALL + where(tmp_path, "cli"), "walk-forward", "--data", str(data),
        "--model-config", "config/model_configs/lstm_default.yaml", "--strategy", "rank", "--param", "top=1",
        "--train", "500", "--test", "250", "--json",
    )
    cfg = qts.Config.load("config", SMALL + where(tmp_path, "py"), model="config/model_configs/lstm_default.yaml")
    got = qts.walk_forward_model(qts.read_universe(data), cfg, train=500, test=250, params={"top": 1})
    cli.pop("data")
    mine = dict(got.report)
    mine.pop("data")
    assert mine == cli
    assert all(abs(w["rank_ic"]) <= 1 for w in mine["windows"])


def test_a_model_search_from_python_is_the_cli_search(qts_torch_bin, tmp_path):
    cli = run_json(
        qts_torch_bin, SMALL + where(tmp_path, "cli"), "optimize", "--data", "examples/data/goog_daily.csv",
        "--model-config", "config/model_configs/lstm_default.yaml", "--search", "lstm.hidden_size=4,8",
        "--method", "grid", "--json",
    )
    cfg = qts.Config.load("config", SMALL + where(tmp_path, "py"), model="config/model_configs/lstm_default.yaml")
    got = qts.search_model("examples/data/goog_daily.csv", cfg, space={"lstm.hidden_size": "4,8"}, method="grid")
    assert got.report == cli
    assert got.report["trials"] == len(got.trials) == 2


def test_a_decision_from_python_is_qts_decide(cli_json, tmp_path):
    cli = cli_json(
        "decide", "--data", "examples/data/goog_daily.csv", "--param", "fast=10", "--param", "slow=20",
        "--as-of", "2013-03-01", "--json",
    )
    cfg = qts.Config.load("config")
    got = qts.decide("examples/data/goog_daily.csv", "sma-cross", {"fast": 10, "slow": 20}, cfg, as_of="2013-03-01")
    assert got == cli
    # Bars handed over decide the same (their stamp names their source).
    bars = qts.read_bars("examples/data/goog_daily.csv")
    framed = qts.decide(bars, "sma-cross", {"fast": 10, "slow": 20}, cfg, as_of="2013-03-01")
    assert framed["orders"] == cli["orders"] and framed["equity"] == cli["equity"]
    # For a real account's holdings, as `--holdings FILE`.
    held = tmp_path / "holdings.csv"
    held.write_text("symbol,shares\ngoog_daily,10\nCASH,5000\n")
    cli = cli_json(
        "decide", "--data", "examples/data/goog_daily.csv", "--param", "fast=10", "--param", "slow=20",
        "--as-of", "2013-02-22", "--holdings", str(held), "--json",
    )
    got = qts.decide(
        "examples/data/goog_daily.csv", "sma-cross", {"fast": 10, "slow": 20}, cfg, as_of="2013-02-22",
        holdings={"goog_daily": 10, "CASH": 5000},
    )
    assert cli["account"] == "holdings"
    assert got == cli


def test_the_paper_account_from_python_is_qts_paper(qts_bin, tmp_path, monkeypatch):
    import subprocess

    # The same settings (relative paths) in two folders: the same fingerprint, two accounts.
    rel = ["paper.database=paper.sqlite", "monitoring.alert_log=alerts.jsonl", "mlflow.local_store=runs"]
    goog = str(GOOG)

    def cli(*args: str) -> str:
        cmd = [qts_bin, "-C", str(ROOT / "config"), *sum((["--set", o] for o in rel), []), *args]
        (tmp_path / "cli").mkdir(exist_ok=True)
        done = subprocess.run(cmd, cwd=tmp_path / "cli", capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("paper", "init", "--cash", "100000", "--data", goog)
    (tmp_path / "py").mkdir()
    monkeypatch.chdir(tmp_path / "py")
    cfg = qts.Config.load(ROOT / "config", rel)
    opened = qts.paper_open(100000, goog, config=cfg)
    assert opened["strategy"] == "sma-cross" and opened["steps"] == 0
    for day in ("2012-06-01", "2012-06-04", "2012-06-05"):
        want = json.loads(cli("paper", "step", "--as-of", day, "--json"))
        assert qts.paper_step(day, cfg) == want, day
    want = json.loads(cli("paper", "status", "--json"))
    assert qts.paper_status(cfg) == want
    assert len(qts.paper_history(cfg)) == 3


def test_a_paper_account_opened_with_holdings_from_python_is_the_cli_one(qts_bin, tmp_path, monkeypatch):
    import subprocess

    rel = ["paper.database=paper.sqlite", "monitoring.alert_log=alerts.jsonl", "mlflow.local_store=runs"]
    goog = str(GOOG)
    (tmp_path / "cli").mkdir()
    (tmp_path / "cli" / "h.csv").write_text("symbol,shares\ngoog_daily,100\nCASH,20000\n")

    def cli(*args: str) -> str:
        cmd = [qts_bin, "-C", str(ROOT / "config"), *sum((["--set", o] for o in rel), []), *args]
        done = subprocess.run(cmd, cwd=tmp_path / "cli", capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    cli("paper", "init", "--holdings", "h.csv", "--data", goog)
    (tmp_path / "py").mkdir()
    monkeypatch.chdir(tmp_path / "py")
    cfg = qts.Config.load(ROOT / "config", rel)
    opened = qts.paper_open(None, goog, config=cfg, holdings={"goog_daily": 100, "CASH": 20000})
    assert opened["opening_holdings"] == [["goog_daily", 100.0]] and opened["initial_cash"] == 20000
    for day in ("2012-06-01", "2012-06-04"):
        want = json.loads(cli("paper", "step", "--as-of", day, "--json"))
        assert qts.paper_step(day, cfg) == want, day
    assert qts.paper_status(cfg) == json.loads(cli("paper", "status", "--json"))
    with pytest.raises(ValueError, match="either cash or holdings"):
        qts.paper_open(5, goog, config=cfg, holdings={"CASH": 1})


def test_tracked_calls_land_in_the_cli_run_store_and_reproduce(qts_bin, cli, tmp_path):
    overrides = where(tmp_path, "py")
    cfg = qts.Config.load("config", overrides)
    result = qts.backtest("examples/data/goog_daily.csv", "sma-cross", {"fast": 10, "slow": 30}, cfg, track=True)
    cli("backtest", "--data", "examples/data/goog_daily.csv", "--param", "fast=10", "--param", "slow=30",
        *sum((["--set", o] for o in overrides), []))
    stored = qts.runs(cfg)
    assert len(stored) == 2
    tags = [dict(r["run"]["tags"]) for r in stored]
    lines = sorted(t["qts.command_line"] for t in tags)
    assert lines[0].startswith("python: qts.backtest") and lines[1].startswith("qts ")
    assert [t["qts.command"] for t in tags] == ["backtest", "backtest"]
    metrics = [{m["key"]: m["value"] for m in r["run"]["metrics"]} for r in stored]
    assert metrics[0] == metrics[1]
    assert metrics[0]["sharpe_ratio"] == result.stats["sharpe_ratio"]
    # The two are the same backtest: their Sharpe ratios do not differ.
    cmp = qts.compare_runs([r["run_id"] for r in stored], cfg)
    assert cmp["significance"][0]["periods"] > 1000 and cmp["significance"][0]["sharpe_a"] == cmp["significance"][0]["sharpe_b"]
    assert qts.best_run("sharpe_ratio", cfg)["value"] == result.stats["sharpe_ratio"]
    # The CLI's run re-runs from Python, to the bit; the Python one has no command to re-run.
    cli_id = next(r["run_id"] for r, t in zip(stored, tags) if "qts.argv" in t)
    again = qts.reproduce(cli_id, cfg, exe=qts_bin)
    assert again["same"] and again["data_unchanged"]
    py_id = next(r["run_id"] for r in stored if r["run_id"] != cli_id)
    with pytest.raises(qts.BacktestError, match="qts.argv"):
        qts.reproduce(py_id, cfg, exe=qts_bin)


def test_result_folders_compare_and_draw_as_the_cli_does(cli, cli_json, tmp_path):
    for fast in (10, 20):
        cli("backtest", "--data", "examples/data/goog_daily.csv", "--param", f"fast={fast}", "--param", "slow=50",
            "--out", str(tmp_path / f"f{fast}"))
    want = cli_json("compare", str(tmp_path / "f10"), str(tmp_path / "f20"), "--json",
                    "--out", str(tmp_path / "compare.html"))
    got = qts.compare([tmp_path / "f10", tmp_path / "f20"])
    assert got.report == want
    assert got.page.page == (tmp_path / "compare.html").read_text()
    cli("report", str(tmp_path / "f10"))
    assert qts.report(tmp_path / "f10").page == (tmp_path / "f10" / "report.html").read_text()


def test_the_registry_from_python_is_the_cli_registry(qts_torch_bin, tmp_path):
    cfg = qts.Config.load("config", SMALL + where(tmp_path, "py"))
    qts.train("examples/data/goog_daily.csv", cfg)
    [row] = qts.models_list(cfg)
    assert row["name"] == "lstm_default" and row["versions"] == [1]
    card = qts.models_show("lstm_default@1", cfg)
    assert card == run_json(qts_torch_bin, SMALL + where(tmp_path, "py"), "models", "show", "lstm_default@1", "--json")
    promoted = qts.models_promote("lstm_default@1", "production", cfg)
    assert promoted["version"] == 1 and promoted["mlflow"] is None
    assert qts.models_show("lstm_default@production", cfg)["version"] == 1
    nets = ROOT / "crates/models/tests/golden/networks"
    imported = qts.models_import(nets / "user_lstm.pt", nets / "user_lstm.yaml", "mine", cfg, pytorch=True)
    assert imported["name"] == "mine" and imported["version"] == 1
