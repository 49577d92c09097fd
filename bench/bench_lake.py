"""Lake ingest throughput and a DuckDB range query, against plain pandas Parquet on the same bars.

The peer writes one Parquet file with ``DataFrame.to_parquet`` and answers the range query with
``read_parquet`` plus a filter. The lake does more per bar (validation, bitemporal merge,
atomic per-partition files, a lock), so its ingest is expected to cost more; what it buys is
idempotent re-ingest, point-in-time reads and partition pruning, which the range query shows.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from bench.measure import Measurement, best_of
from quantdesk.data.bars import normalize_bar_frame
from quantdesk.data.lake import Lake

SYMBOLS = ("BTC-USD", "ETH-USD", "SOL-USD")
START = datetime(2021, 1, 1, tzinfo=UTC)
HOURS = 3 * 365 * 24  # three years of hourly bars per symbol


def _bars(symbol: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    open_time = pd.date_range(START, periods=HOURS, freq="h")
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, HOURS)))
    open_ = np.r_[100.0, close[:-1]]
    return pd.DataFrame(
        {
            "symbol": symbol,
            "venue": "coinbase",
            "granularity": "1h",
            "open_time": open_time,
            "open": open_,
            "high": np.maximum(open_, close) * 1.001,
            "low": np.minimum(open_, close) * 0.999,
            "close": close,
            "volume": rng.uniform(1, 10, HOURS),
            "available_at": open_time + pd.Timedelta(hours=1),
        }
    )


def run() -> list[Measurement]:
    frame = normalize_bar_frame(pd.concat([_bars(s, i) for i, s in enumerate(SYMBOLS)]))
    rows = len(frame)
    q_start, q_end = START + timedelta(days=400), START + timedelta(days=430)
    with tempfile.TemporaryDirectory(prefix="quantdesk-bench-lake-") as scratch:
        root = Path(scratch)
        counter = iter(range(1_000_000))

        def lake_ingest() -> None:
            Lake(root / f"lake{next(counter)}").write_bars(frame)

        def pandas_write() -> None:
            frame.to_parquet(root / f"plain{next(counter)}.parquet", index=False)

        ingest = best_of(lake_ingest, repeat=3)
        plain_write = best_of(pandas_write, repeat=3)

        lake = Lake(root / "lake-query")
        lake.write_bars(frame)
        reingest = best_of(lambda: lake.write_bars(frame), repeat=3)
        plain_file = root / "plain-query.parquet"
        frame.to_parquet(plain_file, index=False)

        def lake_query() -> pd.DataFrame:
            return lake.read_bars("BTC-USD", q_start, q_end, granularity="1h")

        def pandas_query() -> pd.DataFrame:
            data = pd.read_parquet(plain_file)
            hit = (
                (data["symbol"] == "BTC-USD")
                & (data["open_time"] >= q_start)
                & (data["open_time"] < q_end)
            )
            return data[hit]

        assert len(lake_query()) == len(pandas_query()) == 30 * 24
        query = best_of(lake_query, repeat=7)
        plain_query = best_of(pandas_query, repeat=7)
    peer = "pandas to_parquet"
    return [
        Measurement("lake ingest, empty lake", ingest, plain_write, peer, rows, "bars"),
        Measurement("lake re-ingest, same window", reingest, plain_write, peer, rows, "bars"),
        Measurement("range query: 1 symbol, 30 days", query, plain_query, "read_parquet + filter"),
    ]
