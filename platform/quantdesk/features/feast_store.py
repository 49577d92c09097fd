"""The Feast feature store at the edge: open it for Settings, apply, materialize, read.

Configuration. ``feature_repo/feature_store.yaml`` (SQLite online store) or
``feature_store.production.yaml`` (Redis) is read as written, with Feast's repo_path set to
``QUANTDESK_HOME``: every relative path in it and in the declarations (registry, SQLite file,
``features/offline/<view>.parquet``) lands under the home folder, so nothing is rendered to
disk and a home restored elsewhere keeps working. ``${VAR}`` placeholders are expanded like
Feast's own loader does, except ``${QUANTDESK_FEAST_REDIS_CONNECTION}``, which comes from
``Settings.redis_url``, so the Redis password never sits in a file.

Point-in-time and late-arriving corrections. Each offline row carries ``event_timestamp``
(when the value became known: the ``available_at`` of the newest bar version it used) and
``created_timestamp`` (when it was computed). A corrected bar does not overwrite history: it
adds a row whose event time is the correction's arrival, so a point-in-time join at an earlier
time (latest row with event time <= the entity's time and within the view's TTL) still returns
what was known then. Rows sharing one event time are recomputations of the same knowledge; the
newest ``created_timestamp`` wins, both offline and when materializing. Materialization re-reads
a trailing TTL window on each run, so a correction or backfill written late, with an event time
before the previous run's end, still reaches the online store; and it never moves the online
store back in time (SQLite overwrites unconditionally), so reruns are idempotent.

``import feast`` costs ~11 s: it happens inside :func:`open_feature_store`, never at import.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import os
import string
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import numpy as np
import pandas as pd

from quantdesk.domain.errors import (
    ConfigurationError,
    InvalidInputError,
    NotFoundError,
    StorageError,
)
from quantdesk.domain.symbols import validate_canonical_symbol
from quantdesk.domain.timeutil import require_utc, utc_now
from quantdesk.features import names
from quantdesk.features.offline_store import offline_path

if TYPE_CHECKING:
    from feast import FeatureService, FeatureStore
    from feast.repo_contents import RepoContents

    from quantdesk.config import Settings

EMBEDDED_YAML = "feature_store.yaml"
PRODUCTION_YAML = "feature_store.production.yaml"
REDIS_CONNECTION_VAR = "QUANTDESK_FEAST_REDIS_CONNECTION"
_TIMESTAMP_SUFFIX = "__ts"  # feast.online_response.TIMESTAMP_POSTFIX: event time, epoch seconds
_SOURCE_TREE_REPO = Path(__file__).resolve().parents[3] / "feature_repo"


def feature_repo_dir(settings: Settings) -> Path:
    """The folder of Feast declarations: the setting, else ``feature_repo/`` of the source tree."""
    return (settings.feast.repo_dir or _SOURCE_TREE_REPO).expanduser().resolve()


def feast_redis_connection(url: str) -> str:
    """A ``redis://`` / ``rediss://`` URL as Feast's ``host:port,db=N,password=...`` string."""
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ConfigurationError(
            f"QUANTDESK_REDIS_URL must look like redis://[:password@]host:port/db, got scheme "
            f"{parts.scheme!r}"
        )
    fields = [f"{parts.hostname}:{parts.port or 6379}"]
    db = parts.path.strip("/")
    if db:
        if not db.isdigit():
            raise ConfigurationError(f"QUANTDESK_REDIS_URL: database must be a number, got {db!r}")
        fields.append(f"db={db}")
    for key, raw in (("username", parts.username), ("password", parts.password)):
        if raw:
            value = unquote(raw)
            if "," in value:
                raise ConfigurationError(f"QUANTDESK_REDIS_URL: Feast cannot pass a {key} with ','")
            fields.append(f"{key}={value}")
    if parts.scheme == "rediss":
        fields.append("ssl=true")
    return ",".join(fields)


