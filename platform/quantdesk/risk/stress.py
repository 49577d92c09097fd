"""Stress tests: what the book would lose under given price shocks.

Two kinds of scenario. *Historical-style* presets are rounded, approximate moves of well
known episodes by asset class (labelled as such, not exact replays). *Historical-window*
scenarios come from the data itself: the worst ``n``-period cumulative move of the current
portfolio over the history read. Users add their own shocks per symbol or per asset class.
A symbol's own shock overrides its asset class's.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from quantdesk.data.catalog import get_instrument
from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.instrument import AssetClass


@dataclass(frozen=True, slots=True)
class StressScenario:
    """Relative price shocks (-0.2 is a 20% fall) by symbol and by asset class."""

    name: str
    description: str = ""
    symbol_shocks: Mapping[str, float] = field(default_factory=dict)
    class_shocks: Mapping[AssetClass, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InvalidInputError("a stress scenario needs a name")
        shocks = [*self.symbol_shocks.values(), *self.class_shocks.values()]
        if any(not math.isfinite(s) or s <= -1.0 for s in shocks):
            raise InvalidInputError(f"scenario {self.name!r}: shocks must be finite and > -1")
        object.__setattr__(self, "symbol_shocks", MappingProxyType(dict(self.symbol_shocks)))
        classes = {AssetClass(k): v for k, v in self.class_shocks.items()}
        object.__setattr__(self, "class_shocks", MappingProxyType(classes))

    def shock_for(self, symbol: str) -> float:
        if symbol in self.symbol_shocks:
            return self.symbol_shocks[symbol]
        return self.class_shocks.get(get_instrument(symbol).asset_class, 0.0)


@dataclass(frozen=True, slots=True)
class StressResult:
    """Profit and loss of one scenario, in total and per symbol (currency)."""

    scenario: str
    pnl: float
    pnl_by_symbol: Mapping[str, float]

    def return_on(self, value: float) -> float:
        return self.pnl / value if value else 0.0


# Rounded, approximate peak-to-trough moves, for orientation only.
HISTORICAL_STYLE_SCENARIOS: tuple[StressScenario, ...] = (
    StressScenario(
        "gfc_2008",
        "2008 financial crisis style: equities -40%, USD bid vs risk currencies",
        symbol_shocks={"USD-JPY": -0.20, "GBP-USD": -0.25, "EUR-USD": -0.15},
        class_shocks={AssetClass.EQUITY: -0.40, AssetClass.CRYPTO: -0.60},
    ),
    StressScenario(
        "covid_crash_2020",
        "March 2020 style: equities -30%, crypto -50% in weeks",
        symbol_shocks={"GBP-USD": -0.10, "EUR-USD": -0.04},
        class_shocks={AssetClass.EQUITY: -0.30, AssetClass.CRYPTO: -0.50},
    ),
    StressScenario(
        "crypto_winter_2022",
        "2022 style: crypto -70%, growth equities -30%",
        class_shocks={AssetClass.EQUITY: -0.25, AssetClass.CRYPTO: -0.70},
        symbol_shocks={"NDX": -0.33},
    ),
    StressScenario(
        "chf_unpeg_2015",
        "January 2015 style: CHF +20% in minutes",
        symbol_shocks={"USD-CHF": -0.17, "EUR-USD": -0.02},
    ),
    StressScenario(
        "equity_rally",
        "short squeeze: equities +15%, crypto +30% (hurts short books)",
        class_shocks={AssetClass.EQUITY: 0.15, AssetClass.CRYPTO: 0.30},
    ),
)


def apply_scenario(exposures: Mapping[str, float], scenario: StressScenario) -> StressResult:
    """P&L of signed market values ``exposures`` (currency) when prices jump by the shocks."""
    by_symbol = {s: float(v) * scenario.shock_for(s) for s, v in exposures.items()}
    return StressResult(scenario.name, float(sum(by_symbol.values())), by_symbol)


def worst_window_scenario(returns: pd.DataFrame, weights: pd.Series, window: int) -> StressScenario:
    """The realized per-symbol moves over the ``window`` periods that hurt ``weights`` most."""
    if window < 1:
        raise InvalidInputError(f"window must be >= 1 period, got {window}")
    frame = returns[list(weights.index)].dropna()
    if len(frame) < window:
        raise InvalidInputError(f"need at least {window} rows of returns, got {len(frame)}")
    growth = np.log1p(frame).rolling(window).sum().dropna()
    moves = np.expm1(growth)
    portfolio = moves.to_numpy() @ weights.to_numpy(dtype=np.float64)
    worst = int(np.argmin(portfolio))
    end = moves.index[worst]
    shocks = {str(s): float(v) for s, v in moves.iloc[worst].items()}
    return StressScenario(
        f"worst_{window}_periods",
        f"the worst {window}-period window in the data, ending {end}",
        symbol_shocks=shocks,
    )


def load_scenarios(path: Path) -> list[StressScenario]:
    """User scenarios from JSON: ``[{"name", "description", "symbols": {}, "classes": {}}]``."""
    try:
        items = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInputError(f"cannot read stress scenarios from {path}: {exc}") from None
    if not isinstance(items, list):
        raise InvalidInputError(f"{path}: expected a JSON list of scenarios")
    scenarios = []
    for item in items:
        try:
            classes = {AssetClass(k): float(v) for k, v in item.get("classes", {}).items()}
            symbols = {str(k): float(v) for k, v in item.get("symbols", {}).items()}
            scenarios.append(
                StressScenario(
                    str(item["name"]), str(item.get("description", "")), symbols, classes
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInputError(f"{path}: bad scenario {item!r}: {exc}") from None
    return scenarios
