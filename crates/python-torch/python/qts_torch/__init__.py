"""The model half of qts: training, prediction, a model walked forward or searched, a model's
decision, the main job and the model registry, in-process, through libtorch 2.13.

Not called directly: ``qts.train``, ``qts.predict``, ``qts.run``, ``qts.walk_forward_model``,
``qts.search_model``, ``qts.decide(model=…)`` and ``qts.models_*`` use it when it is installed
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

from ._native import (  # noqa: E402
    __version__,
    decide,
    models_import,
    models_list,
    models_promote,
    models_show,
    predict,
    run,
    search,
    train,
    walk_forward,
)

__all__ = [
    "decide",
    "models_import",
    "models_list",
    "models_promote",
    "models_show",
    "predict",
    "run",
    "search",
    "train",
    "walk_forward",
]
