"""qts from Python: the same library the ``qts`` command runs, with Arrow tables in and out.

>>> import qts
>>> cfg = qts.Config.load("config")
>>> bars = qts.read_bars("examples/data/goog_daily.csv")
>>> result = qts.backtest(bars, "sma-cross", {"fast": 10, "slow": 30}, config=cfg)
>>> result.stats["sharpe_ratio"], result.equity.to_pandas().tail()

Every number equals the CLI's for the same data and configuration (``qts backtest --json``):
both are one call into the same Rust crates. Tables are ``qts.Table`` (pyarrow underneath,
``.to_pandas()``, ``.to_polars()``, and the Arrow stream interface, so ``polars.DataFrame(t)``
and ``pyarrow.table(t)`` take them as they are).

Training and prediction (:func:`train`, :func:`predict`) need libtorch: they run in the
model extension, ``qts_torch`` (``pip install ./crates/python-torch``), which ``import qts``
never loads.
"""

from __future__ import annotations

import functools as _functools
import html as _html
import json as _json
import os as _os
import time as _time
from typing import Any, Mapping, Optional, Sequence, Union

import pyarrow as _pa
import pyarrow.compute as _pc

from . import _qts
from ._frames import TimeInfo, bars_frame_back, normalise, restore_time, to_arrow
from ._qts import BacktestError, ConfigError, DataError, QtsError

__version__: str = _qts.__version__

__all__ = [
    "BacktestError",
    "Bars",
    "Comparison",
    "Config",
    "ConfigError",
    "DataError",
    "Html",
    "ModelComparison",
    "ModelSearch",
    "Optimization",
    "QtsError",
    "Result",
    "RunResult",
    "Table",
    "ValidationReport",
    "WalkForward",
    "backtest",
    "best_run",
    "compare",
    "compare_models",
    "compare_runs",
    "decide",
    "diebold_mariano",
    "features",
    "fetch",
    "models_import",
    "models_list",
    "models_promote",
    "models_show",
    "monte_carlo",
    "optimize",
    "paper_history",
    "paper_open",
    "paper_status",
    "paper_step",
    "predict",
    "read_bars",
    "read_universe",
    "report",
    "reproduce",
    "run",
    "run_info",
    "runs",
    "search_model",
    "strategies",
    "train",
    "universe",
    "validate",
    "walk_forward",
    "walk_forward_model",
]

PathLike = Union[str, "_os.PathLike[str]"]


def _show(value: Any, spec: str) -> str:
    """A figure for a repr: ``n/a`` where the number is undefined (``null`` in the JSON)."""
    return "n/a" if value is None else format(value, spec)


class Config:
    """A configuration loaded as ``qts`` loads it: ``dir``'s four YAML files, then
    ``overrides`` (``"key.path=value"``, as ``--set``), ``${VAR}`` from the environment and
    ``env_file``. Every problem is reported at once, with file, line and key
    (:class:`ConfigError`)."""

    def __init__(self, native: Any) -> None:
        self._native = native

    @staticmethod
    def load(
        dir: Optional[PathLike] = None,
        overrides: Optional[Sequence[str]] = None,
        env_file: Optional[PathLike] = None,
        model: Optional[PathLike] = None,
    ) -> "Config":
        """Loads ``dir`` (no ``dir``: the built-in defaults) with ``overrides``; ``model``
        replaces the directory's model file (``qts train --config FILE``)."""
        path = lambda p: _os.fspath(p) if p is not None else None  # noqa: E731
        return Config(_qts.Config.load(path(dir), list(overrides or []), path(env_file), path(model)))

    def to_dict(self) -> dict:
        """The effective configuration (secrets redacted), as ``qts config show --json``."""
        return _json.loads(self._native.to_json())

    @property
    def fingerprint(self) -> str:
        """The fingerprint stamped on results made under this configuration."""
        return self._native.fingerprint

    @property
    def files(self) -> list[str]:
        """The files read, in order."""
        return self._native.files

    def __repr__(self) -> str:
        return f"Config(files={self.files!r}, fingerprint={self.fingerprint!r})"


def _native_config(config: Optional[Config]) -> Any:
    if config is None:
        return None
    if not isinstance(config, Config):
        raise TypeError(f"config: expected qts.Config, got {type(config).__name__}")
    return config._native


class Table:
    """A result table: pyarrow underneath; ``to_pandas()``, ``to_polars()``, ``to_arrow()``."""

    def __init__(self, arrow: _pa.Table) -> None:
        self._arrow = arrow

    def to_arrow(self) -> _pa.Table:
        """The pyarrow table (no copy)."""
        return self._arrow

    def to_pandas(self, **kwargs: Any) -> Any:
        """A pandas DataFrame (pyarrow's conversion; times stay ``datetime64``)."""
        return self._arrow.to_pandas(**kwargs)

    def to_polars(self) -> Any:
        """A polars DataFrame (zero-copy where the types allow)."""
        import polars

        return polars.from_arrow(self._arrow)

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._arrow.__arrow_c_stream__(requested_schema)

    @property
    def columns(self) -> list[str]:
        """Column names."""
        return self._arrow.column_names

    def column(self, name: str) -> list:
        """One column as a Python list."""
        return self._arrow.column(name).to_pylist()

    def __len__(self) -> int:
        return self._arrow.num_rows

    def __repr__(self) -> str:
        return f"qts.Table({self._arrow.num_rows} rows: {', '.join(self.columns)})"

    def _repr_html_(self) -> str:
        head = self._arrow.slice(0, 10).to_pylist()
        cells = "".join(f"<th>{_html.escape(c)}</th>" for c in self.columns)
        rows = "".join(
            "<tr>" + "".join(f"<td>{_html.escape(str(v))}</td>" for v in r.values()) + "</tr>"
            for r in head
        )
        more = "" if len(self) <= 10 else f"<p>… {len(self) - 10} more rows</p>"
        return f"<table><thead><tr>{cells}</tr></thead><tbody>{rows}</tbody></table>{more}"


