"""Batch step: export one UTC day of decisions, orders, breaches and model versions."""

from __future__ import annotations

from datetime import date

from quantdesk.config import Settings
from quantdesk.governance.compliance import ComplianceExportSummary, export_day


def export_compliance(settings: Settings, day: date | str) -> ComplianceExportSummary:
    """Write ``<export_dir>/<day>/`` (CSV, Parquet, SHA-256 manifest); idempotent per day."""
    return export_day(settings, day)
