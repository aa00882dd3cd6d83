"""The model half of qts: training and prediction in-process, through libtorch 2.13.

Not called directly: ``qts.train`` and ``qts.predict`` use it when it is installed
(``pip install ./crates/python-torch``). It links the libtorch of PyPI's ``torch==2.13.0``;
where that torch is installed it is imported first, which loads libtorch into the process.
"""

try:
    import torch as _torch
except ImportError:  # the build's own libtorch, found by the extension's rpath
    _torch = None

if _torch is not None and not _torch.__version__.startswith("2.13."):
    raise ImportError(
        f"qts_torch was built against libtorch 2.13 but torch {_torch.__version__} is installed: "
        "pip install torch==2.13.0"
    )

from ._native import __version__, predict, train  # noqa: E402

__all__ = ["predict", "train"]
