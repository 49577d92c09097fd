"""Batch step: apply the lake's per-zone retention (``settings.retention``) as of a time.

Passing the run's data-interval end as ``now`` makes a rerun of the same interval choose the
same cut-offs; whatever the first run deleted is simply absent the second time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from quantdesk.config import Settings
from quantdesk.data.lake import Lake, RetentionSummary, Zone


def retention_policy(settings: Settings) -> dict[Zone, timedelta | None]:
    days = {
        Zone.RAW: settings.retention.raw_days,
        Zone.CLEAN: settings.retention.clean_days,
        Zone.QUARANTINE: settings.retention.quarantine_days,
    }
    return {zone: None if d is None else timedelta(days=d) for zone, d in days.items()}


def apply_retention(
    settings: Settings, now: datetime | None = None, dry_run: bool = False
) -> RetentionSummary:
    """Delete lake partitions older than each zone's retention; returns what went."""
    return Lake(settings.lake_dir).apply_retention(
        retention_policy(settings), now=now, dry_run=dry_run
    )
