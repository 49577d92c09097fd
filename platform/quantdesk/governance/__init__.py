"""Governance: compliance exports of what the platform decided, ordered and breached."""
