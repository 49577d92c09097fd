"""Structured logging: JSON lines when not on a terminal, a run id in every line, no secrets.

Third-party libraries log through the standard ``logging`` module; routing them through the
same structlog processors gives one format and one run id for everything a process prints.
"""

from __future__ import annotations

import logging
import re
import sys
import uuid
from collections.abc import MutableMapping
from typing import Any, Literal

import structlog
from pydantic import SecretStr

from quantdesk.redaction import MASK, redact_url

_SECRET_KEYS = re.compile(r"(password|passwd|secret|token|api_key|authorization)", re.I)
_URL_WITH_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.-]*://[^/\s:@]*:[^@\s/]+@[^\s]+", re.I)


def new_run_id() -> str:
    return uuid.uuid4().hex[:12]


def _mask_secrets(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Never let a credential reach a log line, whatever a caller passed in."""
    for key, value in list(event.items()):
        if isinstance(value, SecretStr) or (_SECRET_KEYS.search(key) and value not in (None, "")):
            event[key] = MASK
        elif isinstance(value, str) and "://" in value:
            event[key] = _URL_WITH_PASSWORD.sub(lambda m: redact_url(m.group(0)), value)
    return event


def configure_logging(
    level: str = "INFO",
    fmt: Literal["auto", "json", "console"] = "auto",
    run_id: str | None = None,
    stream: Any = None,
) -> str:
    """Configure structlog and stdlib logging once per process; returns the bound run id."""
    stream = stream or sys.stderr
    use_json = fmt == "json" or (fmt == "auto" and not getattr(stream, "isatty", lambda: False)())
    run_id = run_id or new_run_id()
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(run_id=run_id)

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _mask_secrets,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    # Our loggers log at ``level``; third-party libraries only from WARNING up, because some
    # (Great Expectations, Feast, Ray) log hundreds of INFO lines per call that bury ours.
    root.setLevel(max(logging.WARNING, logging.getLevelName(level)))
    logging.getLogger("quantdesk").setLevel(level)
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    return run_id


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