class Bars:
    """One symbol's daily bars (not yet validated), from a file or a frame."""

    def __init__(self, native: Any, time: TimeInfo = TimeInfo()) -> None:
        self._native = native
        self._time = time

    @staticmethod
    def from_frame(frame: Any, symbol: str = "frame", source: Optional[str] = None) -> "Bars":
        """Bars from a pandas or polars DataFrame or a pyarrow Table: a ``DatetimeIndex`` or
        a ``date``/``time`` column, and ``open``, ``high``, ``low``, ``close``, ``volume``
        [, ``adj_close``] (any case). Rows are numbered from 0 in errors, as ``iloc``
        counts them."""
        shown = source or ("<frame>" if symbol == "frame" else f"<{symbol} frame>")
        table, info = normalise(frame, shown)
        return Bars(_qts.bars_from_arrow(table, symbol, shown), info)

    @property
    def symbol(self) -> str:
        """The symbol."""
        return self._native.symbol

    @property
    def source(self) -> str:
        """The file or frame the bars came from."""
        return self._native.source

    @property
    def data_hash(self) -> str:
        """SHA-256 of the file's bytes (or the frame's values), stamped on results."""
        return self._native.data_hash

    def __len__(self) -> int:
        return len(self._native)

    def to_arrow(self) -> _pa.Table:
        """The bars as given: the time column's name, unit and zone restored."""
        return bars_frame_back(self._native.to_arrow(), self._time)

    def to_pandas(self) -> Any:
        """A pandas DataFrame; a frame that came with a ``DatetimeIndex`` gets it back."""
        frame = self.to_arrow().to_pandas()
        if self._time.was_index:
            frame = frame.set_index(self._time.name)
        return frame

    def to_polars(self) -> Any:
        """A polars DataFrame."""
        import polars

        return polars.from_arrow(self.to_arrow())

    def __repr__(self) -> str:
        return f"Bars({self.symbol!r}, {len(self)} bars from {self.source!r})"


BarsLike = Union[Bars, PathLike, Any]


def read_bars(source: PathLike, config: Optional[Config] = None) -> Bars:
    """Reads bars as ``qts`` reads ``--data FILE|SYMBOL``: a CSV or Parquet file, or a
    symbol's file in ``data.providers.local.directory`` or the cache that :func:`fetch` fills,
    under ``config``'s ``data.limits`` (a file over a cap is a :class:`DataError` naming the
    key). The symbol is the file's stem. Errors name the file, row and column
    (:class:`DataError`)."""
    path = _os.fspath(source)
    native = _native_config(config)
    if not _os.path.isfile(path):
        path = _qts.locate(path, native)
    return Bars(_qts.read_bars(path, native))


def fetch(
    symbols: Union[str, Sequence[str]],
    start: str,
    end: Optional[str] = None,
    *,
    provider: Optional[str] = None,
    out: Optional[PathLike] = None,
    config: Optional[Config] = None,
) -> dict:
    """Fetches daily bars (``qts data fetch --json``) from ``provider`` (``fmp``, ``yahoo``,
    ``alpha-vantage``, ``local``; default the configuration's) into the cache, with its rate
    limits, retries and freshness rules; ``out`` also writes ``<SYMBOL>.csv`` there. A symbol
    that fails is reported in its row (``error``); then ``read_bars(symbol, config)`` reads
    what was fetched. API keys come from the configuration (``${FMP_API_KEY}``) and appear in
    no message."""
    names = [symbols] if isinstance(symbols, str) else list(symbols)
    report = _qts.fetch(names, start, end, provider, _os.fspath(out) if out is not None else None, _native_config(config))
    return _json.loads(report)


def read_universe(
    source: PathLike, symbols: Optional[Sequence[str]] = None, config: Optional[Config] = None
) -> list:
    """The symbols of a file as ``qts backtest --data FILE --symbols …`` reads them: a wide
    CSV of closes (``date,AAPL,MSFT,…``) gives one :class:`Bars` per column (close-only), a bar
    file one; ``symbols`` keeps those (any case), in that order."""
    path = _os.fspath(source)
    every = [Bars(b) for b in _qts.read_universe(path, _native_config(config))]
    if symbols is None:
        return every
    by_name = {b.symbol.lower(): b for b in every}
    missing = [s for s in symbols if s.lower() not in by_name]
    if missing:
        raise DataError(f"{path}: no symbol {', '.join(missing)}; it holds {', '.join(b.symbol for b in every)}")
    return [by_name[s.lower()] for s in symbols]


def universe(frame: Any, symbol_column: str = "symbol") -> list:
    """A long frame of several symbols' bars (a ``symbol`` column beside the time and the
    bar columns: pandas, polars or pyarrow) as one :class:`Bars` per symbol, in the order the
    symbols first appear — what :func:`backtest` takes for a universe."""
    table, _, _ = to_arrow(frame, "universe frame")
    names = {n.lower(): n for n in table.column_names}
    key = names.get(symbol_column.lower())
    if key is None:
        raise DataError(f"universe frame: no `{symbol_column}` column (columns: {', '.join(table.column_names)})")
    column = table.column(key).cast(_pa.string())
    seen = list(dict.fromkeys(column.to_pylist()))
    if any(s is None or s == "" for s in seen):
        raise DataError(f"universe frame: `{symbol_column}` is empty on some rows")
    out = []
    for sym in seen:
        rows = table.filter(_pc.equal(column, sym)).drop_columns([key])
        out.append(Bars.from_frame(rows, symbol=sym, source=f"<{sym} of the universe frame>"))
    return out


def _bars(data: BarsLike, config: Optional[Config] = None) -> Bars:
    if isinstance(data, Bars):
        return data
    if isinstance(data, (str, _os.PathLike)):
        return read_bars(data, config)
    return Bars.from_frame(data)


