"""Bar sources: one module per venue, plus bundled real history and the synthetic market."""
