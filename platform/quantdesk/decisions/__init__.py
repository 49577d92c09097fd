"""Decisions: merge model signals, RL targets and rule overrides into audited target weights."""
