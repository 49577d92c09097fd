"""The one HTTP client every venue source uses: pacing, retries, error mapping, no leaked secrets.

Each venue module states only its quirks (paths, parameters, payload shape); how a status code
becomes an error is decided here once, following ``quantdesk.domain.errors``:

=====================  ==============================  =========
answer                 raised                          retried
=====================  ==============================  =========
429                    ``RateLimitedError``            yes, after ``Retry-After`` if given
5xx, timeout, network  ``VenueUnavailableError``       yes, backoff with full jitter
401, 403               ``AuthenticationError``         no
other 4xx              ``VenueRequestError``           no
invalid JSON           ``MalformedResponseError``      no
=====================  ==============================  =========

Credentials travel only in request headers or bodies built per call; they are never logged, and
every secret a source registers is masked in any text we put into an exception.
"""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx
from pydantic import SecretStr

from quantdesk import __version__
from quantdesk.data.sources.retry import RetryPolicy, call_with_retries, parse_retry_after
from quantdesk.data.sources.throttle import SYSTEM_CLOCK, Clock, Throttle, venue_throttle
from quantdesk.domain import (
    AuthenticationError,
    MalformedResponseError,
    RateLimitedError,
    Venue,
    VenueError,
    VenueUnavailableError,
)
from quantdesk.redaction import MASK
from quantdesk.structured_logging import get_logger

_log = get_logger(__name__)
_BODY_SNIPPET_CHARS = 200


class VenueRequestError(VenueError):
    """The venue refused the request itself (a 4xx other than 401/403/429). Not retried."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class HttpOptions:
    """Transport knobs shared by the venue sources; the defaults suit production.

    ``throttle=None`` means the venue's documented limit (``throttle.VENUE_RATE_LIMITS``);
    ``clock`` drives pacing, backoff sleeps and ``Retry-After`` dates; ``rng`` the jitter.
    """

    timeout_s: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Clock = SYSTEM_CLOCK
    rng: random.Random | None = None
    throttle: Throttle | None = None
    transport: httpx.BaseTransport | None = None


class Redactor:
    """Masks registered secret values in free text (error messages, body snippets)."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def add(self, value: str | SecretStr | None) -> None:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value and len(value) >= 4:  # masking tiny strings would garble ordinary text
            self._secrets.add(value)

    def mask(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text


class VenueHttpClient:
    """JSON over HTTP for one venue, paced by a token bucket and retried on transient errors."""

    def __init__(self, venue: Venue, base_url: str, options: HttpOptions | None = None) -> None:
        self.venue = Venue(venue)
        self.options = options or HttpOptions()
        self._clock = self.options.clock
        self._rng = self.options.rng or random.Random()
        self._throttle = self.options.throttle or venue_throttle(self.venue, self._clock)
        self._redactor = Redactor()
        self._http = httpx.Client(
            base_url=base_url,
            timeout=httpx.Timeout(self.options.timeout_s),
            headers={"Accept": "application/json", "User-Agent": f"quantdesk/{__version__}"},
            transport=self.options.transport,
        )

    def __repr__(self) -> str:
        return f"VenueHttpClient(venue={self.venue.value!r}, base_url={self.base_url!r})"

    def __enter__(self) -> VenueHttpClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        return str(self._http.base_url).rstrip("/")

    def close(self) -> None:
        self._http.close()

    def register_secret(self, value: str | SecretStr | None) -> None:
        """Mask ``value`` in every message this client puts into an exception."""
        self._redactor.add(value)

    def mask(self, text: str) -> str:
        """``text`` with every registered secret masked."""
        return self._redactor.mask(text)

    def get_json(
        self,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """GET ``path`` and return the decoded JSON body of a 200 answer."""
        _, body = self._request("GET", path, params=params, headers=headers, accept=(200,))
        return body

    def post_form(
        self,
        path: str,
        *,
        data: Mapping[str, str],
        headers: Mapping[str, str] | None = None,
        accept: Collection[int] = (200,),
    ) -> tuple[int, Any]:
        """POST a form; statuses in ``accept`` come back as ``(status, json)``, not as errors."""
        return self._request("POST", path, data=data, headers=headers, accept=accept)

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        accept: Collection[int],
    ) -> tuple[int, Any]:
        def attempt() -> tuple[int, Any]:
            self._throttle.acquire()
            try:
                response = self._http.request(
                    method, path, params=params, data=data, headers=headers
                )
            except httpx.TimeoutException:
                raise VenueUnavailableError(
                    f"{self.venue}: {method} {path} timed out after {self.options.timeout_s}s"
                ) from None
            except httpx.TransportError as exc:
                reason = self._redactor.mask(f"{type(exc).__name__}: {exc}")
                raise VenueUnavailableError(
                    f"{self.venue}: {method} {path} failed: {reason}"
                ) from None
            _log.debug(
                "venue.response",
                venue=self.venue.value,
                method=method,
                path=path,
                status=response.status_code,
            )
            return self._interpret(method, path, response, accept)

        def on_retry(attempt_number: int, wait_s: float, exc: BaseException) -> None:
            _log.warning(
                "venue.retry",
                venue=self.venue.value,
                method=method,
                path=path,
                attempt=attempt_number,
                wait_s=round(wait_s, 3),
                reason=str(exc),
            )

        return call_with_retries(
            attempt,
            self.options.retry,
            sleep=self._clock.sleep,
            rng=self._rng,
            on_retry=on_retry,
        )

    def _interpret(
        self, method: str, path: str, response: httpx.Response, accept: Collection[int]
    ) -> tuple[int, Any]:
        status = response.status_code
        what = f"{self.venue}: {method} {path} answered HTTP {status}"
        if status in accept:
            try:
                return status, response.json()
            except ValueError:
                raise MalformedResponseError(
                    f"{self.venue}: {method} {path} answered invalid JSON "
                    f"({len(response.content)} bytes)"
                ) from None
        if status == 429:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), self._clock.now())
            raise RateLimitedError(f"{what} (rate limited)", retry_after=retry_after)
        if status >= 500:
            raise VenueUnavailableError(what)
        if status in (401, 403):
            raise AuthenticationError(f"{what}: the venue rejected our credentials")
        snippet = self._redactor.mask(response.text[:_BODY_SNIPPET_CHARS])
        raise VenueRequestError(f"{what}: {snippet}", status=status)