class ValidationReport:
    """What ``qts data validate`` finds: ``summary`` (counts by severity), ``findings`` (one
    row per finding), ``fails`` (whether a backtest would refuse the data)."""

    def __init__(self, bars: Bars, doc: dict, config: Optional[Config], as_of: Optional[str]) -> None:
        self._bars, self._config, self._as_of = bars, config, as_of
        self.doc = doc
        self.summary: dict = doc["summary"]
        self.fails: bool = doc["fails"]
        rows = doc["report"]["findings"]
        self.findings = Table(
            _pa.table(
                {
                    "severity": [r["severity"] for r in rows],
                    "check": [r["check"] for r in rows],
                    "message": [r["message"] for r in rows],
                    "count": [r["count"] for r in rows],
                    "first_rows": [r["rows"] for r in rows],
                }
            )
        )

    def page(self) -> "Html":
        """The data-quality page (``qts data validate --report``)."""
        return Html(_qts.quality_page(self._bars._native, _native_config(self._config), self._as_of))

    def __repr__(self) -> str:
        s = self.summary
        return f"ValidationReport({self._bars.source!r}: {s['errors']} errors, {s['warnings']} warnings, {s['infos']} infos)"

    def _repr_html_(self) -> str:
        s = self.summary
        head = (
            f"<p><b>{_html.escape(self._bars.source)}</b>: {self.doc['report']['bars']} bars, "
            f"{s['errors']} errors, {s['warnings']} warnings, {s['infos']} infos"
            f"{' — a backtest refuses it' if self.fails else ''}</p>"
        )
        return head + (self.findings._repr_html_() if len(self.findings) else "<p>every check passed</p>")


def validate(
    bars: BarsLike, config: Optional[Config] = None, as_of: Optional[str] = None
) -> ValidationReport:
    """Validates bars (a :class:`Bars`, a path or a frame) as ``qts data validate`` does,
    as of ``as_of`` (``YYYY-MM-DD``; default today)."""
    b = _bars(bars, config)
    doc = _json.loads(_qts.validate(b._native, _native_config(config), as_of))
    return ValidationReport(b, doc, config, as_of)


def features(bars: BarsLike, config: Optional[Config] = None, adjust: bool = False) -> Table:
    """The configured technical and calendar features (``qts features``): one row per bar,
    NaN in each feature's warm-up rows; on adjusted prices when ``adjust``."""
    b = _bars(bars, config)
    table = _qts.features(b._native, _native_config(config), adjust)
    return Table(restore_time(table, b._time, ("time",)))


def strategies() -> dict:
    """The registered strategies: each one's parameters with their defaults."""
    return _json.loads(_qts.strategies())


class Result:
    """A backtest: ``stats`` (the JSON of ``qts backtest --json``: every metric, the span,
    the rules, buy-and-hold beside it, the stamp) and the ``trades``, ``equity``, ``orders``
    and ``fills`` behind it."""

    def __init__(self, native: Any, time: TimeInfo, config: Optional[Config] = None) -> None:
        self._native = native
        self._time = time
        self._config = config

    @_functools.cached_property
    def stats(self) -> dict:
        """The JSON of ``qts backtest --json``, read on first use."""
        return _json.loads(self._native.stats_json())

    @property
    def trades(self) -> Table:
        """Closed trades (``trades.csv``'s columns, with symbol and exit reason)."""
        return Table(restore_time(self._native.trades(), self._time, ("entry_time", "exit_time")))

    @property
    def equity(self) -> Table:
        """Equity, cash, drawdown, buy-and-hold and price at each close (``equity.csv``)."""
        return Table(restore_time(self._native.equity(), self._time, ("date",)))

    @property
    def orders(self) -> Table:
        """Every order with its outcome."""
        return Table(restore_time(self._native.orders(), self._time, ("submitted",)))

    @property
    def fills(self) -> Table:
        """Every fill, with commission and slippage."""
        return Table(restore_time(self._native.fills(), self._time, ("time",)))

    def __repr__(self) -> str:
        s = self.stats
        return (
            f"Result({s['strategy']} on {','.join(s['symbols'])}, {s['start']} .. {s['end']}: "
            f"total return {_show(s['total_return'], '.2%')}, Sharpe {_show(s['sharpe_ratio'], '.2f')}, "
            f"{s['num_trades']} trades; buy-and-hold {_show(s['buy_and_hold']['total_return'], '.2%')})"
        )

    def _repr_html_(self) -> str:
        s, b = self.stats, self.stats["buy_and_hold"]
        keys = [
            ("total_return", "%"), ("cagr", "%"), ("sharpe_ratio", ""), ("sortino_ratio", ""),
            ("max_drawdown", "%"), ("annual_volatility", "%"), ("num_trades", "n"),
            ("win_rate", "%"), ("exposure_time", "%"), ("total_costs", "$"),
        ]

        def cell(v: Any, unit: str) -> str:
            if v is None:
                return "–"
            if unit == "%":
                return f"{v:.2%}"
            if unit == "n":
                return f"{v}"
            if unit == "$":
                return f"{v:,.2f}"
            return f"{v:.3f}"

        rows = "".join(
            f"<tr><td>{k}</td><td>{cell(s.get(k), u)}</td><td>{cell(b.get(k), u) if k in b else ''}</td></tr>"
            for k, u in keys
        )
        notes = "".join(f"<li>{_html.escape(n)}</li>" for n in s.get("notes", []))
        flag = "<p><b>IN-SAMPLE predictions traded</b></p>" if s.get("in_sample") else ""
        return (
            f"<p><b>{_html.escape(s['strategy'])}</b> on {_html.escape(','.join(s['symbols']))}, "
            f"{s['start']} .. {s['end']} ({s['execution']} execution)</p>{flag}"
            f"<table><thead><tr><th>metric</th><th>strategy</th><th>buy-and-hold</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>" + (f"<ul>{notes}</ul>" if notes else "")
        )


def _signals(signals: Any, config: Optional[Config]) -> Optional[tuple]:
    if signals is None:
        return None
    if isinstance(signals, (str, _os.PathLike)):
        path = _os.fspath(signals)
        return (_qts.read_table(path, _native_config(config)), path)
    if isinstance(signals, Table):
        signals = signals.to_arrow()
    table, _ = normalise(signals, "signals", text_columns=("split", "symbol"))
    return (table, "<signals frame>")


