"""Batch steps, one function each: the CLI and the Airflow DAGs call these same functions."""
