"""Tell which constraint a database refused, the same way on SQLite and PostgreSQL."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy.exc import IntegrityError

# SQLSTATE codes PostgreSQL (psycopg) reports for constraint violations.
_PG_UNIQUE = "23505"
_PG_FOREIGN_KEY = "23503"


class Violation(StrEnum):
    UNIQUE = "unique"
    FOREIGN_KEY = "foreign_key"
    OTHER = "other"


def classify_integrity_error(exc: IntegrityError) -> Violation:
    """Which kind of constraint failed: drivers differ, so read SQLSTATE or the message."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate == _PG_UNIQUE:
        return Violation.UNIQUE
    if sqlstate == _PG_FOREIGN_KEY:
        return Violation.FOREIGN_KEY
    message = str(exc.orig).upper()
    if "UNIQUE CONSTRAINT FAILED" in message:
        return Violation.UNIQUE
    if "FOREIGN KEY CONSTRAINT FAILED" in message:
        return Violation.FOREIGN_KEY
    return Violation.OTHER
