"""DuckDB queries over lake files the caller has already picked by path.

The lake prunes partitions by path (symbol, bar size, period) before calling these, so DuckDB
opens only the files that can hold an answer; inside them it prunes row groups by the
``open_time`` statistics Parquet keeps. Point-in-time logic lives in SQL here, in one place.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from quantdesk.data.bars import BAR_COLUMNS

# Partition values stay text (``period=2024`` is not a number); the bar columns come from the
# files themselves, which carry symbol and granularity too, so a file read alone is complete.
_READ = (
    "read_parquet($files, hive_partitioning = true, hive_types_autocast = false, "
    "union_by_name = true)"
)
_COLUMNS = ", ".join(BAR_COLUMNS)


@contextmanager
def _connection() -> Iterator[Any]:
    import duckdb

    con = duckdb.connect(database=":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        yield con
    finally:
        con.close()


def query_latest_bars(
    files: Sequence[Path], start: datetime, end: datetime, as_of: datetime | None
) -> pd.DataFrame:
    """Bars with ``open_time`` in ``[start, end)``: per bar the latest version known at ``as_of``.

    Versions with ``available_at > as_of`` are filtered out *before* picking the latest, so a
    correction made later can never replace what was known at ``as_of``.
    """
    known = "AND available_at <= $as_of" if as_of is not None else ""
    sql = f"""
        SELECT {_COLUMNS}
        FROM {_READ}
        WHERE open_time >= $start AND open_time < $end {known}
        QUALIFY row_number() OVER (
            PARTITION BY symbol, granularity, open_time ORDER BY available_at DESC
        ) = 1
        ORDER BY symbol, granularity, open_time
    """
    params: dict[str, Any] = {"files": [str(f) for f in files], "start": start, "end": end}
    if as_of is not None:
        params["as_of"] = as_of
    with _connection() as con:
        return con.execute(sql, params).df()


def query_coverage(files: Sequence[Path]) -> list[tuple[Any, ...]]:
    """Per (symbol, granularity): first and last open_time, distinct bars, stored versions."""
    sql = f"""
        SELECT symbol, granularity, min(open_time), max(open_time),
               count(DISTINCT open_time), count(*)
        FROM {_READ}
        GROUP BY symbol, granularity
        ORDER BY symbol, granularity
    """
    with _connection() as con:
        rows: list[tuple[Any, ...]] = con.execute(
            sql, {"files": [str(f) for f in files]}
        ).fetchall()
    return rows


def query_symbols(files: Sequence[Path]) -> list[str]:
    sql = f"SELECT DISTINCT symbol FROM {_READ} ORDER BY symbol"
    with _connection() as con:
        return [
            str(row[0]) for row in con.execute(sql, {"files": [str(f) for f in files]}).fetchall()
        ]
