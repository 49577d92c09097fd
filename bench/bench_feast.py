"""Feast online reads through our reader against a bare ``FeatureStore.get_online_features``.

Both read the same SQLite online store in the same run, for the ``hybrid_v1`` service (27
features), 1 and 50 symbols, interleaved call by call so machine noise hits both alike. The
peer stops at ``OnlineResponse.to_dict()``; ours also validates the symbols, blanks values
older than the view TTL and builds the float64 DataFrame a model takes, so its ratio shows
what that costs.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from bench.measure import Measurement
from quantdesk.config import load_settings
from quantdesk.features import names
from quantdesk.features.feast_store import open_feature_store
from quantdesk.features.offline_store import write_offline_store

SERVICE = "hybrid_v1"
SYMBOLS = tuple(f"SYM{i:02d}" for i in range(50))
DAYS = 30
START = datetime(2026, 1, 1, tzinfo=UTC)
CALLS = {1: 400, 50: 200}


def _features() -> pd.DataFrame:
    rng = np.random.default_rng(11)
    open_time = pd.date_range(START, periods=DAYS, freq="D")
    frames = []
    for symbol in SYMBOLS:
        frame = pd.DataFrame(
            rng.normal(size=(DAYS, len(names.ALL_FEATURES))), columns=list(names.ALL_FEATURES)
        )
        frame.insert(0, "symbol", symbol)
        frame.insert(1, "open_time", open_time)
        frame.insert(2, "event_timestamp", open_time + pd.Timedelta(days=1, minutes=5))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def run() -> list[Measurement]:
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="quantdesk-bench-feast-") as scratch:
        settings = load_settings(home=Path(scratch))
        write_offline_store(_features(), settings.offline_features_dir, START + timedelta(DAYS))
        store = open_feature_store(settings)
        store.apply()
        end = START + timedelta(days=DAYS, minutes=5)
        store.materialize_incremental(end)
        service = store.feast.get_feature_service(SERVICE)
        for count, calls in CALLS.items():
            symbols = list(SYMBOLS[:count])
            rows = [{names.ENTITY_JOIN_KEY: s} for s in symbols]

            def ours(symbols: list[str] = symbols) -> object:
                return store.online_features(symbols, SERVICE, as_of=end)

            def bare(rows: list[dict[str, str]] = rows) -> object:
                return store.feast.get_online_features(features=service, entity_rows=rows).to_dict()

            for _ in range(20):  # warm caches (registry, SQLite pages) for both
                ours()
                bare()
            ours_t, bare_t = [], []
            for _ in range(calls):
                ours_t.append(_timed(ours))
                bare_t.append(_timed(bare))
            for pct in (50, 99):
                results.append(
                    Measurement(
                        name=f"online read {count} symbol(s), p{pct}",
                        ours_s=float(np.percentile(ours_t, pct)),
                        peer_s=float(np.percentile(bare_t, pct)),
                        peer="bare get_online_features",
                    )
                )
    return results
