"""AlertManager: threshold, dedup, throttle and outbox, with real channels and a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from quantdesk.config import load_settings
from quantdesk.domain.errors import InvalidInputError
from quantdesk.monitoring.alert_channels import EmailSink, SlackSink
from quantdesk.monitoring.alert_manager import (
    AlertManager,
    AlertPolicy,
    AlertStatus,
    channels_from_settings,
)
from quantdesk.monitoring.alert_outbox import FileOutbox
from quantdesk.monitoring.alerts import Alert, AlertSink, Severity
from tests.unit.monitoring.alert_receivers import (
    SlackRecorder,
    closed_port,
    slack_server,
    smtp_server,
)

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class FakeClock:
    """An injected clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def slack() -> Iterator[SlackRecorder]:
    with slack_server() as recorder:
        yield recorder


def _manager(
    tmp_path: Path,
    clock: FakeClock,
    channels: dict[str, AlertSink] | None = None,
    **policy: object,
) -> AlertManager:
    return AlertManager(
        FileOutbox(tmp_path / "alerts"),
        channels,
        AlertPolicy(**policy),  # type: ignore[arg-type]
        clock,
    )


def test_alert_with_unknown_severity_raises_clear_error() -> None:
    with pytest.raises(InvalidInputError, match="severity"):
        Alert("urgent", "disk full")  # type: ignore[arg-type]


def test_alert_round_trips_through_its_outbox_form() -> None:
    alert = Alert(Severity.CRITICAL, "kill switch", "tripped", "risk", "risk:kill", T0)
    assert Alert.from_dict(alert.to_dict()) == alert
    assert isinstance(FileOutbox(Path("x")), AlertSink)


def test_notify_below_threshold_writes_nothing(tmp_path: Path) -> None:
    # Arrange
    manager = _manager(tmp_path, FakeClock(), min_severity=Severity.WARNING)

    # Act
    outcome = manager.raise_alert("info", "nightly job done")

    # Assert
    assert outcome.status is AlertStatus.BELOW_THRESHOLD
    assert manager.outbox.records() == []


def test_notify_delivers_to_outbox_and_slack_with_chat_post_message(
    tmp_path: Path, slack: SlackRecorder
) -> None:
    # Arrange
    sink = SlackSink("xoxb-test-token", "#alerts", base_url=slack.base_url)
    manager = _manager(tmp_path, FakeClock(), {"slack": sink})

    # Act
    outcome = manager.raise_alert(
        Severity.CRITICAL, "VaR limit breached", "95% VaR 3.1% > 2.5%", source="risk"
    )

    # Assert
    assert outcome.status is AlertStatus.DELIVERED
    assert outcome.delivered == ("outbox", "slack")
    [request] = slack.requests
    assert request["path"] == "/api/chat.postMessage"
    assert request["authorization"] == "Bearer xoxb-test-token"
    assert request["content_type"].startswith("application/json")
    assert request["json"]["channel"] == "#alerts"
    assert "[CRITICAL] VaR limit breached" in request["json"]["text"]
    assert "95% VaR 3.1% > 2.5%" in request["json"]["text"]
    [record] = manager.outbox.records()
    assert record["status"] == "delivered"
    assert record["alert"]["dedup_key"] == "risk:VaR limit breached"


def test_notify_repeat_within_window_is_suppressed_then_sent_with_count(
    tmp_path: Path, slack: SlackRecorder
) -> None:
    # Arrange
    clock = FakeClock()
    sink = SlackSink("t", "#alerts", base_url=slack.base_url)
    manager = _manager(tmp_path, clock, {"slack": sink}, dedup_window=timedelta(minutes=30))

    # Act
    first = manager.raise_alert("warning", "feed stale", source="ingest")
    clock.advance(minutes=10)
    second = manager.raise_alert("warning", "feed stale", source="ingest")
    clock.advance(minutes=10)
    third = manager.raise_alert("warning", "feed stale", source="ingest")
    clock.advance(minutes=11)  # 31 minutes after the first send: the window is over
    fourth = manager.raise_alert("warning", "feed stale", source="ingest")

    # Assert
    assert [o.status for o in (first, second, third, fourth)] == [
        AlertStatus.DELIVERED,
        AlertStatus.SUPPRESSED,
        AlertStatus.SUPPRESSED,
        AlertStatus.DELIVERED,
    ]
    assert fourth.muted_before == 2
    assert len(slack.requests) == 2
    assert "2 repeats muted" in slack.requests[1]["json"]["text"]
    statuses = [r["status"] for r in manager.outbox.records()]
    assert statuses == ["delivered", "suppressed", "suppressed", "delivered"]