def backtest(
    bars: Union[BarsLike, Sequence[BarsLike]],
    strategy: str = "sma-cross",
    params: Optional[Mapping[str, Any]] = None,
    config: Optional[Config] = None,
    *,
    signals: Any = None,
    execution: str = "default",
    start: Optional[str] = None,
    end: Optional[str] = None,
    close_at_end: bool = False,
    overlays: bool = False,
    allow_in_sample: bool = False,
    track: bool = False,
) -> Result:
    """Backtests ``strategy`` (a name of :func:`strategies`) with ``params`` on ``bars`` (one
    symbol, a list — a universe, each symbol on its own history — or one long frame with a
    ``symbol`` column), as ``qts backtest`` does: the bars validated under the configuration,
    orders at the close filled at the next open under ``execution`` (``"default"`` or
    ``"backtesting-py"``), metrics over ``start`` .. ``end``. ``signals`` (a frame or a
    predictions CSV of ``qts predict``: ``date``, ``prediction`` [, ``lower``, ``upper``,
    ``split``]) feeds the ``signal`` strategy; in-sample predictions are dropped unless
    ``allow_in_sample``. ``track=True`` records the backtest in the run store (and the MLflow
    server) of the configuration, as ``qts backtest`` does."""
    loaded, pairs = _backtest_inputs(bars, params, config)
    native = _qts.backtest(
        [b._native for b in loaded],
        strategy,
        pairs,
        _native_config(config),
        _signals(signals, config),
        execution,
        start,
        end,
        close_at_end,
        overlays,
        allow_in_sample,
        track,
    )
    return Result(native, loaded[0]._time, config)


def _grid_specs(grid: Mapping[str, Any]) -> list[str]:
    """``{"fast": range(5, 50, 5), "slow": "20:200:20"}`` as ``--grid`` specs."""
    if not grid:
        raise ValueError("grid: give at least one parameter, e.g. {'fast': range(5, 50, 5)}")
    specs = []
    for name, values in grid.items():
        if isinstance(values, str):
            specs.append(f"{name}={values}")
        else:
            specs.append(f"{name}=" + ",".join(_param_text(v) for v in values))
    return specs


def _seconds(s: float) -> str:
    s = int(round(s))
    if s >= 3600:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def _time_left(start: float, done: int, total: int) -> str:
    """`` · 12s elapsed, about 30s left``: the time left at the pace so far."""
    elapsed = _time.monotonic() - start
    if done > 0 and total:
        return f" · {_seconds(elapsed)} elapsed, about {_seconds(elapsed * (total - done) / done)} left"
    return f" · {_seconds(elapsed)} elapsed"


class _Progress:
    """``progress=True`` as one line rewritten in place (a terminal and Jupyter both honour
    the carriage return) with the time left at the pace so far, a callable as given, ``None``
    as nothing."""

    def __init__(self, what: str, unit: str, progress: Any) -> None:
        self.what, self.unit, self.progress = what, unit, progress
        self.shown = False
        self.start = _time.monotonic()

    def _line(self, done: int, total: int) -> None:
        eta = _time_left(self.start, done, total)
        print(f"\r{self.what}: {done}/{total or '?'} {self.unit}{eta}", end="", flush=True)
        self.shown = True

    def __enter__(self) -> Any:
        if self.progress is True:
            return self._line
        return self.progress or None

    def __exit__(self, *exc: Any) -> None:
        if self.shown:
            print(flush=True)


def _csv_table(text: str) -> Table:
    import io

    import pyarrow.csv as pacsv

    return Table(pacsv.read_csv(io.BytesIO(text.encode())))


def _backtest_inputs(
    bars: Any, params: Optional[Mapping[str, Any]], config: Optional[Config]
) -> tuple[list, list]:
    if _has_symbol_column(bars):
        loaded = universe(bars)
    else:
        many = bars if isinstance(bars, (list, tuple)) else [bars]
        loaded = [_bars(b, config) for b in many]
    return loaded, [(str(k), _param_text(v)) for k, v in (params or {}).items()]


def _has_symbol_column(obj: Any) -> bool:
    """Whether ``obj`` is one frame holding several symbols' bars (a ``symbol`` column)."""
    if isinstance(obj, (Bars, str, _os.PathLike, list, tuple)):
        return False
    names = getattr(obj, "column_names", None) or list(getattr(obj, "columns", []))
    return any(str(n).lower() == "symbol" for n in names)


class _Search:
    """A search's ``report`` (its ``--json``) and ``trials`` (``trials.csv``), and the best
    trial."""

    def __init__(self, report: dict, trials: Table) -> None:
        self.report = report
        self.trials = trials

    @property
    def best(self) -> dict:
        """The best trial: what was tried and its figures."""
        return self.report["best"]


class Optimization(_Search):
    """A parameter search (``qts optimize``): ``report`` (its ``--json``: the best trial, the
    deflated Sharpe ratio and the probability of backtest overfitting over every trial) and
    ``trials`` (``trials.csv``: one row per point); ``best``, the best trial's parameters and
    metrics."""

    def __repr__(self) -> str:
        b = self.report["best"]
        return f"Optimization({self.report['trials']} trials; best {b['params']})"


def optimize(
    bars: Union[BarsLike, Sequence[BarsLike]],
    strategy: str,
    grid: Mapping[str, Any],
    *,
    maximize: str,
    params: Optional[Mapping[str, Any]] = None,
    config: Optional[Config] = None,
    signals: Any = None,
    execution: str = "default",
    start: Optional[str] = None,
    end: Optional[str] = None,
    method: str = "grid",
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    pbo_splits: int = 16,
    progress: Any = None,
    track: bool = False,
) -> Optimization:
    """Searches ``grid`` (each parameter's values: a list, a range, or ``"START:STOP:STEP"``)
    for the trial with the highest ``maximize`` (a key of the backtest JSON), as
    ``qts optimize`` does: every point (``method="grid"``) or ``trials`` of them drawn with
    ``seed`` (``"random"``), in parallel, the same answer on any thread count. ``progress``:
    ``True`` shows the trials done, a callable gets ``(done, total)``; Ctrl-C stops the
    search (``KeyboardInterrupt``)."""
    loaded, fixed = _backtest_inputs(bars, params, config)
    with _Progress("optimize", "trials", progress) as callback:
        report, trials_csv = _qts.optimize(
            [b._native for b in loaded], strategy, _grid_specs(grid), maximize, fixed,
            _native_config(config), _signals(signals, config), execution, start, end, method, trials, seed,
            pbo_splits, callback, track,
        )
    return Optimization(_json.loads(report), _csv_table(trials_csv))


class WalkForward:
    """A walk-forward analysis (``qts walk-forward``): ``report`` (windows, the stitched
    out-of-sample metrics beside buy-and-hold, the walk-forward efficiency), ``windows``
    (``windows.csv``) and ``oos_equity`` (``oos_equity.csv``)."""

    def __init__(self, report: dict, windows: Table, oos_equity: Table) -> None:
        self.report = report
        self.windows = windows
        self.oos_equity = oos_equity

    def __repr__(self) -> str:
        o = self.report["out_of_sample"]
        return f"WalkForward({len(self.windows)} windows; out of sample: Sharpe {_show(o['sharpe_ratio'], '.2f')})"


