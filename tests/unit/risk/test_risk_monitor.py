"""Breaches become alerts through the alert interface; loss breaches brake trading."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from quantdesk.monitoring.alerts import Alert, AlertSink, Severity
from quantdesk.risk.kill_switch import KillSwitch
from quantdesk.risk.limits import RiskLimits
from quantdesk.risk.monitor import BreachKind, RiskMonitor, RiskSnapshot, find_breaches
from quantdesk.risk.trading_state import TradingState

AT = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
LIMITS = RiskLimits(
    max_daily_loss=0.03, max_drawdown=0.1, max_gross_exposure=1.5, max_concentration=0.3
)


class RecordingSink:
    """An alert channel that keeps what it was sent (stands in for Slack or email)."""

    def __init__(self) -> None:
        self.sent: list[Alert] = []

    def send(self, alert: Alert) -> None:
        self.sent.append(alert)


def snapshot(equity: float = 1_000_000, **kwargs: object) -> RiskSnapshot:
    values: dict[str, object] = {
        "as_of": AT, "equity": equity, "start_of_day_equity": 1_000_000,
        "peak_equity": 1_000_000, "exposures": {"AAPL": 200_000.0, "MSFT": 100_000.0},
    }  # fmt: skip
    values.update(kwargs)
    return RiskSnapshot(**values)  # type: ignore[arg-type]


def test_find_breaches_quiet_book_has_none() -> None:
    assert find_breaches(snapshot(), LIMITS, var_limit=0.05) == []


def test_risk_monitor_sends_one_alert_per_breach() -> None:
    sink = RecordingSink()
    monitor = RiskMonitor(LIMITS, sink, var_limit=0.02)
    book = snapshot(exposures={"AAPL": 1_200_000.0, "MSFT": 400_000.0}, var=0.03)

    alerts = monitor.check(book)

    assert isinstance(sink, AlertSink)
    kinds = {a.dedup_key for a in sink.sent}
    assert kinds == {"risk:var:*", "risk:gross_exposure:*", "risk:concentration:AAPL",
                     "risk:concentration:MSFT"}  # fmt: skip
    assert alerts == sink.sent
    assert all(a.severity is Severity.WARNING and a.created_at == AT for a in alerts)


def test_risk_monitor_drawdown_breach_is_critical_and_brakes_trading(tmp_path: Path) -> None:
    sink = RecordingSink()
    switch = KillSwitch(tmp_path / "ks.json")
    monitor = RiskMonitor(LIMITS, sink, kill_switch=switch)

    monitor.check(snapshot(equity=880_000, start_of_day_equity=880_000))

    (alert,) = sink.sent
    assert alert.severity is Severity.CRITICAL and "drawdown" in alert.title
    assert switch.state is TradingState.REDUCING


def test_risk_monitor_never_loosens_a_halt(tmp_path: Path) -> None:
    switch = KillSwitch(tmp_path / "ks.json")
    switch.halt(reason="manual", actor="alice")

    RiskMonitor(LIMITS, RecordingSink(), kill_switch=switch).check(snapshot(equity=960_000))

    assert switch.state is TradingState.HALTED


def test_find_breaches_halted_state_is_reported() -> None:
    breaches = find_breaches(snapshot(trading_state=TradingState.HALTED), LIMITS, None)

    assert [b.kind for b in breaches] == [BreachKind.TRADING_HALTED]
