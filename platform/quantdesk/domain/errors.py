"""The typed exception hierarchy of quantdesk.

Each class says how callers handle it, so a DAG task, the API and the CLI react the same way:
configuration and input errors are reported and never retried; transient venue errors are
retried with backoff; data-quality failures quarantine the batch; risk denials are recorded
with their reason code and never raised past the decision engine.
"""

from __future__ import annotations


class QuantdeskError(Exception):
    """Base of every error we raise on purpose. Anything else is a bug."""


class ConfigurationError(QuantdeskError):
    """A setting is missing or invalid. Fails at start; the message names the variable.

    Never retried: a person must fix the configuration.
    """


class InvalidInputError(QuantdeskError, ValueError):
    """A caller passed bad input (CLI argument, API body, function argument).

    Reported to the caller (HTTP 422, CLI exit code 2); nothing is written.
    """


class UnknownSymbolError(InvalidInputError):
    """The symbol is not in the instrument catalogue or not tradable on the venue."""


class UnknownGranularityError(InvalidInputError):
    """The bar size is not one we support, or not one the venue serves."""


class InvalidDateRangeError(InvalidInputError):
    """A time range is empty, reversed, naive (no time zone) or outside what is available."""


class VenueError(QuantdeskError):
    """An exchange or broker API failed. Subclasses say whether a retry can help."""


class MissingCredentialsError(VenueError, ConfigurationError):
    """The venue needs credentials that are not configured. Not retried."""


class AuthenticationError(VenueError):
    """The venue rejected our credentials (HTTP 401/403). Not retried; alert a person."""


class RateLimitedError(VenueError):
    """The venue answered 429. Retried after ``retry_after`` seconds (or with backoff)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class VenueUnavailableError(VenueError):
    """A 5xx answer, a timeout or a dropped connection. Retried with backoff and jitter."""


class MalformedResponseError(VenueError):
    """The venue answered something we cannot parse. Not retried; the batch is rejected."""


class DataQualityError(QuantdeskError):
    """A batch failed its quality gate. The batch is quarantined with its validation result."""


class StorageError(QuantdeskError):
    """A write to the lake, a store or a backup failed. The previous good state is kept."""


class NotFoundError(QuantdeskError, LookupError):
    """A requested record, model version or backup does not exist. Reported as HTTP 404."""


class TradingHaltedError(QuantdeskError):
    """The kill switch is on: no new orders. Callers stop submitting and alert."""
