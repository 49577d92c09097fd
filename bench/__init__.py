"""Benchmarks run by ``make bench``; each reports ratios against a peer measured in the same run."""
