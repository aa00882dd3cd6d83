"""Training and prediction from Python (the model extension, qts_torch): the CLI's models,
the CLI's predictions, and a backtest of them equal to the CLI's."""

import json
import subprocess
from pathlib import Path

import pytest

import qts
from conftest import GOOG, ROOT

# Small enough that a debug build trains in seconds (as the CLI tests' SMALL).
SMALL = [
    "model.training.epochs=3",
    "model.training.warmup_epochs=1",
    "model.lstm.hidden_size=16",
    "model.data.lookback=20",
    "model.data.purge_gap=20",
]


def settings(tmp: Path, who: str) -> list[str]:
    return SMALL + [
        f"registry.directory={tmp / who / 'models'}",
        f"model.training.checkpoints.directory={tmp / who / 'checkpoints'}",
        f"mlflow.local_store={tmp / who / 'runs'}",
    ]


def run_cli(binary: str, overrides: list[str], *args: str) -> str:
    cmd = [binary, "-C", "config"]
    for o in overrides:
        cmd += ["--set", o]
    done = subprocess.run([*cmd, *args], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_model_trained_from_python_is_the_cli_model(qts_torch_bin, tmp_path):
    cli = json.loads(run_cli(qts_torch_bin, settings(tmp_path, "cli"), "train", "--data", "examples/data/goog_daily.csv", "--json"))
    epochs = []
    cfg = qts.Config.load("config", settings(tmp_path, "py"))
    mine = qts.train("examples/data/goog_daily.csv", cfg, progress=epochs.append)
    assert mine["name"] == cli["name"] == "lstm_default" and mine["version"] == cli["version"] == 1
    # Same data, configuration and seed: the same network, to the bit.
    assert mine["metrics"] == cli["metrics"]
    weights = lambda who: (tmp_path / who / "models" / "lstm_default" / "1" / "weights.safetensors").read_bytes()
    assert weights("py") == weights("cli")
    assert [e["epoch"] for e in epochs] == [1, 2, 3]
    assert all(e["val_loss"] > 0 for e in epochs)

    # Its predictions are the CLI's, and trading them is the CLI's backtest.
    out = tmp_path / "predictions.csv"
    run_cli(qts_torch_bin, settings(tmp_path, "cli"), "predict", "--model", "lstm_default", "--data",
            "examples/data/goog_daily.csv", "--from", "2011-03-01", "--mc-dropout", "5", "--out", str(out))
    table = qts.predict("lstm_default", GOOG, cfg, start="2011-03-01", mc_dropout=5)
    rows = out.read_text().splitlines()
    header = rows[0].split(",")
    assert header == ["date"] + table.columns[1:]
    got = table.to_arrow().to_pylist()
    assert len(rows) - 1 == len(got) > 400
    for line, row in zip(rows[1:], got):
        cells = dict(zip(header, line.split(",")))
        assert cells["date"] == row["time"].date().isoformat()
        for k in ("prediction", "lower", "upper"):
            assert float(cells[k]) == row[k], (k, cells[k], row[k])
        assert cells["split"] == row["split"]
    expected = json.loads(run_cli(str(Path(qts_torch_bin).with_name("qts")), [], "backtest", "--data",
                                  "examples/data/goog_daily.csv", "--strategy", "signal", "--signals", str(out), "--json"))
    traded = qts.backtest("examples/data/goog_daily.csv", "signal", config=qts.Config.load("config"), signals=table)
    drop = {"notes"}
    assert {k: v for k, v in traded.stats.items() if k not in drop} == {k: v for k, v in expected.items() if k not in drop}


def test_bad_model_calls_say_what_is_wrong(tmp_path):
    cfg = qts.Config.load("config", settings(tmp_path, "py"))
    with pytest.raises(qts.QtsError, match="no model|not found|no such"):
        qts.predict("nothing_here", GOOG, cfg)
    with pytest.raises(ValueError, match="seeds must be at least 1"):
        qts.train(GOOG, cfg, seeds=0)
    with pytest.raises(qts.DataError, match="adj_close"):
        qts.train(GOOG, cfg, adjust=True)
    with pytest.raises(qts.ConfigError, match="model.lstm.nope"):
        qts.Config.load("config", ["model.lstm.nope=1"])


def test_models_compare_with_their_significance_as_the_cli(qts_torch_bin, tmp_path):
    base = settings(tmp_path, "py")
    cfg = qts.Config.load("config", base)
    qts.train(GOOG, cfg)
    qts.train(GOOG, qts.Config.load("config", base + ["reproducibility.seed=7"]))
    got = qts.compare_models(["lstm_default@1", "lstm_default@2"], cfg)
    cli = json.loads(run_cli(qts_torch_bin, base, "models", "compare", "lstm_default@1", "lstm_default@2", "--json"))
    assert got.metrics == cli
    assert got.tests[0] == ["lstm_default@1", None]
    name, test = got.tests[1]
    assert name == "lstm_default@2" and test["periods"] > 50
    # The same test from the errors in the two versions' test_predictions.csv.
    def errors(version):
        path = tmp_path / "py" / "models" / "lstm_default" / str(version) / "test_predictions.csv"
        rows = [line.split(",") for line in path.read_text().splitlines()[1:]]
        return {r[0]: float(r[1]) - float(r[2]) for r in rows}
    e1, e2 = errors(1), errors(2)
    days = sorted(set(e1) & set(e2))
    direct = qts.diebold_mariano([e2[d] for d in days], [e1[d] for d in days])
    assert direct == test
    text = run_cli(qts_torch_bin, base, "models", "compare", "lstm_default@1", "lstm_default@2")
    assert f"p {test['p_value']:.4f}" in text
    assert "lstm_default" in got._repr_html_() and list(got.to_pandas().columns) == ["lstm_default@1", "lstm_default@2"]
    with pytest.raises(ValueError, match="at least two"):
        qts.compare_models(["lstm_default@1"], cfg)
    with pytest.raises(ValueError, match="loss"):
        qts.diebold_mariano([0.1, 0.2, 0.3], [0.1, 0.2, 0.4], loss="cubic")


def test_ctrl_c_stops_a_training_and_resume_continues_it(tmp_path, ctrl_c):
    import _thread

    cfg = qts.Config.load("config", settings(tmp_path, "py") + ["model.training.epochs=400",
                                                                 "model.training.early_stopping.enabled=false"])
    epochs = []

    def watch(log):
        epochs.append(log)
        if len(epochs) == 2:
            # Ctrl-C as Python delivers it (SIGINT's flag), once two epochs are done.
            _thread.interrupt_main()

    with pytest.raises(KeyboardInterrupt):
        qts.train(GOOG, cfg, progress=watch)
    # Stopped after the current batch of the third epoch: it never finished.
    assert len(epochs) == 2, len(epochs)
    # Nothing was registered; the checkpoint of the last finished epoch is there to resume.
    assert not (tmp_path / "py" / "models" / "lstm_default").exists()
    assert any((tmp_path / "py" / "checkpoints").rglob("*"))
