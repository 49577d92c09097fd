"""One function per batch step, taking Settings; the DAG tasks and the CLI call these."""
