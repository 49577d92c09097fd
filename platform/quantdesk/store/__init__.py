"""Operational database: signals, decisions, orders, the audit chain and API usage.

SQLAlchemy models in :mod:`quantdesk.store.tables`, Alembic migrations shipped in
``quantdesk/store/migrations``; SQLite by default, PostgreSQL in production.
"""

from quantdesk.store.errors import DuplicateRecordError, MissingReferenceError
from quantdesk.store.migrations_runner import current_revision, downgrade, head_revision, upgrade
from quantdesk.store.operational_store import OperationalStore
from quantdesk.store.records import ApiUsageSummary, AuditChainReport, AuditEvent, StoredOrder

__all__ = [
    "ApiUsageSummary",
    "AuditChainReport",
    "AuditEvent",
    "DuplicateRecordError",
    "MissingReferenceError",
    "OperationalStore",
    "StoredOrder",
    "current_revision",
    "downgrade",
    "head_revision",
    "upgrade",
]
