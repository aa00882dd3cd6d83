#!/usr/bin/env bash
# Sourced by the test script: makes sure a real MLflow server (PyPI mlflow==3.17.2; 3.18.0's
# mlflow-skinny was missing from the registry) is installed in a venv outside the clone, so a
# machine pays for the download once (~30 s, ~850 MB), and tells the tracking tests where it is.
#
#   QTS_MLFLOW_VENV   where the venv lives (default: $HOME/.cache/qts/mlflow-3.17.2)
qts_mlflow_version="3.17.2"
qts_mlflow_venv="${QTS_MLFLOW_VENV:-$HOME/.cache/qts/mlflow-$qts_mlflow_version}"
if [ ! -f "$qts_mlflow_venv/.installed-$qts_mlflow_version" ]; then
    echo "installing mlflow==$qts_mlflow_version into $qts_mlflow_venv (once per machine)" >&2
    python3 -m venv "$qts_mlflow_venv"
    "$qts_mlflow_venv/bin/pip" install --quiet --disable-pip-version-check "mlflow==$qts_mlflow_version"
    touch "$qts_mlflow_venv/.installed-$qts_mlflow_version"
fi
export QTS_MLFLOW="$qts_mlflow_venv/bin/mlflow"
