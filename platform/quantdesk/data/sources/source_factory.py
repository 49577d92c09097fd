"""Build a bar source by name from Settings: the one place the CLI and pipelines pick venues."""

from __future__ import annotations

from enum import StrEnum

from quantdesk.config import Settings
from quantdesk.data.sources.base import BarSource
from quantdesk.data.sources.http_client import HttpOptions
from quantdesk.domain import InvalidInputError


class SourceName(StrEnum):
    EMBEDDED = "embedded"
    BUNDLED = "bundled"
    SYNTHETIC = "synthetic"
    COINBASE = "coinbase"
    OANDA = "oanda"
    ROBINHOOD = "robinhood"

    @classmethod
    def parse(cls, text: str) -> SourceName:
        try:
            return cls(text.strip().lower())
        except ValueError:
            choices = ", ".join(s.value for s in cls)
            raise InvalidInputError(f"unknown source {text!r}; choose one of {choices}") from None


def make_source(
    name: SourceName | str, settings: Settings, options: HttpOptions | None = None
) -> BarSource:
    """The source called ``name``, configured from ``settings`` (venue URLs and credentials).

    Venue clients check their credentials when they first need them, so a missing token fails
    with ``MissingCredentialsError`` naming the variable before anything is written.
    """
    source = SourceName.parse(name) if isinstance(name, str) else name
    if source is SourceName.BUNDLED:
        from quantdesk.data.sources.bundled import BundledSource

        return BundledSource()
    if source in (SourceName.SYNTHETIC, SourceName.EMBEDDED):
        from quantdesk.data.sources.synthetic import SyntheticConfig, SyntheticSource

        synthetic = SyntheticSource(
            SyntheticConfig(
                seed=settings.seed,
                symbols=settings.universe,
                first_year=settings.embedded.synthetic_first_year,
            )
        )
        if source is SourceName.SYNTHETIC:
            return synthetic
        from quantdesk.data.sources.bundled import BundledSource
        from quantdesk.data.sources.embedded import EmbeddedSource

        return EmbeddedSource(BundledSource(), synthetic)
    if source is SourceName.COINBASE:
        from quantdesk.data.sources.coinbase import CoinbaseSource

        return CoinbaseSource(settings.coinbase, options=options)
    if source is SourceName.OANDA:
        from quantdesk.data.sources.oanda import OandaSource

        return OandaSource(settings.oanda, options=options)
    from quantdesk.data.sources.robinhood import RobinhoodSource

    return RobinhoodSource(settings.robinhood, options=options)
