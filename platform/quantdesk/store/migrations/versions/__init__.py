"""Migration revisions, written by hand to match ``quantdesk.store.tables``."""
