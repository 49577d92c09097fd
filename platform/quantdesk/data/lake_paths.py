"""The lake's layout: the one module that turns partitions into paths and paths back.

Every path here is a *relative* ``PurePosixPath``. The lake joins it to its root, which is a
local folder today; moving the lake onto object storage (an fsspec URL such as ``s3://...``)
then changes how the root is joined and listed, not the layout, which is hive-style so DuckDB
and any other Parquet reader understand it::

    zone=clean/asset_class=crypto/symbol=BTC-USD/granularity=1h/period=2024-03/part.parquet
    zone=clean/asset_class=equity/symbol=AAPL/granularity=1d/period=2024/part.parquet
    zone=quarantine/date=2024-03-05/batch=20240305T120000Z-1a2b3c4d/{bars.parquet,report.json}

Period size per granularity (``PERIOD_SPAN``): intraday bars up to 1h are split by calendar
month (1h: ~720 rows a month, 1m: ~44,600), 6h and daily bars by calendar year (1d: 365 rows a
year). That keeps files between a few hundred and a few tens of thousands of rows: big enough
that a multi-year read opens tens of files rather than thousands, small enough that merging a
day's delivery rewrites one modest file. One ``period=`` key (``2024-03`` or ``2024``) instead
of ``year=/month=`` keeps every zone at one depth, so one hive read spans all granularities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import PurePosixPath

import pandas as pd

from quantdesk.domain import AssetClass, Granularity, InvalidInputError
from quantdesk.domain.symbols import validate_canonical_symbol

DATA_FILE = "part.parquet"
QUARANTINE_BARS_FILE = "bars.parquet"
QUARANTINE_REPORT_FILE = "report.json"


class Zone(StrEnum):
    """Lake zones: ``raw`` as delivered, ``clean`` after the quality gate, ``quarantine``
    for batches the gate rejected (kept with the reason, for a person to look at)."""

    RAW = "raw"
    CLEAN = "clean"
    QUARANTINE = "quarantine"

    @classmethod
    def parse(cls, value: Zone | str) -> Zone:
        """The zone named by ``value``; raise naming the choices (never guess a zone)."""
        try:
            return cls(value)
        except ValueError:
            choices = ", ".join(z.value for z in cls)
            raise InvalidInputError(
                f"unknown lake zone {value!r}; choose one of {choices}"
            ) from None


class PeriodSpan(StrEnum):
    MONTH = "month"
    YEAR = "year"


PERIOD_SPAN: dict[Granularity, PeriodSpan] = {
    Granularity.M1: PeriodSpan.MONTH,
    Granularity.M5: PeriodSpan.MONTH,
    Granularity.M15: PeriodSpan.MONTH,
    Granularity.H1: PeriodSpan.MONTH,
    Granularity.H6: PeriodSpan.YEAR,
    Granularity.D1: PeriodSpan.YEAR,
}

_MONTH_LABEL = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR_LABEL = re.compile(r"^(\d{4})$")
_DAY_LABEL = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_BATCH_ID = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{8}$")


def period_labels(open_times: pd.Series, granularity: Granularity) -> pd.Series:
    """The period label of each bar: ``2024-03`` or ``2024`` by ``PERIOD_SPAN``.

    Computed on integer year/month and formatted once per distinct period, because
    ``strftime`` on every row costs seconds on a few million minute bars.
    """
    utc = open_times.dt.tz_convert("UTC")
    if PERIOD_SPAN[granularity] is PeriodSpan.MONTH:
        codes = utc.dt.year * 100 + utc.dt.month
        labels = {code: f"{code // 100:04d}-{code % 100:02d}" for code in codes.unique()}
    else:
        codes = utc.dt.year
        labels = {code: f"{code:04d}" for code in codes.unique()}
    return codes.map(labels).astype("string")


def period_bounds(label: str) -> tuple[datetime, datetime]:
    """``[start, end)`` in UTC of a period label; raise on anything that is not one."""
    if match := _MONTH_LABEL.match(label):
        year, month = int(match[1]), int(match[2])
        if 1 <= month <= 12:
            start = datetime(year, month, 1, tzinfo=UTC)
            end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
            return start, end
    elif match := _YEAR_LABEL.match(label):
        year = int(match[1])
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    raise InvalidInputError(f"not a lake period label: {label!r}")


def day_bounds(label: str) -> tuple[datetime, datetime]:
    """``[start, end)`` of a quarantine ``date=YYYY-MM-DD`` label."""
    if not _DAY_LABEL.match(label):
        raise InvalidInputError(f"not a lake day label: {label!r}")
    day = date.fromisoformat(label)
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def hive_value(name: str, key: str) -> str | None:
    """``'symbol=BTC-USD'`` -> ``'BTC-USD'`` for ``key='symbol'``; None for other names."""
    prefix = f"{key}="
    return name[len(prefix) :] if name.startswith(prefix) and len(name) > len(prefix) else None


def zone_dir(zone: Zone) -> PurePosixPath:
    return PurePosixPath(f"zone={zone.value}")


def series_dir(
    zone: Zone, asset_class: AssetClass, symbol: str, granularity: Granularity
) -> PurePosixPath:
    """The folder holding every period of one symbol at one bar size."""
    validate_canonical_symbol(symbol)  # the symbol becomes a path segment: never let '/' in
    return (
        zone_dir(zone)
        / f"asset_class={asset_class.value}"
        / f"symbol={symbol}"
        / f"granularity={granularity.value}"
    )


@dataclass(frozen=True, slots=True, order=True)
class PartitionKey:
    """One Parquet file of bars: which zone, instrument, bar size and period it holds."""

    zone: Zone
    asset_class: AssetClass
    symbol: str
    granularity: Granularity
    period: str

    @property
    def directory(self) -> PurePosixPath:
        series = series_dir(self.zone, self.asset_class, self.symbol, self.granularity)
        return series / f"period={self.period}"

    @property
    def file(self) -> PurePosixPath:
        return self.directory / DATA_FILE

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return period_bounds(self.period)

    @classmethod
    def from_directory(cls, relative: PurePosixPath) -> PartitionKey | None:
        """Parse ``zone=../asset_class=../symbol=../granularity=../period=..``; None if not one."""
        parts = relative.parts
        if len(parts) != 5:
            return None
        keys = ("zone", "asset_class", "symbol", "granularity", "period")
        values = [hive_value(part, key) for part, key in zip(parts, keys, strict=True)]
        if any(v is None for v in values):
            return None
        zone, asset_class, symbol, granularity, period = (str(v) for v in values)
        try:
            key = cls(
                Zone(zone), AssetClass(asset_class), validate_canonical_symbol(symbol),
                Granularity(granularity), period,
            )  # fmt: skip
            period_bounds(period)
        except (ValueError, InvalidInputError):
            return None
        return key


def new_batch_dir(day_label: str, batch_id: str) -> PurePosixPath:
    """Folder of one quarantined batch, grouped by the UTC day it was quarantined."""
    day_bounds(day_label)
    if not _BATCH_ID.match(batch_id):
        raise InvalidInputError(f"not a quarantine batch id: {batch_id!r}")
    return zone_dir(Zone.QUARANTINE) / f"date={day_label}" / f"batch={batch_id}"


def is_batch_id(text: str) -> bool:
    return bool(_BATCH_ID.match(text))