def walk_forward(
    bars: Union[BarsLike, Sequence[BarsLike]],
    strategy: str,
    grid: Mapping[str, Any],
    *,
    maximize: str,
    train: Optional[int] = None,
    test: Optional[int] = None,
    step: Optional[int] = None,
    anchored: bool = False,
    params: Optional[Mapping[str, Any]] = None,
    config: Optional[Config] = None,
    signals: Any = None,
    execution: str = "default",
    progress: Any = None,
    track: bool = False,
) -> WalkForward:
    """Optimises on each ``train``-bar window and trades the winner on the next ``test`` bars
    (every ``step`` bars; train windows growing from the first bar when ``anchored``), as
    ``qts walk-forward`` does; what is not given comes from the configuration's
    ``backtest.walk_forward``. ``progress``: ``True`` shows the windows done, a callable gets
    ``(done, total)``; Ctrl-C stops the analysis (``KeyboardInterrupt``)."""
    loaded, fixed = _backtest_inputs(bars, params, config)
    with _Progress("walk-forward", "windows", progress) as callback:
        report, windows, equity = _qts.walk_forward(
            [b._native for b in loaded], strategy, _grid_specs(grid), maximize, fixed, train, test,
            step, anchored, _native_config(config), _signals(signals, config), execution, callback, track,
        )
    return WalkForward(_json.loads(report), _csv_table(windows), _csv_table(equity))


def monte_carlo(
    result: "Result",
    method: Optional[str] = None,
    paths: Optional[int] = None,
    seed: Optional[int] = None,
    block_size: Optional[int] = None,
    horizon: Optional[int] = None,
    level: Optional[float] = None,
    drawdown: float = 0.2,
    config: Optional[Config] = None,
    track: bool = False,
) -> dict:
    """Confidence intervals of a backtest's metrics from ``paths`` resampled paths (``qts
    monte-carlo --run DIR``): ``iid``, ``block`` (stationary bootstrap, mean ``block_size``),
    ``trades``, ``normal`` or ``student-t``; what is not given comes from the configuration
    (``backtest.monte_carlo``: 10,000 i.i.d. paths, blocks of 20, 95%; the seed from
    ``reproducibility.seed``)."""
    if not isinstance(result, Result):
        raise TypeError(f"monte_carlo: expected qts.Result, got {type(result).__name__}")
    cfg = config if config is not None else result._config
    return _json.loads(
        _qts.monte_carlo(
            result._native, method, paths, seed, block_size, horizon, level, drawdown,
            _native_config(cfg), track,
        )
    )


def _model_extension() -> Any:
    try:
        import qts_torch
    except ImportError as e:
        raise QtsError(
            "qts.train and qts.predict run in the model extension, which links libtorch: "
            f"pip install ./crates/python-torch (with torch==2.13.0 where it was not built) [{e}]"
        ) from None
    return qts_torch


def _request(config: Optional[Config]) -> tuple:
    return _native_config(config).request() if config is not None else (None, None, [], None)


def _given(b: Bars) -> tuple:
    return (b._native.to_arrow(), b.symbol, b.source, b.data_hash)


def _print_epoch(log: dict) -> None:
    print(
        f"epoch {log['epoch']}: loss {log['loss']:.6f}, val loss {log['val_loss']:.6f}, "
        f"val IC {log['val_ic']:.3f} ({log['seconds']:.1f}s)",
        flush=True,
    )


def train(
    data: Union[BarsLike, Sequence[BarsLike]],
    config: Optional[Config] = None,
    *,
    name: Optional[str] = None,
    seeds: int = 1,
    adjust: bool = False,
    resume: bool = False,
    progress: Any = None,
    track: bool = False,
) -> dict:
    """Trains the configuration's model on ``data`` (one symbol, or several pooled) and
    registers it, as ``qts train`` does: the bars validated, a leak-free chronological split
    (normalisation from the training rows only), early stopping, the best checkpoints kept.
    Returns the JSON of ``qts train --json``: name, version, directory, validation and test
    metrics beside their baselines. ``progress``: ``True`` prints each epoch, a callable gets
    each epoch's log as a dict. Ctrl-C stops the run after the current batch (the last
    finished epoch's checkpoint stays; ``resume=True`` continues from it)."""
    native = _model_extension()
    many = data if isinstance(data, (list, tuple)) else [data]
    loaded = [_bars(b, config) for b in many]
    callback = _print_epoch if progress is True else (progress or None)
    report = native.train([_given(b) for b in loaded], _request(config), name, seeds, adjust, resume, callback, track)
    return _json.loads(report)


def predict(
    model: str,
    data: BarsLike,
    config: Optional[Config] = None,
    *,
    start: Optional[str] = None,
    end: Optional[str] = None,
    mc_dropout: int = 0,
    ensemble: bool = False,
    level: float = 0.9,
    adjust: bool = False,
) -> Table:
    """Predicts with a registered model (``NAME``, ``NAME@VERSION``, ``NAME@ALIAS``) over
    ``data`` through the feature pipeline saved with it, as ``qts predict`` does: ``time``,
    ``prediction``, an interval (``lower``, ``upper``) from ``mc_dropout`` passes or the
    ``ensemble``, and each row's ``split`` (train, validation, test, unseen) — pass the table
    to :func:`backtest` as ``signals=``."""
    native = _model_extension()
    b = _bars(data, config)
    table = native.predict(model, _given(b), _request(config), start, end, mc_dropout, ensemble, level, adjust)
    return Table(restore_time(table, b._time, ("time",)))


