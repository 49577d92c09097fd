"""Timing helpers shared by the benchmarks: best-of-N wall time and a printable result row."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Measurement:
    """Our figure beside the peer's, for the same work in the same run."""

    name: str
    ours_s: float
    peer_s: float
    peer: str
    unit_count: int = 1
    unit: str = "run"

    @property
    def ratio(self) -> float:
        """How many times faster we are than the peer (below 1 means slower)."""
        return self.peer_s / self.ours_s if self.ours_s > 0 else float("inf")

    def row(self) -> str:
        rate = f"{self.unit_count / self.ours_s:,.0f} {self.unit}/s" if self.unit_count > 1 else ""
        return (
            f"{self.name:<44} ours {self.ours_s * 1e3:10.2f} ms   "
            f"{self.peer:<28} {self.peer_s * 1e3:10.2f} ms   x{self.ratio:6.2f}  {rate}"
        )


def best_of(fn: Callable[[], object], repeat: int = 5) -> float:
    """Best wall time of ``repeat`` calls: the least noisy estimate on a shared machine."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def median_of(fn: Callable[[], object], repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
