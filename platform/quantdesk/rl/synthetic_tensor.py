"""A market tensor from the synthetic market: closes plus the published planted signal.

Features per symbol: ``signal`` (the planted ``z[t]``, known when bar ``t`` closes) and
``logret_1`` (the log return into bar ``t``). With ``signal_strength > 0`` the signal predicts
the next return; with 0 the market is a random walk and the signal is pure noise, which is what
the honesty tests need to tell skill from luck.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from quantdesk.data.sources.synthetic import SyntheticConfig, SyntheticMarket
from quantdesk.rl.market_tensor import MarketTensor

SYNTHETIC_FEATURES: tuple[str, ...] = ("signal", "logret_1")


def synthetic_tensor(config: SyntheticConfig, start: datetime, end: datetime) -> MarketTensor:
    """Bars of ``config.signal_granularity`` in ``[start, end)`` for every configured symbol."""
    market = SyntheticMarket(config)
    granularity = config.signal_granularity
    closes: dict[str, pd.Series] = {}
    rows: list[pd.DataFrame] = []
    for symbol in config.symbols:
        bars = market.bars(symbol, granularity, start, end).set_index("open_time")
        close = bars["close"]
        closes[symbol] = close
        signal = market.signal_frame(symbol, start, end).set_index("open_time")["signal"]
        rows.append(
            pd.DataFrame(
                {
                    "time": close.index,
                    "symbol": symbol,
                    "signal": signal.reindex(close.index).to_numpy(),
                    "logret_1": np.log(close).diff().to_numpy(),
                }
            )
        )
    return MarketTensor.from_frames(pd.DataFrame(closes), pd.concat(rows, ignore_index=True))
