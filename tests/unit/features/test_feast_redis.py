"""The production online store: the same vectors served from a real Redis."""

from __future__ import annotations

import uuid
from pathlib import Path

import pandas as pd
import pytest

from quantdesk.config import load_settings
from quantdesk.features import names
from quantdesk.features.feast_store import open_feature_store
from quantdesk.features.offline_store import write_offline_store
from tests.unit.features.feast_frames import COMPUTED_AT, END, SYMBOLS, entity_rows, feature_frame

pytestmark = pytest.mark.redis


def test_redis_online_store_serves_the_point_in_time_vector(redis_url: str, tmp_path: Path) -> None:
    # Arrange: a project of its own, so keys never collide with another run on the same db.
    settings = load_settings(
        home=tmp_path,
        redis_url=redis_url,
        feast={"online_store": "redis", "project": f"qd_test_{uuid.uuid4().hex[:12]}"},
    )
    write_offline_store(feature_frame(), settings.offline_features_dir, COMPUTED_AT)
    store = open_feature_store(settings)
    store.apply()
    try:
        # Act
        store.materialize_incremental(END)
        online = store.online_features(list(SYMBOLS), "hybrid_v1", as_of=END)
        historical = store.historical_features(
            entity_rows(*[(s, END) for s in SYMBOLS]), "hybrid_v1"
        )
        rerun = store.materialize_incremental(END)

        # Assert
        features = list(names.ALL_FEATURES)
        assert store.online_store_kind == "redis"
        assert online[features].notna().all().all()
        pd.testing.assert_frame_equal(online[features], historical[features])
        assert rerun.end == END
        pd.testing.assert_frame_equal(
            store.online_features(list(SYMBOLS), "hybrid_v1", as_of=END), online
        )
    finally:
        store.teardown()
