"""The one transaction-cost model of the platform: commissions, spread, slippage and impact.

Backtests, the RL environment's reward and model evaluation all charge trades through
:class:`CostModel`, so a strategy never looks cheaper in one place than in another. Costs are
linear in traded notional (basis points) plus an optional square-root market impact:

``cost / traded notional = scale * ((fee + half_spread + slippage) / 1e4
+ impact_coefficient * sqrt(traded notional / bar dollar volume))``

* ``fee``: the venue's commission (taker side: backtests trade at market).
* ``half_spread``: crossing half the bid-ask spread, by asset class.
* ``slippage``: a flat allowance for the fill being worse than the quoted price.
* impact: only when ``impact_coefficient > 0``; it then needs the bar's dollar volume.

``scale`` multiplies everything, for cost-sensitivity tables (0.5x, 1x, 2x).

Every method is vectorised over numpy arrays whose LAST axis is the symbol axis (shape
``(bars, symbols)`` or ``(symbols,)``), and pure: no IO, no state.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from quantdesk.config import CostSettings
from quantdesk.data.catalog import get_instrument
from quantdesk.domain import ConfigurationError, Instrument, InvalidInputError

FloatArray = NDArray[np.float64]

BPS = 1e-4


def _frozen(values: ArrayLike) -> FloatArray:
    """A read-only float copy, so a model never changes behind its users' backs."""
    array = np.array(values, dtype=np.float64)
    array.setflags(write=False)
    return array


def sum_symbols(values: FloatArray) -> FloatArray:
    """Sum over the last (symbol) axis.

    A few symbols are added slice by slice: numpy reduces a short trailing axis far slower
    than it adds whole slices (about 20x for one symbol over a large parameter grid).
    """
    n = values.shape[-1]
    if n > 8:
        total: FloatArray = np.sum(values, axis=-1)
        return total
    total = values[..., 0]
    for column in range(1, n):
        total = total + values[..., column]
    return total


def sum_symbols_into(values: FloatArray, out: FloatArray) -> FloatArray:
    """:func:`sum_symbols` written into ``out``, allocating nothing."""
    n = values.shape[-1]
    if n == 1:
        np.copyto(out, values[..., 0])
    elif n > 8:
        np.sum(values, axis=-1, out=out)
    else:
        np.add(values[..., 0], values[..., 1], out=out)
        for column in range(2, n):
            out += values[..., column]
    return out


def linear_rebalance_cost(
    current: FloatArray, target: FloatArray, rate: FloatArray, scratch: FloatArray | None = None
) -> FloatArray:
    """Exact cost fraction of a rebalance under linear costs (see ``CostModel.rebalance_cost``).

    With the trade directions ``s_i`` known, ``c = Σ r s (w - h) / (1 + Σ r s w)``. Start from
    the directions at ``c = 0``; a direction can only differ for a trade smaller than ``c·|w|``,
    so one check (rarely a second solve) settles it. Written into preallocated buffers
    (``scratch`` may be passed in): on a large grid the time goes to fresh memory pages.
    """
    shape = np.broadcast_shapes(current.shape, target.shape)
    work = np.empty(shape) if scratch is None else scratch
    np.subtract(target, current, out=work)
    weighted = np.sign(work)
    weighted *= rate
    cost = np.empty(shape[:-1])
    other = np.empty(shape[:-1])
    for _ in range(shape[-1] + 2):
        np.subtract(target, current, out=work)
        work *= weighted
        sum_symbols_into(work, cost)
        np.multiply(weighted, target, out=work)
        sum_symbols_into(work, other)
        other += 1.0
        cost /= other
        np.subtract(1.0, cost, out=other)
        np.multiply(target, other[..., None], out=work)
        work -= current
        np.sign(work, out=work)
        work *= rate
        if np.array_equal(work, weighted):
            break
        weighted, work = work, weighted
    return cost


