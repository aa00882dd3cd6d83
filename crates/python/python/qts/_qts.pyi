"""Type stubs of the native module (crates/python/src): the public API is in ``qts``."""

from typing import Callable, Optional, Sequence

import pyarrow

__version__: str

class QtsError(Exception): ...
class ConfigError(QtsError): ...
class DataError(QtsError): ...
class BacktestError(QtsError): ...

class Config:
    @staticmethod
    def load(
        dir: Optional[str] = None,
        overrides: Sequence[str] = ...,
        env_file: Optional[str] = None,
        model: Optional[str] = None,
    ) -> "Config": ...
    def request(self) -> tuple[Optional[str], Optional[str], list[str], Optional[str]]: ...
    def to_json(self) -> str: ...
    @property
    def fingerprint(self) -> str: ...
    @property
    def files(self) -> list[str]: ...

class Bars:
    @property
    def symbol(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def data_hash(self) -> str: ...
    def __len__(self) -> int: ...
    def to_arrow(self) -> pyarrow.Table: ...

class BacktestRun:
    def stats_json(self) -> str: ...
    def trades(self) -> pyarrow.Table: ...
    def equity(self) -> pyarrow.Table: ...
    def orders(self) -> pyarrow.Table: ...
    def fills(self) -> pyarrow.Table: ...
    def page(self) -> str: ...

def read_bars(path: str, config: Optional[Config] = None) -> Bars: ...
def read_universe(path: str, config: Optional[Config] = None) -> list[Bars]: ...
def bars_from_arrow(table: pyarrow.Table, symbol: str, source: str) -> Bars: ...
def read_table(path: str, config: Optional[Config] = None) -> pyarrow.Table: ...
def validate(bars: Bars, config: Optional[Config] = None, as_of: Optional[str] = None) -> str: ...
def quality_page(bars: Bars, config: Optional[Config] = None, as_of: Optional[str] = None) -> str: ...
def features(bars: Bars, config: Optional[Config] = None, adjust: bool = False) -> pyarrow.Table: ...
def strategies() -> str: ...
def backtest(
    bars: Sequence[Bars],
    strategy: str,
    params: Sequence[tuple[str, str]],
    config: Optional[Config] = None,
    signals: Optional[tuple[pyarrow.Table, str]] = None,
    execution: str = "default",
    start: Optional[str] = None,
    end: Optional[str] = None,
    close_at_end: bool = False,
    overlays: bool = False,
    allow_in_sample: bool = False,
) -> BacktestRun: ...
def optimize(
    bars: Sequence[Bars],
    strategy: str,
    grid: Sequence[str],
    maximize: str,
    fixed: Sequence[tuple[str, str]],
    config: Optional[Config] = None,
    signals: Optional[tuple[pyarrow.Table, str]] = None,
    execution: str = "default",
    start: Optional[str] = None,
    end: Optional[str] = None,
    method: str = "grid",
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    pbo_splits: int = 16,
    progress: Optional[Callable[[int, int], None]] = None,
) -> tuple[str, str]: ...
def walk_forward(
    bars: Sequence[Bars],
    strategy: str,
    grid: Sequence[str],
    maximize: str,
    fixed: Sequence[tuple[str, str]],
    train: Optional[int] = None,
    test: Optional[int] = None,
    step: Optional[int] = None,
    anchored: bool = False,
    config: Optional[Config] = None,
    signals: Optional[tuple[pyarrow.Table, str]] = None,
    execution: str = "default",
    progress: Optional[Callable[[int, int], None]] = None,
) -> tuple[str, str, str]: ...
def monte_carlo(
    run: BacktestRun,
    method: Optional[str] = None,
    paths: Optional[int] = None,
    seed: Optional[int] = None,
    block_size: Optional[int] = None,
    horizon: Optional[int] = None,
    level: Optional[float] = None,
    drawdown: float = 0.2,
    config: Optional[Config] = None,
) -> str: ...
def compare_models(models: Sequence[str], config: Optional[Config] = None) -> tuple[str, str]: ...
def diebold_mariano(errors_a: Sequence[float], errors_b: Sequence[float], horizon: int = 1, loss: str = "squared") -> str: ...
def locate(input: str, config: Optional[Config] = None) -> str: ...
def fetch(
    symbols: Sequence[str],
    start: str,
    end: Optional[str] = None,
    provider: Optional[str] = None,
    out: Optional[str] = None,
    config: Optional[Config] = None,
) -> str: ...