class ModelComparison:
    """Registered models side by side (``qts models compare``): ``metrics`` (each metric of
    each model, ``None`` where a model lacks it) and ``tests`` (each model's Diebold–Mariano
    test against the first on the test days both forecast; ``None`` where they share none)."""

    def __init__(self, metrics: dict, tests: list) -> None:
        self.metrics = metrics
        self.tests = tests

    def to_pandas(self) -> Any:
        """The metrics as a DataFrame: a row per metric, a column per model."""
        import pandas as pd

        return pd.DataFrame(self.metrics)

    def __repr__(self) -> str:
        return f"ModelComparison({', '.join(self.metrics)})"

    def _repr_html_(self) -> str:
        models = list(self.metrics)
        keys = sorted({k for m in self.metrics.values() for k in m})
        head = "".join(f"<th>{_html.escape(m)}</th>" for m in models)
        fmt = lambda v: "–" if v is None else f"{v:.6g}"  # noqa: E731
        rows = "".join(
            f"<tr><td>{_html.escape(k)}</td>" + "".join(f"<td>{fmt(self.metrics[m].get(k))}</td>" for m in models) + "</tr>"
            for k in keys
        )
        first = self.tests[0][0] if self.tests else ""
        notes = "".join(
            f"<li>{_html.escape(name)} against {_html.escape(first)}: "
            + (
                f"Diebold–Mariano on {t['periods']} test forecasts, DM {t['corrected']:.3f}, p {t['p_value']:.4f}"
                if t
                else "no common test forecasts"
            )
            + "</li>"
            for name, t in self.tests[1:]
        )
        return f"<table><thead><tr><th>metric</th>{head}</tr></thead><tbody>{rows}</tbody></table><ul>{notes}</ul>"


def compare_models(models: Sequence[str], config: Optional[Config] = None) -> ModelComparison:
    """Compares registered models (``NAME``, ``NAME@VERSION``, ``NAME@ALIAS``): their
    validation and test metrics, and whether each one's test errors differ from the first's
    (Diebold–Mariano, squared error, Harvey–Leybourne–Newbold correction). Needs no libtorch."""
    metrics, tests = _qts.compare_models(list(models), _native_config(config))
    return ModelComparison(_json.loads(metrics), [list(t) for t in _json.loads(tests)])


def diebold_mariano(errors_a: Sequence[float], errors_b: Sequence[float], horizon: int = 1, loss: str = "squared") -> dict:
    """The Diebold–Mariano test of two forecasts' errors on the same targets, with Harvey,
    Leybourne & Newbold's small-sample correction: ``statistic`` (negative when ``a`` is
    better), ``corrected``, ``p_value`` (two-sided), the mean losses."""
    return _json.loads(_qts.diebold_mariano([float(x) for x in errors_a], [float(x) for x in errors_b], horizon, loss))


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        raise TypeError("strategy parameters are numbers, not booleans")
    return repr(value) if isinstance(value, float) else str(value)


class Html:
    """An HTML page (a report) that shows inline in Jupyter and saves to a file."""

    def __init__(self, page: str) -> None:
        self.page = page

    def save(self, path: PathLike) -> str:
        """Writes the page (temp file + rename) and returns the path."""
        path = _os.fspath(path)
        tmp = f"{path}.{_os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(self.page)
        _os.replace(tmp, path)
        return path

    def _repr_html_(self) -> str:
        # In a frame of its own: the page's styles and scripts stay out of the notebook's.
        return (
            f'<iframe srcdoc="{_html.escape(self.page, quote=True)}" '
            'style="width:100%;height:900px;border:0" sandbox="allow-scripts"></iframe>'
        )


def report(result: Union[Result, PathLike]) -> Html:
    """The report page of a backtest (``qts backtest --report``: equity against buy-and-hold,
    drawdowns, monthly returns, trades, every metric, the rules and the provenance), or of a
    result folder of any command (``qts report DIR``)."""
    if isinstance(result, (str, _os.PathLike)):
        return Html(_qts.folder_page(_os.fspath(result)))
    if not isinstance(result, Result):
        raise TypeError(f"report: expected qts.Result or a result folder, got {type(result).__name__}")
    return Html(result._native.page())


# -- The main job, models walked forward and searched, decisions, the paper account, tracked
# runs: each a thin call of the library function the CLI calls.


class RunResult:
    """The main job (``qts run``): ``summary`` (``summary.json``: the model walked forward
    against buy-and-hold — a universe's in equal weights, with its ``universe`` section — and
    the SMA crossover out of sample, the verdicts, the deflated Sharpe
    ratio, the Monte Carlo, the decision for the next session) and its pages in ``out``."""

    def __init__(self, summary: dict, out: str) -> None:
        self.summary = summary
        self.out = out

    def page(self, name: str = "report") -> Html:
        """A page of the run: ``report`` (the model against its baselines), ``walk_forward``,
        ``monte_carlo`` or ``data_quality``."""
        with open(self.summary["reports"][name], encoding="utf-8") as f:
            return Html(f.read())

    def __repr__(self) -> str:
        m = self.summary["model"]
        return (
            f"RunResult(model out of sample: total return {_show(m['total_return'], '.2%')}, Sharpe "
            f"{_show(m['sharpe_ratio'], '.3f')}; verdict: {self.summary['verdict']['overall']} "
            f"(against buy-and-hold {self.summary['verdict']['against_buy_and_hold']}, "
            f"against the SMA crossover {self.summary['verdict']['against_sma_cross']}); "
            f"beat both baselines: {self.summary['beat_both']})"
        )

    def _repr_html_(self) -> str:
        return self.page()._repr_html_()


def run(
    data: Union[BarsLike, Sequence[BarsLike]] = "examples/data/goog_daily.csv",
    config: Optional[Config] = None,
    *,
    out: PathLike = "artifacts/run",
    train: Optional[int] = None,
    test: Optional[int] = None,
    paths: int = 2000,
    strategy: Optional[str] = None,
    params: Optional[Mapping[str, Any]] = None,
    benchmark: Optional[PathLike] = None,
    progress: Any = None,
    track: bool = True,
) -> RunResult:
    """The main job (``qts run``) on one symbol's bars or a universe's (a list, or one long
    frame with a ``symbol`` column): the configuration's model walked forward (retrained on
    each ``train``-bar window — pooled over a universe's symbols — its forecasts of the next
    ``test`` bars traded by the signal strategy, or ranked by ``rank`` with ``params`` for a
    universe), buy-and-hold (a universe: in equal weights, rebalanced on the same schedule)
    and the SMA crossover on the same windows, the lead tested, the Sharpe ratio deflated,
    ``paths`` Monte Carlo paths, the pages written to ``out``, the run tracked, and the next
    session decided; ``benchmark`` (a file of closes or returns) beside them with the model's
    alpha, beta and information ratio against it. Its numbers are ``qts run --json``'s. Needs the model extension
    (``qts_torch``). ``progress``: ``True`` prints the stages and windows, a callable gets
    ``(done, total)`` for the windows (and ``(n, of, what)`` for the stages when it takes
    three arguments); Ctrl-C stops the job."""
    native = _model_extension()
    loaded, pairs = _backtest_inputs(data, params, config)
    callback = _StagePrinter() if progress is True else (progress or None)
    summary = native.run(
        [_given(b) for b in loaded],
        _request(config),
        _os.fspath(out),
        train,
        test,
        paths,
        callback,
        track,
        strategy,
        pairs,
        None if benchmark is None else _os.fspath(benchmark),
    )
    if progress is True:
        print(flush=True)
    return RunResult(_json.loads(summary), _os.fspath(out))