def test_notify_more_severe_repeat_is_not_suppressed(tmp_path: Path) -> None:
    # Arrange
    clock = FakeClock()
    manager = _manager(tmp_path, clock, min_severity=Severity.INFO)
    manager.raise_alert("warning", "drawdown", dedup_key="dd")

    # Act
    clock.advance(minutes=1)
    escalated = manager.raise_alert("critical", "drawdown", dedup_key="dd")
    clock.advance(minutes=1)
    repeated = manager.raise_alert("warning", "drawdown", dedup_key="dd")

    # Assert
    assert escalated.status is AlertStatus.DELIVERED
    assert repeated.status is AlertStatus.SUPPRESSED


def test_notify_dedup_memory_is_shared_between_managers_on_one_outbox(tmp_path: Path) -> None:
    # Arrange: two managers stand for two DAG task processes
    clock = FakeClock()
    _manager(tmp_path, clock).raise_alert("critical", "task failed", dedup_key="dag:x")

    # Act
    clock.advance(seconds=5)
    outcome = _manager(tmp_path, clock).raise_alert("critical", "task failed", dedup_key="dag:x")

    # Assert
    assert outcome.status is AlertStatus.SUPPRESSED


def test_notify_past_throttle_limit_only_records_until_window_passes(
    tmp_path: Path, slack: SlackRecorder
) -> None:
    # Arrange
    clock = FakeClock()
    sink = SlackSink("t", "#alerts", base_url=slack.base_url)
    manager = _manager(
        tmp_path, clock, {"slack": sink},
        throttle_window=timedelta(minutes=5), throttle_max_alerts=2,
    )  # fmt: skip

    # Act
    outcomes = [manager.raise_alert("critical", f"symbol {i} halted") for i in range(4)]
    clock.advance(minutes=6)
    after = manager.raise_alert("critical", "symbol 3 halted")

    # Assert
    assert [o.status for o in outcomes] == [AlertStatus.DELIVERED] * 2 + [AlertStatus.THROTTLED] * 2
    assert after.status is AlertStatus.DELIVERED
    assert len(slack.requests) == 3
    assert len(manager.outbox.records()) == 5


def test_notify_delivers_email_over_smtp(tmp_path: Path) -> None:
    # Arrange
    with smtp_server() as mail:
        sink = EmailSink(
            "127.0.0.1", mail.port, "quantdesk@desk.test", ["ops@desk.test", "risk@desk.test"],
            starttls=False,
        )  # fmt: skip
        manager = _manager(tmp_path, FakeClock(), {"email": sink})

        # Act
        outcome = manager.raise_alert("critical", "kill switch tripped", "all trading halted")

    # Assert
    assert outcome.delivered == ("outbox", "email")
    [(mail_from, rcpt)] = mail.envelopes
    assert mail_from == "quantdesk@desk.test"
    assert rcpt == ["ops@desk.test", "risk@desk.test"]
    [message] = mail.messages
    assert message["Subject"] == "quantdesk [CRITICAL] kill switch tripped"
    assert message["X-Quantdesk-Severity"] == "critical"
    assert "all trading halted" in message.get_payload()  # type: ignore[operator]


def test_notify_with_failing_channels_never_raises_and_queues_alert(
    tmp_path: Path, slack: SlackRecorder
) -> None:
    # Arrange
    slack.fail_with = "channel_not_found"
    channels: dict[str, AlertSink] = {
        "slack": SlackSink("t", "#nope", base_url=slack.base_url),
        "email": EmailSink("127.0.0.1", closed_port(), "a@x.test", ["b@x.test"], timeout=2),
    }
    manager = _manager(tmp_path, FakeClock(), channels)

    # Act
    outcome = manager.raise_alert("critical", "broker unreachable")

    # Assert
    assert outcome.status is AlertStatus.DELIVERED
    assert outcome.delivered == ("outbox",)
    assert outcome.failed == ("slack", "email")
    assert [r["status"] for r in manager.outbox.records()] == ["delivered"]
    queued = manager.outbox.undelivered()
    assert sorted(r["channel"] for r in queued) == ["email", "slack"]
    assert {r["alert"]["title"] for r in queued} == {"broker unreachable"}