@dataclass(frozen=True, slots=True, eq=False)
class CostModel:
    """Per-symbol cost rates for a fixed, ordered list of symbols.

    Build it with :meth:`from_settings` (catalogue lookup) or :meth:`for_instruments`; the
    arrays follow ``symbols`` order, which must match the last axis of every input.
    """

    symbols: tuple[str, ...]
    fee_bps: FloatArray
    half_spread_bps: FloatArray
    slippage_bps: float = 0.0
    impact_coefficient: float = 0.0
    volume_cap: float | None = None
    scale: float = 1.0
    _linear_rate: FloatArray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.symbols)
        if n == 0:
            raise InvalidInputError("a cost model needs at least one symbol")
        if len(set(self.symbols)) != n:
            raise InvalidInputError(f"a cost model lists a symbol twice: {self.symbols}")
        fee = _frozen(self.fee_bps)
        spread = _frozen(self.half_spread_bps)
        for name, array in (("fee_bps", fee), ("half_spread_bps", spread)):
            if array.shape != (n,):
                raise InvalidInputError(f"{name} must have one value per symbol ({n})")
            if not np.all(np.isfinite(array) & (array >= 0)):
                raise InvalidInputError(f"{name} must be finite and >= 0, got {array}")
        for name in ("slippage_bps", "impact_coefficient", "scale"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise InvalidInputError(f"{name} must be finite and >= 0, got {value}")
        if self.volume_cap is not None and not 0 < self.volume_cap <= 1:
            raise InvalidInputError(f"volume_cap must be in (0, 1], got {self.volume_cap}")
        object.__setattr__(self, "fee_bps", fee)
        object.__setattr__(self, "half_spread_bps", spread)
        rate = _frozen((fee + spread + self.slippage_bps) * BPS * self.scale)
        object.__setattr__(self, "_linear_rate", rate)

    @classmethod
    def for_instruments(
        cls, instruments: Iterable[Instrument], settings: CostSettings, scale: float = 1.0
    ) -> CostModel:
        """Rates for ``instruments`` from the venue fee schedule and asset-class spreads."""
        items = list(instruments)
        fees: list[float] = []
        spreads: list[float] = []
        for instrument in items:
            venue, asset_class = str(instrument.venue), str(instrument.asset_class)
            if venue not in settings.fee_bps:
                raise ConfigurationError(
                    f"QUANTDESK_COSTS__FEE_BPS has no fee for venue {venue!r} "
                    f"(needed by {instrument.symbol})"
                )
            if asset_class not in settings.half_spread_bps:
                raise ConfigurationError(
                    f"QUANTDESK_COSTS__HALF_SPREAD_BPS has no spread for asset class "
                    f"{asset_class!r} (needed by {instrument.symbol})"
                )
            fees.append(settings.fee_bps[venue])
            spreads.append(settings.half_spread_bps[asset_class])
        return cls(
            symbols=tuple(i.symbol for i in items),
            fee_bps=_frozen(fees),
            half_spread_bps=_frozen(spreads),
            slippage_bps=settings.slippage_bps,
            impact_coefficient=settings.impact_coefficient,
            volume_cap=settings.volume_cap,
            scale=scale,
        )

    @classmethod
    def from_settings(
        cls, symbols: Iterable[str], settings: CostSettings, scale: float = 1.0
    ) -> CostModel:
        """Rates for catalogue ``symbols`` (unknown symbols raise ``UnknownSymbolError``)."""
        return cls.for_instruments((get_instrument(s) for s in symbols), settings, scale)

    @classmethod
    def free(cls, symbols: Iterable[str]) -> CostModel:
        """A zero-cost model: the gross-of-costs reference run."""
        names = tuple(symbols)
        zeros = np.zeros(len(names))
        return cls(symbols=names, fee_bps=zeros, half_spread_bps=zeros)

    def scaled(self, scale: float) -> CostModel:
        """The same model with every cost multiplied by ``scale`` (sensitivity analysis)."""
        return replace(self, scale=scale)

    @property
    def linear_rate(self) -> FloatArray:
        """Proportional cost per unit of traded notional, per symbol (scale applied)."""
        return self._linear_rate

    @property
    def round_trip_bps(self) -> FloatArray:
        """Cost of buying and selling once, in basis points, without impact."""
        return self._linear_rate * 2 / BPS

    def _check_last_axis(self, array: FloatArray, name: str) -> None:
        if array.ndim == 0 or array.shape[-1] != len(self.symbols):
            raise InvalidInputError(
                f"{name}: last axis must have one column per symbol ({len(self.symbols)}), "
                f"got shape {array.shape}"
            )

    def rate(self, traded: ArrayLike, bar_dollar_volume: ArrayLike | None = None) -> FloatArray:
        """Cost per unit of traded notional for trades of absolute size ``traded`` (currency).

        With impact on, ``bar_dollar_volume`` (same shape, currency) is required; a bar with no
        volume and a non-zero trade gets infinite impact, which the volume cap prevents.
        """
        size = np.abs(np.asarray(traded, dtype=np.float64))
        self._check_last_axis(size, "traded")
        linear = np.broadcast_to(self._linear_rate, size.shape)
        if self.impact_coefficient == 0:
            return np.array(linear)
        if bar_dollar_volume is None:
            raise InvalidInputError(
                "impact_coefficient > 0 needs the bar dollar volume of every traded bar"
            )
        volume = np.asarray(bar_dollar_volume, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            participation = np.where(size > 0, size / volume, 0.0)
        impact = self.impact_coefficient * np.sqrt(participation) * self.scale
        result: FloatArray = linear + impact
        return result

    def cost_of_notional(
        self, traded: ArrayLike, bar_dollar_volume: ArrayLike | None = None
    ) -> FloatArray:
        """Cost in currency of trading ``traded`` currency (sign ignored) per symbol and bar."""
        size = np.abs(np.asarray(traded, dtype=np.float64))
        if self.impact_coefficient == 0:
            self._check_last_axis(size, "traded")
            linear: FloatArray = size * self._linear_rate
            return linear
        result: FloatArray = size * self.rate(size, bar_dollar_volume)
        return result

    def cost_of_turnover(
        self,
        turnover: ArrayLike,
        equity: ArrayLike | float = 1.0,
        bar_dollar_volume: ArrayLike | None = None,
    ) -> FloatArray:
        """Cost as a fraction of equity of changing weights by ``turnover`` (``|Δw|``).

        ``equity`` (scalar, or one value per bar broadcast over symbols) only matters for the
        impact term, which depends on the traded size relative to the bar's volume.
        """
        weight_change = np.abs(np.asarray(turnover, dtype=np.float64))
        self._check_last_axis(weight_change, "turnover")
        if self.impact_coefficient == 0:
            linear: FloatArray = weight_change * self._linear_rate
            return linear
        equity_array = np.asarray(equity, dtype=np.float64)
        if equity_array.ndim == 1:
            equity_array = equity_array[:, None]
        traded = weight_change * equity_array
        result: FloatArray = weight_change * self.rate(traded, bar_dollar_volume)
        return result

    def cap_trades(self, desired: ArrayLike, bar_dollar_volume: ArrayLike) -> FloatArray:
        """Signed trades (currency) clipped to ``volume_cap`` times the bar's dollar volume.

        Without a cap the trades pass unchanged; a cap with zero volume blocks the trade.
        """
        wanted = np.asarray(desired, dtype=np.float64)
        self._check_last_axis(wanted, "desired")
        if self.volume_cap is None:
            return np.array(wanted)
        limit = self.volume_cap * np.maximum(np.asarray(bar_dollar_volume, dtype=np.float64), 0)
        result: FloatArray = np.clip(wanted, -limit, limit)
        return result

    def rebalance_cost(
        self,
        current: ArrayLike,
        target: ArrayLike,
        equity: ArrayLike | float = 1.0,
        bar_dollar_volume: ArrayLike | None = None,
    ) -> FloatArray:
        """Cost, as a fraction of pre-trade equity, of moving from ``current`` to ``target``.

        The accounting every engine shares: after the trade the holdings ARE the target weights
        of the post-cost equity, and the cost is charged on the trade actually done. So the cost
        ``c`` solves ``c = Σ rate_i · |target_i · (1 - c) - current_i|``; for linear costs it is
        solved exactly (buying all-in with fee ``f`` keeps ``1/(1+f)`` of equity, selling all
        keeps ``1-f``, as brokers charge). With impact the rate depends on the trade size and
        the fixed point is iterated to machine precision. Reduces the last (symbol) axis.
        """
        held = np.asarray(current, dtype=np.float64)
        wanted = np.asarray(target, dtype=np.float64)
        self._check_last_axis(held, "current")
        self._check_last_axis(wanted, "target")
        rate = self._linear_rate
        if self.impact_coefficient == 0:
            shape = np.broadcast_shapes(held.shape, wanted.shape)
            return linear_rebalance_cost(
                np.broadcast_to(held, shape), np.broadcast_to(wanted, shape), rate
            )
        equity_column = np.expand_dims(np.asarray(equity, dtype=np.float64), -1)
        cost: FloatArray = np.zeros(np.broadcast_shapes(held.shape, wanted.shape)[:-1])
        for _ in range(100):
            change = np.abs(wanted * (1 - cost[..., None]) - held)
            traded = change * equity_column
            updated: FloatArray = sum_symbols(change * self.rate(traded, bar_dollar_volume))
            converged = np.max(np.abs(updated - cost), initial=0.0) <= 1e-16
            cost = updated
            if converged:
                break
        return cost
