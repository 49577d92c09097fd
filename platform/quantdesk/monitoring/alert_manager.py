"""The one way quantdesk raises an alert: threshold, dedup, throttle, outbox, then channels.

Rules, in order:

1. Below ``min_severity``: logged only.
2. The same ``dedup_key`` sent within the dedup window is muted (recorded as ``suppressed``)
   unless it is more severe than what was sent; the next send says how many were muted.
3. At most ``throttle_max_alerts`` remote deliveries per throttle window; past that an alert
   is recorded as ``throttled`` in the outbox and not sent (an alert storm must not flood Slack).
4. Every alert that passed (1) is written to the file outbox first; then each remote channel
   gets it. A failing channel is logged and the alert is queued in ``undelivered.jsonl`` for
   :meth:`AlertManager.retry_undelivered`. Nothing here raises into the caller.
"""

from __future__ import annotations

import dataclasses
import enum
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from quantdesk.config import Settings
from quantdesk.domain.errors import StorageError
from quantdesk.domain.timeutil import utc_now
from quantdesk.monitoring.alert_channels import EmailSink, SlackSink
from quantdesk.monitoring.alert_outbox import FileOutbox, KeyState, OutboxState
from quantdesk.monitoring.alerts import Alert, AlertSink, Severity
from quantdesk.structured_logging import get_logger

Clock = Callable[[], datetime]

_log = get_logger(__name__)
# How long a muted count is remembered for the note on the next send of its key.
_MUTED_MEMORY = timedelta(days=7)


class AlertStatus(enum.StrEnum):
    BELOW_THRESHOLD = "below_threshold"
    SUPPRESSED = "suppressed"
    THROTTLED = "throttled"
    DELIVERED = "delivered"  # to the outbox, and to every remote channel that did not fail


@dataclass(frozen=True, slots=True)
class AlertOutcome:
    """What became of one alert; ``failed`` names the channels whose delivery failed."""

    alert: Alert
    status: AlertStatus
    delivered: tuple[str, ...] = ()
    failed: tuple[str, ...] = ()
    muted_before: int = 0


@dataclass(frozen=True, slots=True)
class AlertPolicy:
    min_severity: Severity = Severity.WARNING
    dedup_window: timedelta = timedelta(hours=1)
    throttle_window: timedelta = timedelta(hours=1)
    throttle_max_alerts: int = 30