def test_retry_undelivered_sends_once_channel_recovers(
    tmp_path: Path, slack: SlackRecorder
) -> None:
    # Arrange
    slack.fail_with = "service_unavailable"
    manager = _manager(
        tmp_path, FakeClock(), {"slack": SlackSink("t", "#a", base_url=slack.base_url)}
    )
    manager.raise_alert("critical", "backup failed")

    # Act
    still_down = manager.retry_undelivered()
    slack.fail_with = None
    recovered = manager.retry_undelivered()

    # Assert
    assert still_down == (0, 1)
    assert recovered == (1, 0)
    assert manager.outbox.undelivered() == []
    assert len(slack.requests) == 3
    assert "backup failed" in slack.requests[-1]["json"]["text"]


def test_outbox_rotates_and_keeps_configured_file_count(tmp_path: Path) -> None:
    # Arrange
    outbox = FileOutbox(tmp_path / "alerts", max_bytes=1024, keep_files=2)

    # Act
    for i in range(40):
        outbox.send(Alert(Severity.WARNING, f"alert {i}", "x" * 100, created_at=T0))

    # Assert
    files = sorted(p.name for p in outbox.folder.glob("alerts*.jsonl"))
    assert files == ["alerts.1.jsonl", "alerts.2.jsonl", "alerts.jsonl"]
    assert all(p.stat().st_size <= 1024 for p in outbox.folder.glob("alerts*.jsonl"))
    kept = outbox.records(include_rotated=True)
    assert kept[-1]["alert"]["title"] == "alert 39"
    titles = [r["alert"]["title"] for r in kept]
    assert titles == sorted(titles, key=lambda t: int(t.split()[1]))


def test_channels_from_settings_builds_only_configured_channels(tmp_path: Path) -> None:
    # Arrange
    bare = load_settings(home=tmp_path)
    full = load_settings(
        home=tmp_path,
        alerts={
            "slack": {"token": "xoxb-1", "channel": "#ops"},
            "email": {"smtp_host": "mail.test", "recipients": "a@x.test,b@x.test"},
        },
    )

    # Act
    none_configured = channels_from_settings(bare)
    both = channels_from_settings(full)

    # Assert
    assert none_configured == {}
    assert sorted(both) == ["email", "slack"]
    assert isinstance(both["email"], EmailSink)
    assert both["email"].recipients == ("a@x.test", "b@x.test")
    assert "xoxb-1" not in repr(full)


def test_manager_from_settings_delivers_to_configured_slack_and_email(
    tmp_path: Path, slack: SlackRecorder
) -> None:
    # Arrange
    with smtp_server() as mail:
        settings = load_settings(
            home=tmp_path,
            alerts={
                "min_severity": "critical",
                "slack": {"token": "xoxb-9", "channel": "#ops", "base_url": slack.base_url},
                "email": {
                    "smtp_host": "127.0.0.1", "smtp_port": mail.port, "starttls": False,
                    "recipients": ["ops@desk.test"],
                },
            },
        )  # fmt: skip
        manager = AlertManager.from_settings(settings, FakeClock())

        # Act
        ignored = manager.raise_alert("warning", "spread wide")
        sent = manager.raise_alert("critical", "kill switch tripped")

    # Assert
    assert ignored.status is AlertStatus.BELOW_THRESHOLD
    assert sent.delivered == ("outbox", "slack", "email")
    assert (tmp_path / "alerts" / "alerts.jsonl").exists()
    assert len(slack.requests) == 1
    assert len(mail.messages) == 1


def test_notify_with_unwritable_outbox_still_reaches_slack(
    tmp_path: Path, slack: SlackRecorder
) -> None:
    # Arrange: the outbox folder would have to live under a plain file
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    manager = AlertManager(
        FileOutbox(blocker / "alerts"),
        {"slack": SlackSink("t", "#ops", base_url=slack.base_url)},
        AlertPolicy(),
        FakeClock(),
    )

    # Act
    outcome = manager.raise_alert("critical", "disk full")

    # Assert
    assert outcome.status is AlertStatus.DELIVERED
    assert outcome.delivered == ("slack",)
    assert outcome.failed == ("outbox",)
    assert "disk full" in slack.requests[0]["json"]["text"]