def render_feast_config(settings: Settings) -> dict[str, Any]:
    """The Feast configuration for ``settings`` as a plain dict (pure: no Feast import)."""
    import yaml  # type: ignore[import-untyped]  # PyYAML, installed with Feast

    repo = feature_repo_dir(settings)
    kind = settings.feast.online_store
    path = repo / (PRODUCTION_YAML if kind == "redis" else EMBEDDED_YAML)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(
            f"no Feast configuration at {path} (set QUANTDESK_FEAST__REPO_DIR): {exc}"
        ) from None
    values: dict[str, str] = {}
    if kind == "redis":
        if not settings.redis_url:
            raise ConfigurationError(
                "QUANTDESK_FEAST__ONLINE_STORE=redis needs QUANTDESK_REDIS_URL to be set"
            )
        values[REDIS_CONNECTION_VAR] = feast_redis_connection(settings.redis_url)
    text = string.Template(text).safe_substitute(values)
    raw: dict[str, Any] = yaml.safe_load(os.path.expandvars(text))
    if raw.get("online_store", {}).get("type", "sqlite") != kind:
        raise ConfigurationError(f"{path} does not declare a {kind} online store")
    raw["project"] = settings.feast.project
    return raw


@dataclass(frozen=True, slots=True)
class AppliedRepo:
    """What one apply registered and what it removed because the repo no longer declares it."""

    feature_views: tuple[str, ...]
    feature_services: tuple[str, ...]
    deleted: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MaterializedWindow:
    """The event-time window written to the online store, per view."""

    start: datetime
    end: datetime
    feature_views: tuple[str, ...]


