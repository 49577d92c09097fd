"""Store errors. Both are input errors: the caller's data clashes with what is stored.

They derive from :class:`InvalidInputError`, so the API answers 4xx and the CLI exits 2, and
nothing was written: the whole transaction was rolled back before they are raised.
"""

from __future__ import annotations

from quantdesk.domain.errors import InvalidInputError


class DuplicateRecordError(InvalidInputError):
    """A record with this key (client_order_id, decision_id, signal key) already exists.

    Never retried: the caller either sent the same thing twice or reused an id.
    """


class MissingReferenceError(InvalidInputError):
    """The record points at one that does not exist (an order's unknown ``decision_id``)."""
