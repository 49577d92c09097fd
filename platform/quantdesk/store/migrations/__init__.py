"""Alembic scripts of the operational store (a package so they ship in the wheel)."""