class FeastStore:
    """One open Feast store: declarations from ``feature_repo``, data under ``QUANTDESK_HOME``."""

    def __init__(self, store: FeatureStore, settings: Settings) -> None:
        self._store = store
        self._settings = settings
        self._services: dict[str, FeatureService] = {}
        self._ttls: dict[str, float] = {}

    @property
    def feast(self) -> FeatureStore:
        """The underlying ``feast.FeatureStore``, for what this class does not wrap."""
        return self._store

    @property
    def online_store_kind(self) -> str:
        return str(self._store.config.online_store.type)

    def apply(self) -> AppliedRepo:
        """Register the declarations, deleting objects the repo dropped (idempotent)."""
        from feast.repo_operations import extract_objects_for_apply_delete

        repo = load_declarations(feature_repo_dir(self._settings), self._store.project)
        to_apply, to_delete, _, _ = extract_objects_for_apply_delete(  # type: ignore[no-untyped-call]
            self._store.project, self._store.registry, repo
        )
        with _quiet():
            self._store.apply(to_apply, objects_to_delete=to_delete, partial=False)
        self._services.clear()
        self._ttls.clear()
        return AppliedRepo(
            feature_views=tuple(sorted(v.name for v in repo.feature_views)),
            feature_services=tuple(sorted(s.name for s in repo.feature_services)),
            deleted=tuple(sorted(getattr(o, "name", str(o)) for o in to_delete)),
        )

    def materialize_incremental(self, end: datetime) -> MaterializedWindow:
        """Bring the online store up to ``end``: the latest row per symbol with event time <= end.

        Reads ``[end - ttl, end]`` each time rather than only what followed the previous run, so
        rows written late (corrections, backfills, a new symbol) are not skipped; values older
        than the TTL are stale for a point-in-time join anyway. If an earlier run already went
        past ``end``, that end is kept, so a rerun never writes older values over newer ones.
        """
        end = require_utc(end, "end")
        views = self._store.list_feature_views()
        if not views:
            raise NotFoundError("no feature views registered: apply the feature repo first")
        previous = [
            require_utc(_as_utc(v.most_recent_end_time), "most_recent_end_time")
            for v in views
            if v.most_recent_end_time is not None
        ]
        until = max([end, *previous])
        ttl = max((v.ttl for v in views if v.ttl), default=timedelta(days=7))
        start = until - ttl
        names_ = tuple(sorted(v.name for v in views))
        self._require_offline_files(names_)
        with _quiet():
            self._store.materialize(start, until, feature_views=list(names_))
        return MaterializedWindow(start=start, end=until, feature_views=names_)

    def online_features(
        self, symbols: Sequence[str], service: str, as_of: datetime | None = None
    ) -> pd.DataFrame:
        """The latest served vector per symbol: one row per symbol in the order asked.

        Columns are ``symbol`` then the service's features in the order of
        ``names.FEATURE_SERVICES``. A value older than its view's TTL at ``as_of`` (default:
        now) is NaN, as a point-in-time join at ``as_of`` would give; Feast's online read does
        not check the TTL itself, so a halted symbol would otherwise be served week-old values.
        A symbol with no value at all is NaN too.
        """
        wanted = _service_features(service)
        if not symbols:
            raise InvalidInputError("online_features needs at least one symbol")
        at = utc_now() if as_of is None else require_utc(as_of, "as_of")
        rows = [{names.ENTITY_JOIN_KEY: validate_canonical_symbol(s)} for s in symbols]
        response = self._store.get_online_features(
            features=self._service(service), entity_rows=rows
        ).to_dict(include_event_timestamps=True)
        # One float64 block (None becomes NaN): a column-by-column build costs ~2 ms.
        values = np.array([response[f] for f in wanted], dtype="float64")
        known = np.array([response[f + _TIMESTAMP_SUFFIX] for f in wanted], dtype="float64")
        oldest = at.timestamp() - np.array([self._ttl_seconds(f) for f in wanted])
        values[known < oldest[:, None]] = np.nan
        frame = pd.DataFrame(values.T, columns=list(wanted))
        frame.insert(0, names.ENTITY_JOIN_KEY, list(symbols))
        return frame

    def historical_features(self, entity_df: pd.DataFrame, service: str) -> pd.DataFrame:
        """Point-in-time join: for each (symbol, event_timestamp) the values known at that time.

        Returns ``entity_df``'s rows in their order with the service's features appended; a
        value whose event time is after the row's time is never returned (NaN instead when
        nothing was known within the TTL).
        """
        wanted = _service_features(service)
        frame = _checked_entity_df(entity_df)
        frame["_row"] = range(len(frame))
        with _quiet():
            joined = self._store.get_historical_features(
                entity_df=frame, features=self._service(service)
            ).to_df()
        # Feast's file store drops entity rows that match nothing: join back by row number.
        values = joined.set_index("_row")[list(wanted)].astype("float64")
        values = values.reindex(range(len(frame)))
        result = entity_df.reset_index(drop=True).copy()
        for feature in wanted:
            result[feature] = values[feature].to_numpy()
        return result

    def teardown(self) -> None:
        """Remove the online tables or keys of this project (tests and decommissioning)."""
        with _quiet():
            self._store.teardown()  # type: ignore[no-untyped-call]

    def _ttl_seconds(self, feature: str) -> float:
        view = names.view_of(feature)
        if view not in self._ttls:
            ttl = self._store.get_feature_view(view).ttl
            self._ttls[view] = ttl.total_seconds() if ttl else float("inf")
        return self._ttls[view]

    def _service(self, name: str) -> FeatureService:
        if name not in self._services:
            try:
                self._services[name] = self._store.get_feature_service(name)
            except Exception as exc:  # Feast raises its own FeatureServiceNotFoundException
                raise NotFoundError(
                    f"feature service {name!r} is not registered: apply the feature repo"
                ) from exc
        return self._services[name]

    def _require_offline_files(self, views: Iterable[str]) -> None:
        paths = [offline_path(self._settings.offline_features_dir, v) for v in views]
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise NotFoundError(
                "offline feature files missing (run `quantdesk features build`): "
                + ", ".join(missing)
            )