class _StagePrinter:
    """The main job's stages, one line each, and the windows of the current stage with the
    time left at the pace so far."""

    def __init__(self) -> None:
        self.start = _time.monotonic()

    def __call__(self, *args: Any) -> None:
        if len(args) == 3:
            self.start = _time.monotonic()
            print(f"\n[{args[0]}/{args[1]}] {args[2]}", end="", flush=True)
        else:
            eta = _time_left(self.start, args[0], args[1])
            print(f"\r  windows: {args[0]}/{args[1] or '?'}{eta}", end="", flush=True)


def walk_forward_model(
    data: Union[BarsLike, Sequence[BarsLike]],
    config: Optional[Config] = None,
    *,
    train: Optional[int] = None,
    test: Optional[int] = None,
    step: Optional[int] = None,
    anchored: bool = False,
    maximize: Optional[str] = None,
    strategy: Optional[str] = None,
    params: Optional[Mapping[str, Any]] = None,
    progress: Any = None,
    track: bool = False,
) -> WalkForward:
    """The configuration's model walked forward (``qts walk-forward --model-config``): trained
    from scratch on each ``train``-bar window and registered, its forecasts of the next
    ``test`` bars traded by the signal strategy (``params`` its parameters) — for a universe (a
    list, or a long frame with a ``symbol`` column) one model pooled over the symbols per
    window, its forecasts ranked by ``rank`` unless ``strategy="signal"``; the windows'
    ``maximize`` (default ``sharpe_ratio``) in and out of sample, and a universe's rank IC per
    window. Needs ``qts_torch``."""
    native = _model_extension()
    loaded, pairs = _backtest_inputs(data, params, config)
    with _Progress("walk-forward", "windows", progress) as callback:
        report, windows, equity = native.walk_forward(
            [_given(b) for b in loaded],
            _request(config),
            pairs,
            train,
            test,
            step,
            anchored,
            maximize,
            callback,
            track,
            strategy,
        )
    return WalkForward(_json.loads(report), _csv_table(windows), _csv_table(equity))


class ModelSearch(_Search):
    """A model's hyper-parameter search (``qts optimize --model-config``): ``report`` (every
    trial's settings and validation figures, the best and its test figures) and ``trials``
    (``trials.csv``); ``best``, the best trial's settings, model and figures."""

    def __repr__(self) -> str:
        return f"ModelSearch({self.report['trials']} trials; best {self.best['model']})"


def search_model(
    data: BarsLike,
    config: Optional[Config] = None,
    *,
    maximize: Optional[str] = None,
    minimize: Optional[str] = None,
    space: Optional[Mapping[str, Any]] = None,
    method: Optional[str] = None,
    trials: Optional[int] = None,
    seed: Optional[int] = None,
    progress: Any = None,
    track: bool = False,
) -> ModelSearch:
    """Searches the configuration model's hyper-parameters (``qts optimize --model-config``):
    each trial trained and registered, scored on its validation split by ``maximize`` or
    ``minimize`` (default ``val_loss``); ``space`` (``{"lstm.hidden_size": "16,32"}``, as
    ``--search``) replaces the model file's. Needs ``qts_torch``."""
    native = _model_extension()
    b = _bars(data, config)
    specs = [f"{k}={v}" for k, v in (space or {}).items()]
    with _Progress("model search", "trials", progress) as callback:
        report, trials_csv = native.search(
            _given(b), _request(config), maximize, minimize, specs, method, trials, seed, callback, track
        )
    return ModelSearch(_json.loads(report), _csv_table(trials_csv))


def decide(
    data: Union[BarsLike, Sequence[BarsLike]],
    strategy: str = "sma-cross",
    params: Optional[Mapping[str, Any]] = None,
    config: Optional[Config] = None,
    *,
    as_of: Optional[str] = None,
    signals: Optional[PathLike] = None,
    overlays: bool = False,
    offline: bool = False,
    history_from: Optional[str] = None,
    model: Optional[str] = None,
    ensemble: bool = False,
    mc_dropout: int = 0,
    level: float = 0.9,
    holdings: Optional[Mapping[str, float]] = None,
) -> dict:
    """After a close: the orders for the next open (``qts decide --json``), decided by the
    backtest's own engine on the bars up to ``as_of`` (default today). ``data``: bars, files,
    or symbols (``"AAPL"``; refreshed from the default provider unless ``offline``). With
    ``model`` (``NAME@ALIAS``) the registered model's forecasts are followed by the signal
    strategy (needs ``qts_torch``). ``holdings`` (``{"CASH": 5000, "AAPL": 10}``, as
    ``--holdings``) orders for that account instead of the strategy's replayed one."""
    pairs = [(str(k), _param_text(v)) for k, v in (params or {}).items()]
    held = None
    if holdings is not None:
        held = "symbol,shares\n" + "".join(f"{k},{float(v)!r}\n" for k, v in holdings.items())
    many = list(data) if isinstance(data, (list, tuple)) else [data]
    if model is not None:
        native = _model_extension()
        if len(many) != 1:
            raise ValueError("decide with a model: give one symbol's bars")
        b = _bars(many[0], config)
        return _json.loads(
            native.decide(model, _given(b), _request(config), as_of, pairs, ensemble, mc_dropout, level, held)
        )
    bars = [d for d in many if isinstance(d, Bars) or not isinstance(d, (str, _os.PathLike))]
    native_bars = [_bars(d, config)._native for d in bars]
    inputs = [] if bars else [_os.fspath(d) for d in many]
    return _json.loads(
        _qts.decide(
            native_bars, inputs, strategy, pairs, as_of,
            _os.fspath(signals) if signals is not None else None, overlays, offline, history_from,
            _native_config(config), held,
        )
    )


