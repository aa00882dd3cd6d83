#!/usr/bin/env bash
# Sourced by the test script: a venv outside the clone with what the Python package's tests
# and notebooks need (crates/python/requirements-test.txt, pinned), installed once per
# machine and again whenever that file changes; exports QTS_PYTHON, its interpreter.
#
#   QTS_PYTHON_VENV   where the venv lives (default: $HOME/.cache/qts/python-test)
qts_python_req="crates/python/requirements-test.txt"
qts_python_venv="${QTS_PYTHON_VENV:-$HOME/.cache/qts/python-test}"
qts_python_stamp="$qts_python_venv/.installed-$(sha256sum "$qts_python_req" | cut -c1-16)"
if [ ! -f "$qts_python_stamp" ]; then
    echo "installing the Python test requirements into $qts_python_venv (once per machine)" >&2
    python3 -m venv "$qts_python_venv"
    "$qts_python_venv/bin/pip" install --quiet --disable-pip-version-check -r "$qts_python_req"
    touch "$qts_python_stamp"
fi
export QTS_PYTHON="$qts_python_venv/bin/python"
