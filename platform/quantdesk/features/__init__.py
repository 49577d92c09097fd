"""Causal features, labels and point-in-time datasets built from the clean lake."""
