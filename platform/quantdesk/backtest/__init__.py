"""Backtesting: the shared cost model, vectorized and event-driven engines, metrics, reports."""
