#!/usr/bin/env bash
# Sourced by the build and test scripts: makes sure the libtorch that `tch` 0.26 expects
# (PyPI torch==2.13.0) is installed in a venv outside the clone, so a machine pays for the
# download once, and points the torch-sys build at it.
#
#   QTS_TORCH_VENV   where the venv lives (default: $HOME/.cache/qts/torch-2.13.0)
#
# The binaries carry an rpath to torch/lib, so running them needs no environment.
qts_torch_version="2.13.0"
qts_torch_venv="${QTS_TORCH_VENV:-$HOME/.cache/qts/torch-$qts_torch_version}"
if [ ! -f "$qts_torch_venv/.installed-$qts_torch_version" ]; then
    echo "installing torch==$qts_torch_version into $qts_torch_venv (once per machine; ~3 GB)" >&2
    python3 -m venv "$qts_torch_venv"
    "$qts_torch_venv/bin/pip" install --quiet --disable-pip-version-check "torch==$qts_torch_version"
    touch "$qts_torch_venv/.installed-$qts_torch_version"
fi
# Found without importing torch (that takes seconds and warns about NumPy).
LIBTORCH="$("$qts_torch_venv/bin/python" -c 'import importlib.util as u; print(u.find_spec("torch").submodule_search_locations[0])')"
export LIBTORCH
# PyPI wheels since torch 2.7 use the new C++ ABI.
export LIBTORCH_CXX11_ABI=1
unset LIBTORCH_USE_PYTORCH
