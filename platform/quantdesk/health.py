"""Which of the configured services answer, for ``quantdesk info`` and the API's health route."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from quantdesk.config import Settings
from quantdesk.redaction import redact_url


@dataclass(frozen=True, slots=True)
class ServiceStatus:
    name: str
    target: str
    ok: bool
    detail: str


def check_database(url: str) -> ServiceStatus:
    from sqlalchemy import create_engine, make_url, text

    parsed = make_url(url)
    is_file_db = parsed.get_backend_name() == "sqlite" and parsed.database not in (
        None,
        "",
        ":memory:",
    )
    if is_file_db and not Path(str(parsed.database)).exists():  # probing must not create it
        return ServiceStatus("database", url, True, "embedded SQLite, not created yet")
    engine = create_engine(url, connect_args=_connect_timeout(url))
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return ServiceStatus("database", redact_url(url), True, engine.dialect.name)
    except Exception as exc:  # any failure means "does not answer"; the detail says why
        return ServiceStatus("database", redact_url(url), False, _one_line(exc))
    finally:
        engine.dispose()


def check_redis(url: str | None) -> ServiceStatus:
    if not url:
        return ServiceStatus("redis", "-", True, "not configured (in-memory rate limits)")
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
    try:
        client.ping()
        return ServiceStatus("redis", redact_url(url), True, "PONG")
    except Exception as exc:
        return ServiceStatus("redis", redact_url(url), False, _one_line(exc))
    finally:
        client.close()


def check_mlflow(uri: str) -> ServiceStatus:
    parts = urlsplit(uri)
    if parts.scheme.startswith("sqlite"):
        return ServiceStatus("mlflow", uri, True, "embedded SQLite (created on first use)")
    return _check_tcp("mlflow", uri, parts.hostname, parts.port or 443)


def check_ray(address: str | None) -> ServiceStatus:
    if not address:
        return ServiceStatus("ray", "local", True, "started on demand in-process")
    parts = urlsplit(address if "://" in address else f"ray://{address}")
    return _check_tcp("ray", address, parts.hostname, parts.port or 10001)


def check_all(settings: Settings) -> list[ServiceStatus]:
    return [
        check_database(settings.resolved_database_url),
        check_redis(settings.redis_url),
        check_mlflow(settings.resolved_mlflow_tracking_uri),
        check_ray(settings.ray.address),
    ]


def _check_tcp(name: str, target: str, host: str | None, port: int) -> ServiceStatus:
    if not host:
        return ServiceStatus(name, redact_url(target), False, "no host in address")
    try:
        with socket.create_connection((host, port), timeout=2):
            return ServiceStatus(name, redact_url(target), True, f"{host}:{port} answers")
    except OSError as exc:
        return ServiceStatus(name, redact_url(target), False, _one_line(exc))


def _connect_timeout(url: str) -> dict[str, int]:
    return {"connect_timeout": 3} if url.startswith("postgresql") else {}


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}"
