"""Frames in, frames out: pandas, polars and pyarrow tables to the Arrow layout the native
module reads (a naive ``time`` column of ``timestamp[us]``, ``float64`` values), and back.

Timestamps with a time zone are read as wall-clock times in that zone (a daily bar's date is
its exchange's date), and the zone is put back on every time column the results hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pyarrow as pa
import pyarrow.compute as pc

from ._qts import DataError

#: Names accepted for the time column, in the order they are looked for.
TIME_NAMES = ("time", "date", "datetime", "timestamp")


@dataclass(frozen=True)
class TimeInfo:
    """How the caller's time column looked, to give results back the same way."""

    name: str = "date"
    tz: Optional[str] = None
    unit: str = "us"
    was_index: bool = False
    was_date: bool = False
    #: The value columns as given: (key read, name given, Arrow type given), in order.
    columns: tuple = ()


def _is_pandas(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "pandas"


def _is_polars(obj: Any) -> bool:
    return type(obj).__module__.split(".")[0] == "polars"


def to_arrow(obj: Any, what: str) -> tuple[pa.Table, bool, Optional[str]]:
    """``obj`` as a pyarrow table; whether its time came from a pandas ``DatetimeIndex`` (and
    that index's name)."""
    if isinstance(obj, pa.Table):
        return obj, False, None
    if isinstance(obj, pa.RecordBatch):
        return pa.Table.from_batches([obj]), False, None
    if _is_pandas(obj):
        import pandas as pd

        if not isinstance(obj, pd.DataFrame):
            raise TypeError(f"{what}: expected a DataFrame, got {type(obj).__name__}")
        if isinstance(obj.index, pd.DatetimeIndex):
            name = obj.index.name or "date"
            if name in obj.columns:
                raise DataError(f"{what}: the index and a column are both called `{name}`")
            # The index as a column, without copying the frame (reset_index would).
            table = pa.Table.from_pandas(obj, preserve_index=True)
            stored = obj.index.name if obj.index.name is not None else "__index_level_0__"
            names = [name if n == stored else n for n in table.column_names]
            return table.rename_columns(names).replace_schema_metadata(None), True, name
        return pa.Table.from_pandas(obj, preserve_index=False), False, None
    if _is_polars(obj):
        return obj.to_arrow(), False, None
    if hasattr(obj, "__arrow_c_stream__"):
        return pa.table(obj), False, None
    raise TypeError(
        f"{what}: expected a pandas or polars DataFrame or a pyarrow Table, got {type(obj).__name__}"
    )


def _column_key(name: str) -> str:
    return name.strip().lower().replace(" ", "_")


def normalise(obj: Any, what: str, text_columns: tuple[str, ...] = ()) -> tuple[pa.Table, TimeInfo]:
    """The table with lower-case names, its time column as naive ``timestamp[us]`` named
    ``time`` and first, every other column ``float64`` (``text_columns`` as strings)."""
    table, was_index, index_name = to_arrow(obj, what)
    original_names = list(table.column_names)
    names = [_column_key(n) for n in original_names]
    if len(set(names)) != len(names):
        raise DataError(f"{what}: column names repeat once lower-cased: {table.column_names}")
    table = table.rename_columns(names)
    found = next((n for n in TIME_NAMES if n in names), None)
    if found is None:
        raise DataError(
            f"{what}: no time column: expected a DatetimeIndex or one of {', '.join(TIME_NAMES)} "
            f"(columns: {', '.join(names)})"
        )
    time = table.column(found)
    info = TimeInfo(name=index_name or found, was_index=was_index)
    kind = time.type
    if pa.types.is_timestamp(kind):
        info = TimeInfo(name=info.name, tz=kind.tz, unit=kind.unit, was_index=was_index)
        if kind.tz is not None:
            # Wall-clock time in the zone: the exchange's date of a daily bar.
            time = pc.local_timestamp(time)
        time = time.cast(pa.timestamp("us"))
    elif pa.types.is_date(kind):
        info = TimeInfo(name=info.name, was_index=was_index, was_date=True)
        time = time.cast(pa.timestamp("us"))
    elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
        try:
            time = time.cast(pa.timestamp("us"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
            raise DataError(f"{what}: column `{found}`: not ISO dates or times ({e})") from None
    else:
        raise DataError(f"{what}: column `{found}` is {kind}, expected dates or timestamps")
    given = tuple(
        (key, original, table.schema.field(key).type)
        for key, original in zip(names, original_names)
        if key != found and key not in TIME_NAMES
    )
    info = TimeInfo(info.name, info.tz, info.unit, info.was_index, info.was_date, given)
    columns = {"time": time}
    for name in names:
        if name == found or name in TIME_NAMES:
            continue
        column = table.column(name)
        if name in text_columns:
            columns[name] = column.cast(pa.string())
            continue
        if not (pa.types.is_integer(column.type) or pa.types.is_floating(column.type) or pa.types.is_decimal(column.type)):
            raise DataError(f"{what}: column `{name}` is {column.type}, expected numbers")
        columns[name] = column.cast(pa.float64())
    return pa.table(columns), info


def restore_time(table: pa.Table, info: TimeInfo, columns: tuple[str, ...]) -> pa.Table:
    """``table`` with its naive time ``columns`` given the caller's zone back."""
    if info.tz is None:
        return table
    out = table
    for name in columns:
        if name in out.column_names:
            i = out.column_names.index(name)
            zoned = pc.assume_timezone(out.column(name), info.tz, ambiguous="earliest", nonexistent="earliest")
            out = out.set_column(i, name, zoned)
    return out


def bars_frame_back(table: pa.Table, info: TimeInfo) -> pa.Table:
    """Bars as the caller gave them: the time column's name, unit and zone."""
    time = table.column("time")
    if info.was_date:
        time = time.cast(pa.date32())
    else:
        if info.tz is not None:
            time = pc.assume_timezone(time, info.tz, ambiguous="earliest", nonexistent="earliest")
        time = time.cast(pa.timestamp(info.unit, tz=info.tz))
    out = {info.name: time}
    for key, original, kind in info.columns or [(n, n, None) for n in table.column_names[1:]]:
        if key not in table.column_names:
            continue
        column = table.column(key)
        if kind is not None and kind != column.type:
            # Integral volumes go back to the integer type they came as.
            try:
                column = column.cast(kind)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                pass
        out[original] = column
    return pa.table(out)
