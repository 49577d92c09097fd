"""Batch steps, one function per step taking Settings: the DAG tasks and the CLI call these."""
