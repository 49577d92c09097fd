"""A local venue replay server: Coinbase, OANDA and Robinhood endpoints over real HTTP.

It serves any canonical bar frame (synthetic or recorded) in each venue's real wire format, so
the venue sources run unchanged against it: in tests, in the embedded demo (no credentials, no
internet) and from a CLI. Faults are injected on demand (429 with ``Retry-After``, 5xx, a reply
slower than the client's timeout, malformed JSON or payload, 401) and every request is logged
with the fault it met, so a test can assert that retries happened.

The standard library's ``ThreadingHTTPServer`` in a daemon thread keeps it dependency-free and
startable anywhere; one server answers all three venues on one port (their paths differ)::

    with start_replay_server(frame) as server:
        server.inject("oanda", "rate_limit", times=2, retry_after="1")
        OandaSource(OandaSettings(base_url=server.base_url, token=...)).fetch_bars(...)
        assert server.request_count("oanda") == 3
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pandas as pd

from quantdesk.data.replay_venues import (
    BarStore,
    ReplayCredentials,
    Reply,
    TokenBook,
    coinbase_candles,
    oanda_candles,
    robinhood_historicals,
    robinhood_login,
)
from quantdesk.domain import Venue
from quantdesk.structured_logging import get_logger

__all__ = ["Fault", "RecordedRequest", "ReplayCredentials", "ReplayServer", "start_replay_server"]

_log = get_logger(__name__)

_COINBASE_CANDLES = re.compile(r"^/api/v3/brokerage/market/products/([^/]+)/candles/?$")
_OANDA_CANDLES = re.compile(r"^/v3/instruments/([^/]+)/candles/?$")
_ROBINHOOD_LOGIN = "/oauth2/token/"
_ROBINHOOD_HISTORICALS = "/quotes/historicals/"
_SERVED = (Venue.COINBASE, Venue.OANDA, Venue.ROBINHOOD)


class Fault(StrEnum):
    """What an injected fault makes the next market-data request of a venue meet."""

    RATE_LIMIT = "rate_limit"  # 429, with Retry-After unless retry_after=None
    SERVER_ERROR = "server_error"  # a 5xx (status=, default 503)
    DELAY = "delay"  # the normal answer, after delay_s (set it above the client's timeout)
    MALFORMED_JSON = "malformed_json"  # 200 with a body that is not JSON
    MALFORMED_PAYLOAD = "malformed_payload"  # 200 with JSON of the wrong shape
    UNAUTHORIZED = "unauthorized"  # 401


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the server saw (never its headers: they may carry credentials)."""

    venue: Venue | None
    method: str
    path: str
    query: dict[str, str]
    status: int
    fault: Fault | None
    at: float = field(default_factory=time.monotonic)


@dataclass(slots=True)
class _PendingFault:
    fault: Fault
    remaining: int
    status: int
    retry_after: str | None
    delay_s: float
    skip: int = 0


class _State:
    """Everything the request threads share; guarded by one lock."""

    def __init__(self, store: BarStore, credentials: ReplayCredentials) -> None:
        self.store = store
        self.credentials = credentials
        self.tokens = TokenBook()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.faults: dict[Venue, list[_PendingFault]] = {v: [] for v in _SERVED}
        self.log: list[RecordedRequest] = []

    def take_fault(self, venue: Venue) -> _PendingFault | None:
        with self.lock:
            queue = self.faults[venue]
            if not queue:
                return None
            pending = queue[0]
            if pending.skip > 0:
                pending.skip -= 1
                return None
            pending.remaining -= 1
            if pending.remaining <= 0:
                queue.pop(0)
            return pending

    def record(self, entry: RecordedRequest) -> None:
        with self.lock:
            self.log.append(entry)


