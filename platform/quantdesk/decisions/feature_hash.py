"""A stable hash of the feature vector behind a decision, so it can be matched later."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping

from quantdesk.domain.errors import InvalidInputError


def feature_vector_hash(features: Mapping[str, float]) -> str:
    """SHA-256 of the features sorted by name, each value as its exact float hex."""
    items = []
    for name in sorted(features):
        value = float(features[name])
        if math.isnan(value):
            items.append([name, "nan"])  # NaN is a legitimate "missing" marker
        elif math.isinf(value):
            raise InvalidInputError(f"feature {name!r} is infinite")
        else:
            items.append([name, value.hex()])
    text = json.dumps(items, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
