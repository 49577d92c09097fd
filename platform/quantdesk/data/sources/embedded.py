"""The embedded default market: real bundled history where a package ships it, synthetic elsewhere.

This is what ``make demo`` and every offline run ingest. Which series is real and which is
synthetic is decided per (symbol, bar size) by :func:`bundled.has_bundled`, so the answer is
stable and printed by ``quantdesk ingest`` (the ``venue`` column says ``bundled`` or
``synthetic`` for every bar).
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd

from quantdesk.data.sources.bundled import BundledSource, has_bundled
from quantdesk.data.sources.synthetic import SyntheticSource
from quantdesk.data.sources.venue_bars import as_granularity
from quantdesk.domain import Granularity, Instrument, Venue


class EmbeddedSource:
    """Bundled real history first, the seeded synthetic market for everything else."""

    venue = Venue.BUNDLED

    def __init__(self, bundled: BundledSource, synthetic: SyntheticSource) -> None:
        self.bundled = bundled
        self.synthetic = synthetic

    def __repr__(self) -> str:
        return f"EmbeddedSource({self.bundled!r}, {self.synthetic!r})"

    def list_instruments(self) -> list[Instrument]:
        merged = {i.symbol: i for i in self.synthetic.list_instruments()}
        merged.update({i.symbol: i for i in self.bundled.list_instruments()})
        return [merged[s] for s in sorted(merged)]

    def origin(self, symbol: str, granularity: Granularity | str) -> Venue:
        """Which source serves this series."""
        return (
            Venue.BUNDLED if has_bundled(symbol, as_granularity(granularity)) else Venue.SYNTHETIC
        )

    def fetch_bars(
        self, symbol: str, granularity: Granularity | str, start: datetime, end: datetime
    ) -> pd.DataFrame:
        if self.origin(symbol, granularity) is Venue.BUNDLED:
            return self.bundled.fetch_bars(symbol, granularity, start, end)
        return self.synthetic.fetch_bars(symbol, granularity, start, end)
