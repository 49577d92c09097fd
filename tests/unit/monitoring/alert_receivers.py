"""Real local receivers for alert tests: a Slack Web API stand-in and an SMTP server.

Slack is an edge we cannot run, so a stdlib HTTP server answers ``chat.postMessage`` the way
Slack does (``{"ok": true, ...}``) and records each request; the SMTP server is aiosmtpd.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class SlackRecorder:
    """What the fake Slack received; set ``fail_with`` to answer ``ok: false``."""

    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_with: str | None = None


@contextmanager
def slack_server() -> Iterator[SlackRecorder]:
    recorder = SlackRecorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            recorder.requests.append(
                {
                    "path": self.path,
                    "authorization": self.headers.get("Authorization"),
                    "content_type": self.headers.get("Content-Type"),
                    "json": json.loads(raw) if raw else None,
                }
            )
            if recorder.fail_with:
                answer: dict[str, Any] = {"ok": False, "error": recorder.fail_with}
            else:
                answer = {"ok": True, "channel": "C123", "ts": "1700000000.000100"}
            body = json.dumps(answer).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet test output
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recorder.base_url = f"http://127.0.0.1:{server.server_address[1]}/api/"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@dataclass
class MailRecorder:
    port: int = 0
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def smtp_server() -> Iterator[MailRecorder]:
    from aiosmtpd.controller import Controller

    recorder = MailRecorder(port=free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd hook name)
            recorder.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            recorder.messages.append(message_from_bytes(envelope.original_content))
            return "250 Message accepted for delivery"

    controller = Controller(Handler(), hostname="127.0.0.1", port=recorder.port)
    controller.start()
    try:
        yield recorder
    finally:
        controller.stop()


def closed_port() -> int:
    """A port nothing listens on (connections are refused)."""
    return free_port()
