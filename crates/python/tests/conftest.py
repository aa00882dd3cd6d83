"""Shared fixtures: the repository's sample data and configuration, and the `qts` command the
Python results are compared with (``QTS_BIN``, set by scripts/test.sh)."""

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
GOOG = ROOT / "examples" / "data" / "goog_daily.csv"
SP500 = ROOT / "examples" / "data" / "sp500_daily.csv"
CONFIG = ROOT / "config"


@pytest.fixture(scope="session")
def qts_bin() -> str:
    path = os.environ.get("QTS_BIN")
    if not path or not Path(path).is_file():
        pytest.fail(
            "QTS_BIN must name the `qts` executable the results are compared with "
            "(scripts/test.sh sets it after `cargo test` builds it)"
        )
    return path


@pytest.fixture(scope="session")
def qts_torch_bin(qts_bin) -> str:
    """The `qts-torch` executable beside `qts` (the model commands the results are compared with)."""
    path = Path(qts_bin).with_name("qts-torch")
    if not path.is_file():
        pytest.fail(f"{path}: the qts-torch executable the models are compared with (scripts/test.sh builds it)")
    return str(path)


@pytest.fixture(scope="session")
def cli(qts_bin):
    """Runs `qts ARGS` from the repository root; returns stdout, failing on a non-zero exit."""

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [qts_bin, *args], cwd=ROOT, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}
        )
        if check and done.returncode != 0:
            pytest.fail(f"qts {' '.join(args)} exited {done.returncode}: {done.stderr}")
        return done

    return run


@pytest.fixture(scope="session")
def cli_json(cli):
    def run(*args: str) -> dict:
        return json.loads(cli(*args).stdout)

    return run


@pytest.fixture
def ctrl_c():
    """Python's own SIGINT handler for the test, as a terminal gives it: a process started in the
    background by a non-interactive shell ignores SIGINT, and `_thread.interrupt_main()` (the
    tests' Ctrl-C) then does nothing."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.fixture(autouse=True)
def at_root(monkeypatch):
    # The configuration files are stamped as the CLI names them: relative to the root.
    monkeypatch.chdir(ROOT)