def paper_open(
    cash: Optional[float],
    data: Union[PathLike, Sequence[PathLike]],
    strategy: str = "sma-cross",
    params: Optional[Mapping[str, Any]] = None,
    config: Optional[Config] = None,
    *,
    signals: Optional[PathLike] = None,
    overlays: bool = False,
    offline: bool = False,
    history_from: Optional[str] = None,
    holdings: Optional[Mapping[str, float]] = None,
) -> dict:
    """Opens a paper account (``qts paper init --json``) in the configuration's
    ``paper.database``, following ``strategy`` on ``data`` (files or symbols). ``holdings``
    (``{"CASH": 5000, "AAPL": 10}``, as ``--holdings``) starts it from a real account's shares
    and cash instead of ``cash`` (pass ``None``): held from the first step's close."""
    many = list(data) if isinstance(data, (list, tuple)) else [data]
    pairs = [(str(k), _param_text(v)) for k, v in (params or {}).items()]
    held = None
    if holdings is not None:
        if cash is not None:
            raise ValueError("give either cash or holdings (their CASH entry is the cash)")
        held = "symbol,shares\n" + "".join(f"{k},{float(v)!r}\n" for k, v in holdings.items())
    elif cash is None:
        raise ValueError("cash is needed without holdings")
    return _json.loads(
        _qts.paper_open(
            float(cash or 0.0), [_os.fspath(d) for d in many], strategy, pairs,
            _os.fspath(signals) if signals is not None else None, overlays, offline, history_from,
            _native_config(config), held,
        )
    )


def paper_step(
    as_of: Optional[str] = None,
    config: Optional[Config] = None,
    *,
    data: Optional[Sequence[PathLike]] = None,
    offline: bool = False,
    history_from: Optional[str] = None,
) -> dict:
    """Steps the paper account to the close of ``as_of`` (``qts paper step --json``): the
    fills of the last decision, the marks, the new decision, in one transaction; tracked."""
    return _json.loads(
        _qts.paper_step(as_of, [_os.fspath(d) for d in (data or [])], offline, history_from, _native_config(config))
    )


def paper_status(config: Optional[Config] = None) -> dict:
    """The paper account's status (``qts paper status --json``)."""
    return _json.loads(_qts.paper_status(_native_config(config)))


def paper_history(config: Optional[Config] = None) -> Table:
    """Every step of the paper account (``qts paper history``)."""
    return _csv_table(_qts.paper_history(_native_config(config)))


def runs(config: Optional[Config] = None) -> list:
    """The tracked runs of the local run store (``qts experiments list --json``)."""
    return _json.loads(_qts.runs_list(_native_config(config)))


def run_info(run: str, config: Optional[Config] = None) -> dict:
    """One tracked run (``qts experiments show RUN --json``; ``"latest"``: the newest)."""
    return _json.loads(_qts.runs_show(run, _native_config(config)))


def compare_runs(run_ids: Sequence[str], config: Optional[Config] = None) -> dict:
    """Tracked runs side by side (``qts experiments compare --json``): the params that differ,
    every metric, each later run's Sharpe ratio and forecasts tested against the first's."""
    return _json.loads(_qts.runs_compare(list(run_ids), _native_config(config)))


def best_run(metric: str, config: Optional[Config] = None) -> dict:
    """The tracked run with the highest ``metric`` (``qts experiments best --json``), and
    whether its lead over the runner-up is significant."""
    return _json.loads(_qts.runs_best(metric, _native_config(config)))


def reproduce(run: str, config: Optional[Config] = None, *, exe: Optional[PathLike] = None) -> dict:
    """Re-runs a tracked run from what it logged (``qts reproduce --json``) with the ``qts``
    executable ``exe`` (default: ``$QTS_BIN``, else ``qts`` on the PATH) and says whether
    every metric came out the same, to the bit."""
    import shutil

    path = exe or _os.environ.get("QTS_BIN") or shutil.which("qts")
    if not path:
        raise QtsError("reproduce re-runs the `qts` command: give exe= or put qts on the PATH")
    return _json.loads(_qts.reproduce(run, _os.fspath(path), _native_config(config)))


class Comparison:
    """Backtests side by side (``qts compare``): ``report`` (the common days, the correlation
    of their returns, each Sharpe ratio tested against the first's) and ``page``."""

    def __init__(self, report: dict, page: str) -> None:
        self.report = report
        self.page = Html(page)

    def _repr_html_(self) -> str:
        return self.page._repr_html_()


def compare(folders: Sequence[PathLike]) -> Comparison:
    """Compares result folders of ``qts backtest --out`` (or ``qts.Result`` saved with
    ``qts backtest``): ``qts compare --json`` and its page."""
    report, page = _qts.compare([_os.fspath(f) for f in folders])
    return Comparison(_json.loads(report), page)


def models_list(config: Optional[Config] = None) -> list:
    """The registered models (``qts models list --json``). Needs ``qts_torch``."""
    return _json.loads(_model_extension().models_list(_request(config)))


def models_show(model: str, config: Optional[Config] = None) -> dict:
    """A registered version's card (``qts models show --json``). Needs ``qts_torch``."""
    return _json.loads(_model_extension().models_show(model, _request(config)))


def models_promote(model: str, alias: str = "production", config: Optional[Config] = None) -> dict:
    """Points ``alias`` at a version (``qts models promote``), in MLflow's registry too when a
    server is configured. Needs ``qts_torch``."""
    return _json.loads(_model_extension().models_promote(model, alias, _request(config)))


def models_import(
    weights: PathLike, model_file: PathLike, name: str, config: Optional[Config] = None, *, pytorch: bool = False
) -> dict:
    """Registers PyTorch weights (``qts models import``): a safetensors file, or a
    ``torch.save`` archive when ``pytorch``; checked against the network of ``model_file``.
    Needs ``qts_torch``."""
    return _json.loads(
        _model_extension().models_import(_os.fspath(weights), _os.fspath(model_file), name, _request(config), pytorch)
    )


def __dir__() -> list:
    return sorted(__all__)