class AlertManager:
    """Applies :class:`AlertPolicy` and delivers to the outbox and the remote ``channels``."""

    def __init__(
        self,
        outbox: FileOutbox,
        channels: Mapping[str, AlertSink] | None = None,
        policy: AlertPolicy | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.outbox = outbox
        self.channels = dict(channels or {})
        self.policy = policy or AlertPolicy()
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock = utc_now) -> AlertManager:
        return cls(
            outbox_from_settings(settings),
            channels_from_settings(settings),
            policy_from_settings(settings),
            clock,
        )

    def notify(self, alert: Alert) -> AlertOutcome:
        """Raise ``alert``; never raises itself (every failure is logged, not propagated)."""
        try:
            return self._notify(alert)
        except Exception as exc:  # a bug here must not add to the caller's own failure
            _log.error("alert.notify_failed", error=repr(exc), **_log_fields(alert))
            return AlertOutcome(alert, AlertStatus.DELIVERED, failed=("outbox",))

    def raise_alert(
        self,
        severity: Severity | str,
        title: str,
        body: str = "",
        *,
        source: str = "quantdesk",
        dedup_key: str = "",
    ) -> AlertOutcome:
        """Build an :class:`Alert` stamped with this manager's clock and notify it."""
        alert = Alert(Severity(severity), title, body, source, dedup_key, self.clock())
        return self.notify(alert)

    def retry_undelivered(self) -> tuple[int, int]:
        """Resend the queued failed deliveries; returns (sent, still failing)."""
        sent = failing = 0
        for record in self.outbox.take_undelivered():
            channel = self.channels.get(str(record["channel"]))
            alert = Alert.from_dict(record["alert"])
            if channel is None or not self._deliver(str(record["channel"]), channel, alert):
                failing += 1
                self.outbox.add_undelivered(
                    {
                        **record,
                        "attempts": int(record["attempts"]) + 1,
                        "last_try": self.clock().isoformat(),
                    }
                )
            else:
                sent += 1
        return sent, failing

    # -- internals ---------------------------------------------------------------------------

    def _notify(self, alert: Alert) -> AlertOutcome:
        if not alert.severity.at_least(self.policy.min_severity):
            _log.info("alert.below_threshold", **_log_fields(alert))
            return AlertOutcome(alert, AlertStatus.BELOW_THRESHOLD)
        alert_id = secrets.token_hex(8)
        try:
            status, muted = self._record(alert_id, alert)
            delivered, failed = ["outbox"], []
        except (OSError, StorageError) as exc:
            # Outbox unwritable (disk full, permissions): the remote channels matter most now,
            # so send without dedup memory rather than stay silent.
            _log.error("alert.outbox_failed", error=repr(exc), **_log_fields(alert))
            status, muted, delivered, failed = AlertStatus.DELIVERED, 0, [], ["outbox"]
        emit = _log.info if status is AlertStatus.SUPPRESSED else _log.warning
        emit("alert.raised", status=status.value, **_log_fields(alert))
        if status is not AlertStatus.DELIVERED:
            return AlertOutcome(alert, status)
        outgoing = _with_muted_note(alert, muted)
        for name, channel in self.channels.items():
            if self._deliver(name, channel, outgoing):
                delivered.append(name)
                continue
            failed.append(name)
            record = {
                "id": alert_id,
                "channel": name,
                "attempts": 1,
                "alert": outgoing.to_dict(),
                "last_try": self.clock().isoformat(),
            }
            try:
                self.outbox.add_undelivered(record)
            except (OSError, StorageError) as exc:
                _log.error("alert.queue_failed", channel=name, error=repr(exc))
        return AlertOutcome(outgoing, status, tuple(delivered), tuple(failed), muted)

    def _record(self, alert_id: str, alert: Alert) -> tuple[AlertStatus, int]:
        """Apply dedup/throttle under the outbox lock and append the alert's line."""
        with self.outbox.locked():
            state = self.outbox.read_state()
            status, muted = self._decide(alert, state, self.clock())
            self.outbox.write_state(state)
            line = {
                "id": alert_id,
                "status": status.value,
                "muted_before": muted,
                "alert": _with_muted_note(alert, muted).to_dict(),
            }
            self.outbox.append_record(line)
        return status, muted

    def _decide(self, alert: Alert, state: OutboxState, now: datetime) -> tuple[AlertStatus, int]:
        """Apply dedup then throttle to ``state`` (mutated); returns the status and muted count."""
        policy = self.policy
        state.keys = {
            key: seen
            for key, seen in state.keys.items()
            if now - seen.last_sent < policy.dedup_window
            or (seen.muted and now - seen.last_sent < _MUTED_MEMORY)
        }
        known = state.keys.get(alert.dedup_key)
        if (
            known is not None
            and now - known.last_sent < policy.dedup_window
            and alert.severity.rank <= Severity(known.severity).rank
        ):
            known.muted += 1
            return AlertStatus.SUPPRESSED, 0
        muted = known.muted if known is not None else 0
        state.sends = [t for t in state.sends if now - t < policy.throttle_window]
        if len(state.sends) >= policy.throttle_max_alerts:
            # Not sent: keep the key's memory as it was so the next one after the storm goes out.
            return AlertStatus.THROTTLED, 0
        state.sends.append(now)
        state.keys[alert.dedup_key] = KeyState(now, alert.severity.value, 0)
        return AlertStatus.DELIVERED, muted

    def _deliver(self, name: str, channel: AlertSink, alert: Alert) -> bool:
        try:
            channel.send(alert)
        except Exception as exc:  # any channel failure: logged, queued, never raised
            _log.error("alert.delivery_failed", channel=name, error=repr(exc), **_log_fields(alert))
            return False
        return True


def _with_muted_note(alert: Alert, muted: int) -> Alert:
    if not muted:
        return alert
    note = f"({muted} repeat{'s' if muted != 1 else ''} muted since the last message)"
    body = f"{alert.body}\n{note}" if alert.body else note
    return dataclasses.replace(alert, body=body)


def _log_fields(alert: Alert) -> dict[str, str]:
    return {
        "severity": alert.severity.value,
        "title": alert.title,
        "source": alert.source,
        "dedup_key": alert.dedup_key,
    }


def outbox_dir(settings: Settings) -> Path:
    return settings.alerts.outbox_dir or settings.home / "alerts"


def outbox_from_settings(settings: Settings) -> FileOutbox:
    cfg = settings.alerts
    return FileOutbox(
        outbox_dir(settings), max_bytes=cfg.outbox_max_bytes, keep_files=cfg.outbox_keep_files
    )


def policy_from_settings(settings: Settings) -> AlertPolicy:
    cfg = settings.alerts
    return AlertPolicy(
        min_severity=Severity(cfg.min_severity),
        dedup_window=timedelta(seconds=cfg.dedup_window_seconds),
        throttle_window=timedelta(seconds=cfg.throttle_window_seconds),
        throttle_max_alerts=cfg.throttle_max_alerts,
    )


def channels_from_settings(settings: Settings) -> dict[str, AlertSink]:
    """The remote channels that are configured (none by default: outbox and log only)."""
    channels: dict[str, AlertSink] = {}
    slack = settings.alerts.slack
    if slack.token is not None and slack.channel:
        channels["slack"] = SlackSink(
            slack.token.get_secret_value(),
            slack.channel,
            base_url=slack.base_url,
            timeout=slack.timeout_seconds,
        )
    email = settings.alerts.email
    if email.smtp_host and email.recipients:
        channels["email"] = EmailSink(
            email.smtp_host,
            email.smtp_port,
            email.sender,
            email.recipients,
            username=email.username,
            password=email.password.get_secret_value() if email.password else None,
            starttls=email.starttls,
            use_ssl=email.ssl,
            timeout=email.timeout_seconds,
        )
    return channels
