"""Risk monitoring: compare a snapshot of the book with the limits and raise alerts.

Pure :func:`find_breaches` says what is wrong; :class:`RiskMonitor` turns breaches into
:class:`~quantdesk.monitoring.alerts.Alert` values sent through any ``AlertSink`` and, when
given a kill switch, tightens trading to REDUCING on a loss or drawdown breach (it never
loosens the state: a person resumes trading).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from quantdesk.domain.errors import InvalidInputError
from quantdesk.domain.timeutil import require_utc, utc_now
from quantdesk.domain.trading import LimitKind
from quantdesk.monitoring.alerts import Alert, AlertSink, Severity
from quantdesk.risk.kill_switch import KillSwitch
from quantdesk.risk.limits import RiskLimits
from quantdesk.risk.trading_state import TradingState

ALERT_SOURCE = "risk"


class BreachKind(StrEnum):
    VAR = "var"
    DAILY_LOSS = "daily_loss"
    DRAWDOWN = "drawdown"
    GROSS_EXPOSURE = "gross_exposure"
    NET_EXPOSURE = "net_exposure"
    CONCENTRATION = "concentration"
    POSITION_NOTIONAL = "position_notional"
    TRADING_HALTED = "trading_halted"


_BRAKES = frozenset({BreachKind.DAILY_LOSS, BreachKind.DRAWDOWN})


@dataclass(frozen=True, slots=True)
class RiskSnapshot:
    """The book at one moment: equity marks, signed market values, and the latest VaR."""

    as_of: datetime
    equity: float
    start_of_day_equity: float
    peak_equity: float
    exposures: Mapping[str, float] = field(default_factory=dict)
    var: float | None = None
    trading_state: TradingState = TradingState.ACTIVE

    def __post_init__(self) -> None:
        object.__setattr__(self, "as_of", require_utc(self.as_of, "as_of"))
        if self.start_of_day_equity <= 0 or self.peak_equity <= 0:
            raise InvalidInputError("start_of_day_equity and peak_equity must be > 0")
        object.__setattr__(self, "exposures", MappingProxyType(dict(self.exposures)))


@dataclass(frozen=True, slots=True)
class Breach:
    kind: BreachKind
    severity: Severity
    value: float
    limit: float
    message: str
    symbol: str | None = None

    @property
    def dedup_key(self) -> str:
        return f"{ALERT_SOURCE}:{self.kind.value}:{self.symbol or '*'}"


def find_breaches(
    snapshot: RiskSnapshot, limits: RiskLimits, var_limit: float | None
) -> list[Breach]:
    """Every limit the snapshot is at or over, most severe kinds first."""
    found: list[Breach] = []
    if snapshot.trading_state is TradingState.HALTED:
        found.append(
            Breach(BreachKind.TRADING_HALTED, Severity.CRITICAL, 1, 1, "trading is halted")
        )
    sod, peak, equity = snapshot.start_of_day_equity, snapshot.peak_equity, snapshot.equity
    _add(
        found,
        BreachKind.DAILY_LOSS,
        (sod - equity) / sod,
        limits.max_daily_loss,
        Severity.CRITICAL,
        "daily loss {value:.2%} reached {limit:.2%}",
    )
    _add(
        found,
        BreachKind.DRAWDOWN,
        (peak - equity) / peak,
        limits.max_drawdown,
        Severity.CRITICAL,
        "drawdown {value:.2%} reached {limit:.2%}",
    )
    _add(
        found,
        BreachKind.VAR,
        snapshot.var,
        var_limit,
        Severity.WARNING,
        "one-day VaR {value:.2%} of equity is over {limit:.2%}",
    )
    if equity > 0:
        values = snapshot.exposures
        _add(
            found,
            BreachKind.GROSS_EXPOSURE,
            sum(abs(v) for v in values.values()) / equity,
            limits.max_gross_exposure,
            Severity.WARNING,
            "gross exposure {value:.2f}x > {limit:g}x",
        )
        _add(
            found,
            BreachKind.NET_EXPOSURE,
            abs(sum(values.values())) / equity,
            limits.max_net_exposure,
            Severity.WARNING,
            "net exposure {value:.2f}x > {limit:g}x",
        )
        for symbol, value in sorted(values.items()):
            _add(
                found,
                BreachKind.CONCENTRATION,
                abs(value) / equity,
                limits.for_symbol(LimitKind.MAX_CONCENTRATION, symbol),
                Severity.WARNING,
                "{symbol} is {value:.1%} of equity (> {limit:.1%})",
                symbol,
            )
            _add(
                found,
                BreachKind.POSITION_NOTIONAL,
                abs(value),
                limits.for_symbol(LimitKind.MAX_POSITION_NOTIONAL, symbol),
                Severity.WARNING,
                "{symbol} position {value:,.0f} > {limit:,.0f}",
                symbol,
            )
    return found


def _add(
    found: list[Breach],
    kind: BreachKind,
    value: float | None,
    limit: float | None,
    severity: Severity,
    template: str,
    symbol: str | None = None,
) -> None:
    if value is None or limit is None:
        return
    over = value >= limit if kind in _BRAKES else value > limit
    if over:
        message = template.format(value=value, limit=limit, symbol=symbol)
        found.append(Breach(kind, severity, value, limit, message, symbol))


def breach_to_alert(breach: Breach, at: datetime | None = None) -> Alert:
    return Alert(
        severity=breach.severity,
        title=f"risk limit breached: {breach.kind.value}"
        + (f" ({breach.symbol})" if breach.symbol else ""),
        body=breach.message,
        source=ALERT_SOURCE,
        dedup_key=breach.dedup_key,
        created_at=utc_now() if at is None else at,
    )


class RiskMonitor:
    """Checks snapshots, sends one alert per breach, and brakes trading on loss breaches."""

    def __init__(
        self,
        limits: RiskLimits,
        sink: AlertSink,
        *,
        var_limit: float | None = None,
        kill_switch: KillSwitch | None = None,
    ) -> None:
        self.limits = limits
        self.sink = sink
        self.var_limit = var_limit
        self.kill_switch = kill_switch

    def check(self, snapshot: RiskSnapshot) -> list[Alert]:
        breaches = find_breaches(snapshot, self.limits, self.var_limit)
        alerts = [breach_to_alert(b, snapshot.as_of) for b in breaches]
        for alert in alerts:
            self.sink.send(alert)
        brakes = [b for b in breaches if b.kind in _BRAKES]
        if brakes and self.kill_switch is not None:
            current = self.kill_switch.state
            if current.worst(TradingState.REDUCING) is not current:
                self.kill_switch.reduce_only(
                    reason="; ".join(b.message for b in brakes), actor="risk-monitor"
                )
        return alerts
