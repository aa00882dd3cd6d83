"""Type stubs of the model extension; called through ``qts.train`` and ``qts.predict``."""

from typing import Any, Callable, Optional, Sequence

import pyarrow

__version__: str

_Request = tuple[Optional[str], Optional[str], list[str], Optional[str]]
_Bars = tuple[pyarrow.Table, str, str, str]

def train(
    bars: Sequence[_Bars],
    config: _Request,
    name: Optional[str] = None,
    seeds: int = 1,
    adjust: bool = False,
    resume: bool = False,
    progress: Optional[Callable[[dict[str, Any]], None]] = None,
) -> str: ...
def predict(
    model: str,
    bars: _Bars,
    config: _Request,
    start: Optional[str] = None,
    end: Optional[str] = None,
    mc_dropout: int = 0,
    ensemble: bool = False,
    level: float = 0.9,
    adjust: bool = False,
) -> pyarrow.Table: ...
