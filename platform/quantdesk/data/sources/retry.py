"""Retries for venue calls: exponential backoff with full jitter, honoring ``Retry-After``.

Only transient failures are retried (``RateLimitedError``, ``VenueUnavailableError``: 429, 5xx,
timeouts, dropped connections); everything else is raised at once, as the error hierarchy in
``quantdesk.domain.errors`` prescribes. Full jitter (a uniform wait in ``[0, backoff]``) keeps
many clients from retrying in lockstep. Two budgets bound a call: a number of attempts and a
total time spent waiting, so a DAG task never hangs on a venue that keeps failing.

The loop itself is tenacity's (already in the lock through Airflow and Feast); this module only
supplies our wait and stop rules and an injectable sleep, so tests never sleep for real.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

import tenacity

from quantdesk.domain import RateLimitedError, VenueError, VenueUnavailableError

T = TypeVar("T")

RETRYABLE: tuple[type[VenueError], ...] = (RateLimitedError, VenueUnavailableError)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try: attempts, the backoff curve and the total waiting budget (seconds)."""

    max_attempts: int = 5
    base_delay_s: float = 0.5
    max_delay_s: float = 30.0
    max_total_wait_s: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.base_delay_s < 0 or self.max_delay_s < 0 or self.max_total_wait_s < 0:
            raise ValueError("retry delays must be >= 0")

    def backoff_ceiling(self, failed_attempts: int) -> float:
        """Upper bound of the jittered wait after ``failed_attempts`` failures (1, 2, ...)."""
        exponent = min(max(failed_attempts - 1, 0), 62)
        return float(min(self.max_delay_s, self.base_delay_s * 2.0**exponent))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date).

    Returns ``None`` when absent or unparseable, so the caller falls back to backoff.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT
        return None
    return max(0.0, (when - now).total_seconds())


class _Wait(tenacity.wait.wait_base):
    """``Retry-After`` when the venue gave one, else full-jitter exponential backoff."""

    def __init__(self, policy: RetryPolicy, rng: random.Random) -> None:
        self._policy = policy
        self._rng = rng

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        if isinstance(exc, RateLimitedError) and exc.retry_after is not None:
            return float(exc.retry_after)
        ceiling = self._policy.backoff_ceiling(retry_state.attempt_number)
        return self._rng.uniform(0.0, ceiling)


class _StopAfterTotalWait(tenacity.stop.stop_base):
    """Stop when the next wait would push the total time slept past the budget."""

    def __init__(self, max_total_wait_s: float) -> None:
        self._budget = max_total_wait_s

    def __call__(self, retry_state: tenacity.RetryCallState) -> bool:
        return retry_state.idle_for + retry_state.upcoming_sleep > self._budget


def call_with_retries(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None],
    rng: random.Random,
    on_retry: Callable[[int, float, BaseException], None] | None = None,
) -> T:
    """Run ``attempt`` until it succeeds, fails for good, or a budget runs out.

    When a budget runs out the last transient error is raised again, same type, with a message
    saying how many attempts and how much waiting it took.
    """

    def before_sleep(state: tenacity.RetryCallState) -> None:
        if on_retry is not None and state.outcome is not None:
            exc = state.outcome.exception()
            if exc is not None:
                on_retry(state.attempt_number, state.upcoming_sleep, exc)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(RETRYABLE),
        wait=_Wait(policy, rng),
        stop=tenacity.stop_after_attempt(policy.max_attempts)
        | _StopAfterTotalWait(policy.max_total_wait_s),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=False,
    )
    try:
        return retrying(attempt)
    except tenacity.RetryError as gave_up:
        last = gave_up.last_attempt.exception()
        attempts = gave_up.last_attempt.attempt_number
        waited = float(retrying.statistics.get("idle_for", 0.0))
        suffix = f" (gave up after {attempts} attempt(s), {waited:.1f}s waiting)"
        if isinstance(last, RateLimitedError):
            raise RateLimitedError(str(last) + suffix, retry_after=last.retry_after) from last
        if isinstance(last, VenueUnavailableError):
            raise VenueUnavailableError(str(last) + suffix) from last
        raise  # pragma: no cover - only retryable errors reach RetryError
