"""The API reference builds from the docstrings with no warning (Sphinx, warnings as errors),
and documents every public name."""

import subprocess
import sys
from pathlib import Path

import qts

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_the_api_reference_builds_without_warnings(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "index.html").read_text()
    for name in qts.__all__:
        assert f"qts.{name}" in page, f"{name} is not in the API reference"


def test_every_public_name_has_a_docstring():
    missing = [n for n in qts.__all__ if not (getattr(qts, n).__doc__ or "").strip()]
    assert missing == []


def test_the_tour_in_docs_python_md_runs_as_written():
    text = (DOCS.parents[2] / "docs" / "python.md").read_text()
    tour = text.split("## A tour", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    scope: dict = {}
    exec(compile(tour, "docs/python.md (A tour)", "exec"), scope)
    assert scope["result"].stats["strategy"] == "sma-cross(10, 30)"
    assert scope["cfg"].to_dict()["backtest"]["initial_capital"] == 50000