class ReplayServer:
    """Handle on a running replay server: its URL, fault injection, the request log, stop."""

    def __init__(self, httpd: _HTTPServer, thread: threading.Thread) -> None:
        self._httpd = httpd
        self._thread = thread
        self._state = httpd.state
        host, port = httpd.server_address[:2]
        self.host, self.port = str(host), int(port)
        self.base_url = f"http://{self.host}:{self.port}"

    def __repr__(self) -> str:
        return f"ReplayServer(base_url={self.base_url!r}, now={self.now.isoformat()!r})"

    def __enter__(self) -> ReplayServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def now(self) -> datetime:
        """The replay's "now": later bars do not exist yet; the bar open at it is incomplete."""
        return self._state.store.now

    @property
    def credentials(self) -> ReplayCredentials:
        return self._state.credentials

    @property
    def issued_tokens(self) -> list[str]:
        """Robinhood access tokens handed out so far (tests check they never leak)."""
        return self._state.tokens.issued()

    def inject(
        self,
        venue: Venue | str,
        fault: Fault | str,
        times: int = 1,
        *,
        status: int = 503,
        retry_after: str | None = "1",
        delay_s: float = 2.0,
        after: int = 0,
    ) -> None:
        """Make the next ``times`` market-data requests to ``venue`` meet ``fault``.

        ``after`` lets that many requests through untouched first (e.g. fail the second
        symbol of a batch).
        Faults queue up in order. ``status`` applies to ``server_error``; ``retry_after`` (the
        header's text: seconds or an HTTP date; ``None`` for no header) to ``rate_limit``;
        ``delay_s`` to ``delay``. Logins are never faulted.
        """
        venue, fault = Venue(venue), Fault(fault)
        if venue not in _SERVED:
            raise ValueError(f"the replay server does not serve {venue.value}")
        if times < 1 or after < 0:
            raise ValueError("times must be >= 1 and after >= 0")
        if fault is Fault.SERVER_ERROR and not 500 <= status <= 599:
            raise ValueError("a server_error status must be 5xx")
        with self._state.lock:
            self._state.faults[venue].append(
                _PendingFault(fault, times, status, retry_after, delay_s, after)
            )

    def clear_faults(self) -> None:
        with self._state.lock:
            for queue in self._state.faults.values():
                queue.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request so far, oldest first (a copy)."""
        with self._state.lock:
            return list(self._state.log)

    def request_count(
        self,
        venue: Venue | str | None = None,
        *,
        path_contains: str | None = None,
        fault: Fault | str | None = None,
    ) -> int:
        """How many requests matched: by venue, a path fragment and/or the fault they met."""
        wanted_venue = Venue(venue) if venue is not None else None
        wanted_fault = Fault(fault) if fault is not None else None
        return sum(
            1
            for r in self.requests
            if (wanted_venue is None or r.venue is wanted_venue)
            and (path_contains is None or path_contains in r.path)
            and (wanted_fault is None or r.fault is wanted_fault)
        )

    def reset_log(self) -> None:
        with self._state.lock:
            self._state.log.clear()

    def stop(self) -> None:
        """Stop serving and free the port; delayed answers are cut short."""
        if self._state.stopping.is_set():
            return
        self._state.stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def start_replay_server(
    bars: pd.DataFrame,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    credentials: ReplayCredentials | None = None,
    now: datetime | None = None,
) -> ReplayServer:
    """Serve ``bars`` (a canonical bar frame) on ``host:port`` (0 picks a free port).

    ``now`` defaults to the close of the latest bar, so every bar is complete; set it earlier
    to replay a still-forming bar (OANDA ``complete: false``, Coinbase's open candle).
    """
    state = _State(BarStore(bars, now), credentials or ReplayCredentials())
    httpd = _HTTPServer((host, port), _Handler, state)
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
        name=f"replay-server-{httpd.server_address[1]}",
    )  # fmt: skip
    thread.start()
    server = ReplayServer(httpd, thread)
    _log.info("replay.started", base_url=server.base_url, now=server.now.isoformat())
    return server


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], state: _State
    ) -> None:
        self.state = state
        super().__init__(address, handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout) closes its socket; that is expected here.
        _log.debug("replay.connection_error", client=str(client_address))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        _log.debug("replay.http", line=format % args)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def _serve(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        form = dict(parse_qsl(self.rfile.read(length).decode("utf-8"))) if length else {}
        venue, is_data = _venue_of(method, url.path)
        pending = state.take_fault(venue) if venue is not None and is_data else None
        if pending is not None and pending.fault is not Fault.DELAY:
            status, body, headers = _fault_reply(pending)
        else:
            reply = self._route(method, url.path, query, form)
            status, body, headers = reply.status, json.dumps(reply.body), dict(reply.headers)
        state.record(
            RecordedRequest(
                venue, method, url.path, query, status, pending.fault if pending else None
            )
        )
        if pending is not None and pending.fault is Fault.DELAY:
            state.stopping.wait(pending.delay_s)
        self._send(status, body, headers)

    def _route(self, method: str, path: str, query: dict[str, str], form: dict[str, str]) -> Reply:
        state = self.server.state
        authorization = self.headers.get("Authorization")
        if method == "GET" and (match := _COINBASE_CANDLES.match(path)):
            return coinbase_candles(state.store, match.group(1), query)
        if method == "GET" and (match := _OANDA_CANDLES.match(path)):
            return oanda_candles(
                state.store, match.group(1), query, authorization, state.credentials
            )
        if method == "POST" and path == _ROBINHOOD_LOGIN:
            return robinhood_login(form, state.credentials, state.tokens, state.store.now)
        if method == "GET" and path == _ROBINHOOD_HISTORICALS:
            return robinhood_historicals(state.store, query, authorization, state.tokens)
        return Reply(404, {"error": "NOT_FOUND", "message": f"no route for {method} {path}"})

    def _send(self, status: int, body: str, headers: dict[str, str]) -> None:
        payload = body.encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def _venue_of(method: str, path: str) -> tuple[Venue | None, bool]:
    """The venue a path belongs to, and whether it is a market-data (faultable) request."""
    if _COINBASE_CANDLES.match(path):
        return Venue.COINBASE, True
    if _OANDA_CANDLES.match(path):
        return Venue.OANDA, True
    if path == _ROBINHOOD_HISTORICALS:
        return Venue.ROBINHOOD, True
    if path == _ROBINHOOD_LOGIN:
        return Venue.ROBINHOOD, False
    return None, False


def _fault_reply(pending: _PendingFault) -> tuple[int, str, dict[str, str]]:
    if pending.fault is Fault.RATE_LIMIT:
        headers = {"Retry-After": pending.retry_after} if pending.retry_after is not None else {}
        return 429, json.dumps({"error": "RATE_LIMIT_EXCEEDED", "message": "Too many"}), headers
    if pending.fault is Fault.SERVER_ERROR:
        return pending.status, json.dumps({"error": "INTERNAL", "message": "replayed fault"}), {}
    if pending.fault is Fault.UNAUTHORIZED:
        return 401, json.dumps({"error": "UNAUTHENTICATED", "message": "replayed 401"}), {}
    if pending.fault is Fault.MALFORMED_JSON:
        return 200, '{"candles": [{"start": "17', {}
    return 200, json.dumps({"unexpected": True}), {}
