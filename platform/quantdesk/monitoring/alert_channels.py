"""Remote alert channels: Slack (slack-sdk ``chat.postMessage``) and email (SMTP).

Each ``send`` raises on failure; :class:`~quantdesk.monitoring.alert_manager.AlertManager`
catches, logs and queues the alert in the outbox, so a broken channel never breaks a caller.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from typing import Any

from quantdesk.monitoring.alerts import Alert, Severity

_ICONS = {Severity.INFO: ":information_source:", Severity.WARNING: ":warning:"}
_CRITICAL_ICON = ":rotating_light:"


def alert_subject(alert: Alert) -> str:
    return f"[{alert.severity.value.upper()}] {alert.title}"


def alert_text(alert: Alert) -> str:
    """Plain text used by every channel: subject line, body, then where it came from."""
    lines = [alert_subject(alert)]
    if alert.body:
        lines.append(alert.body)
    lines.append(f"source: {alert.source} | key: {alert.dedup_key} | at: {alert.created_at}")
    return "\n".join(lines)


class SlackSink:
    """Posts to one channel with a bot token; ``base_url`` points tests at a local server."""

    def __init__(
        self,
        token: str,
        channel: str,
        *,
        base_url: str = "https://slack.com/api/",
        timeout: int = 10,
    ) -> None:
        from slack_sdk import WebClient

        self.channel = channel
        url = base_url if base_url.endswith("/") else base_url + "/"
        # No retry handlers: a failed post is queued in the outbox and retried from there.
        self._client: Any = WebClient(token=token, base_url=url, timeout=timeout, retry_handlers=[])

    def send(self, alert: Alert) -> None:
        icon = _ICONS.get(alert.severity, _CRITICAL_ICON)
        self._client.chat_postMessage(
            channel=self.channel,
            text=f"{icon} {alert_text(alert)}",
            unfurl_links=False,
            metadata={
                "event_type": "quantdesk_alert",
                "event_payload": {"severity": alert.severity.value, "dedup_key": alert.dedup_key},
            },
        )


class EmailSink:
    """Sends one plain-text message per alert over SMTP (STARTTLS or SSL when configured)."""

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = True,
        use_ssl: bool = False,
        timeout: float = 10.0,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.recipients = tuple(recipients)
        self.username = username
        self.password = password
        self.starttls = starttls
        self.use_ssl = use_ssl
        self.timeout = timeout

    def message(self, alert: Alert) -> EmailMessage:
        message = EmailMessage()
        message["Subject"] = f"quantdesk {alert_subject(alert)}"
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["X-Quantdesk-Severity"] = alert.severity.value
        message["X-Quantdesk-Dedup-Key"] = alert.dedup_key
        message.set_content(alert_text(alert))
        return message

    def send(self, alert: Alert) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.use_ssl:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.starttls and not self.use_ssl:
                smtp.starttls(context=context)
            if self.username and self.password:
                smtp.login(self.username, self.password)
            smtp.send_message(self.message(alert))