def open_feature_store(settings: Settings) -> FeastStore:
    """Open the Feast store for ``settings`` (imports Feast: ~11 s the first time)."""
    from feast import FeatureStore, RepoConfig
    from pydantic import ValidationError

    raw = render_feast_config(settings)
    try:
        config = RepoConfig(**raw)
    except ValidationError as exc:
        raise ConfigurationError(f"invalid Feast configuration: {exc}") from None
    config.repo_path = settings.home
    (settings.home / "feast").mkdir(parents=True, exist_ok=True)
    try:
        store = FeatureStore(repo_path=str(settings.home), config=config)
    except OSError as exc:
        raise StorageError(f"could not open the Feast store under {settings.home}: {exc}") from exc
    return FeastStore(store, settings)


def load_declarations(repo_dir: Path, project: str) -> RepoContents:
    """The Feast objects declared in ``repo_dir`` for ``project``, honouring ``.feastignore``.

    Feast's own ``parse_repo`` names modules after the current directory (its CLI chdirs the
    whole process first); here each file is loaded by path under a private module name, so a
    library call never changes the working directory.
    """
    from feast import Entity, FeatureService, FeatureView, Project
    from feast.data_source import DataSource
    from feast.feature_view import DUMMY_ENTITY
    from feast.repo_contents import RepoContents
    from feast.repo_operations import get_repo_files

    contents = RepoContents(
        projects=[Project(name=project)],
        data_sources=[],
        entities=[],
        feature_views=[],
        feature_services=[],
        on_demand_feature_views=[],
        stream_feature_views=[],
        label_views=[],
        permissions=[],
    )
    files = get_repo_files(repo_dir)
    if not files:
        raise ConfigurationError(f"no Feast declarations (*.py) in {repo_dir}")
    for path in files:
        spec = importlib.util.spec_from_file_location(f"_quantdesk_feature_repo_{path.stem}", path)
        if spec is None or spec.loader is None:
            raise ConfigurationError(f"cannot load Feast declarations from {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for obj in vars(module).values():
            if isinstance(obj, FeatureView):
                _add_once(contents.feature_views, obj)
                if obj.batch_source is not None:
                    _add_once(contents.data_sources, obj.batch_source)
            elif isinstance(obj, DataSource):
                _add_once(contents.data_sources, obj)
            elif isinstance(obj, Entity):
                _add_once(contents.entities, obj)
            elif isinstance(obj, FeatureService):
                _add_once(contents.feature_services, obj)
    contents.entities.append(DUMMY_ENTITY)
    return contents


def _add_once(bucket: list[Any], obj: Any) -> None:
    if not any(existing is obj for existing in bucket):
        bucket.append(obj)


def _service_features(service: str) -> tuple[str, ...]:
    try:
        return names.FEATURE_SERVICES[service]
    except KeyError:
        known = ", ".join(names.FEATURE_SERVICES)
        raise InvalidInputError(f"unknown feature service {service!r}; known: {known}") from None


def _checked_entity_df(entity_df: pd.DataFrame) -> pd.DataFrame:
    """A copy with the join key and a UTC event time; one clear error otherwise."""
    key, ts = names.ENTITY_JOIN_KEY, names.EVENT_TIMESTAMP
    missing = [c for c in (key, ts) if c not in entity_df.columns]
    if missing:
        raise InvalidInputError(f"entity_df lacks column(s) {missing}; it needs {key!r} and {ts!r}")
    if entity_df.empty:
        raise InvalidInputError("entity_df has no rows")
    times = entity_df[ts]
    if not isinstance(times.dtype, pd.DatetimeTZDtype):
        raise InvalidInputError(f"entity_df[{ts!r}] must be time-zone aware (UTC)")
    for symbol in entity_df[key].unique():
        validate_canonical_symbol(symbol)
    frame = entity_df[[key, ts]].copy()
    frame[key] = frame[key].astype("string")  # the offline files store it as a string too
    frame[ts] = times.dt.tz_convert("UTC")
    return frame.reset_index(drop=True)


def _as_utc(value: datetime) -> datetime:
    """Feast hands back registry times naive (UTC) or aware: make them aware."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Feast prints progress to stdout; keep a CLI's or a DAG's output readable."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield
