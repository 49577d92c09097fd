"""Client-side pacing: a token bucket per venue at the venue's documented request rate.

Pacing ourselves is cheaper than being answered 429: a 429 costs a round trip and, at some
venues, a penalty window. Buckets are in memory (one process); production shares them through
Redis (see ARCHITECTURE.md), so anything that paces implements the small ``Throttle`` protocol.
Time is read and slept through a ``Clock`` so tests pace hundreds of requests without waiting.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from quantdesk.domain import Venue


class Clock(Protocol):
    """Wall time for timestamps, monotonic time and sleeping for pacing and backoff."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            time.sleep(seconds)


SYSTEM_CLOCK = SystemClock()


class Throttle(Protocol):
    def acquire(self) -> float:
        """Block until one request may be sent; return the seconds waited."""
        ...


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A sustained request rate and the burst the venue tolerates on top of it."""

    rate_per_s: float
    burst: int
    source: str


# The documented limits, one place. Each bucket paces one process; several processes on one
# IP must share a Redis-backed bucket instead (production).
VENUE_RATE_LIMITS: dict[Venue, RateLimit] = {
    # Advanced Trade REST: public (unauthenticated) endpoints are limited per IP to
    # 10 requests/s (docs.cdp.coinbase.com, "Advanced Trade API rate limits").
    Venue.COINBASE: RateLimit(10.0, 10, "Advanced Trade public endpoints: 10 req/s per IP"),
    # OANDA v20 best practices: at most 100 requests/s on a persistent connection and 2 new
    # connections/s. One pooled, keep-alive httpx client per source keeps new connections rare,
    # so only the request rate needs a bucket.
    Venue.OANDA: RateLimit(100.0, 100, "OANDA v20: 100 req/s per connection, 2 new conn/s"),
    # Robinhood publishes no limits for its (unofficial) API. We stay far below anything a
    # browser session would do: 1 request/s with a burst of 3 (login + a couple of symbols).
    Venue.ROBINHOOD: RateLimit(1.0, 3, "undocumented; conservative 1 req/s, burst 3"),
}


_TOKEN_EPSILON = 1e-9


class TokenBucket:
    """Classic token bucket: ``capacity`` tokens, refilled at ``rate`` per second.

    Thread-safe; a caller that must wait sleeps while holding the lock, so waiters are served
    one at a time and the rate holds across threads.
    """

    def __init__(self, rate_per_s: float, capacity: float, clock: Clock = SYSTEM_CLOCK) -> None:
        if rate_per_s <= 0 or capacity < 1:
            raise ValueError("a token bucket needs rate_per_s > 0 and capacity >= 1")
        self.rate_per_s = float(rate_per_s)
        self.capacity = float(capacity)
        self._clock = clock
        self._tokens = float(capacity)
        self._last = clock.monotonic()
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenBucket(rate_per_s={self.rate_per_s}, capacity={self.capacity})"

    def _refill(self) -> None:
        now = self._clock.monotonic()
        elapsed = max(0.0, now - self._last)
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate_per_s)
        self._last = now

    def acquire(self) -> float:
        waited = 0.0
        with self._lock:
            self._refill()
            # The tolerance matters: a refill after sleeping exactly the computed delay can land
            # a rounding error short of 1.0, and the next delay can be too small to move the
            # clock at all, which would loop forever.
            while self._tokens < 1.0 - _TOKEN_EPSILON:
                delay = (1.0 - self._tokens) / self.rate_per_s
                self._clock.sleep(delay)
                waited += delay
                self._refill()
            self._tokens -= 1.0
        return waited


_SHARED: dict[Venue, TokenBucket] = {}
_SHARED_LOCK = threading.Lock()


def venue_throttle(venue: Venue, clock: Clock | None = None) -> TokenBucket:
    """The bucket for ``venue`` at its documented limit.

    With the real clock every client of a venue shares one bucket (the limit is per IP, not per
    client object); an injected clock gets a private bucket so tests never share state.
    """
    limit = VENUE_RATE_LIMITS[venue]
    if clock is not None and clock is not SYSTEM_CLOCK:
        return TokenBucket(limit.rate_per_s, limit.burst, clock)
    with _SHARED_LOCK:
        bucket = _SHARED.get(venue)
        if bucket is None:
            bucket = _SHARED[venue] = TokenBucket(limit.rate_per_s, limit.burst, SYSTEM_CLOCK)
        return bucket
