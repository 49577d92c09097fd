"""Hourly ingestion of every bar completed in the last hour, per asset class and symbol.

Crypto hourly and daily bars arrive around the clock, FX on weekdays (the 24/5 calendar skips
the weekend by itself), equity daily bars in the hour of the NYSE close. One mapped task per
symbol, so one failing venue symbol retries alone. Each success updates the raw-zone asset,
which triggers ``validate_market_data``.

The start date is the embedded history's first day, so past intervals can be backfilled or
rerun (``airflow backfill create``, ``dag.test(logical_date=...)``); ``catchup=False`` keeps
the scheduler from replaying them on its own.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import CronDataIntervalTimetable, dag

from quantdesk.config import load_settings
from quantdesk.data.catalog import get_instruments
from quantdesk.orchestration.airflow_tasks import build_mapped_task
from quantdesk.orchestration.dag_policy import dag_options
from quantdesk.orchestration.task_catalog import ingest_task

settings = load_settings()


@dag(
    dag_id="ingest_market_data",
    schedule=CronDataIntervalTimetable("5 * * * *", timezone="UTC"),
    start_date=pendulum.datetime(2008, 1, 1, tz="UTC"),
    doc_md=__doc__,
    **dag_options(settings, tags=["data", "hourly"]),
)
def ingest_market_data() -> None:
    for asset_class in ("crypto", "fx", "equity"):
        symbols = [
            i.symbol for i in get_instruments(settings.universe) if i.asset_class == asset_class
        ]
        if symbols:
            build_mapped_task(ingest_task(asset_class), "symbols", symbols, settings)


ingest_market_data()
