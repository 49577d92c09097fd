"""Orchestration: DAG policy, task definitions, and how a batch step runs (worker or pod).

Nothing here imports Airflow at module level, so ``quantdesk`` stays fast to import; the
Airflow-facing builders import it inside their functions.
"""
