"""Market data: venue sources, bundled and synthetic history, quality gate, lake and backups."""
