"""The quality gate: Great Expectations suites per asset class plus the aggregator's score.

Flow: :class:`QualityGate.gate` runs the :class:`~quantdesk.data.aggregator.DataAggregator`
(merge, de-duplicate, align to calendars, score), splits the cleaned frame by asset class, and
validates each asset-class batch against its Great Expectations suite (:func:`build_suite`).
A batch fails when its suite fails *or* any of its series scores below ``min_score``; the
verdict carries a readable reason, the bars, and a JSON report. Writing to the lake (clean
zone or quarantine) is the caller's job: ``verdict.frame`` goes to the clean zone,
``verdict.input_frame`` + ``verdict.reason`` + ``verdict.report()`` go to quarantine.

Validation runs in one in-memory (ephemeral) GE context per process: creating it costs a few
milliseconds and nothing touches the disk. Data Docs need a file context, so
:func:`build_data_docs` rebuilds them from the JSON results :func:`save_validation_result`
stored: each stored GE result is loaded back into the file context's validation-results store
and the site is rendered from there. The stored JSON is therefore the single record; the docs
are a view that can be deleted and rebuilt at any time.

``great_expectations`` takes seconds to import, so it is imported inside the functions that
need it and importing this module stays cheap.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

import pandas as pd

from quantdesk.data.aggregator import (
    AggregationResult,
    BatchQualityReport,
    DataAggregator,
    SymbolQuality,
)
from quantdesk.data.atomic_files import write_file_atomic
from quantdesk.data.bars import BAR_COLUMNS, PRICE_COLUMNS, normalize_bar_frame
from quantdesk.data.catalog import INSTRUMENTS
from quantdesk.domain import (
    AssetClass,
    Granularity,
    InvalidInputError,
    StorageError,
    Venue,
    require_utc,
    utc_now,
)

if TYPE_CHECKING:
    from quantdesk.config import Settings

__all__ = [
    "PRICE_BANDS",
    "RESULT_SCHEMA",
    "BatchVerdict",
    "FailedExpectation",
    "GateResult",
    "QualityGate",
    "ValidationOutcome",
    "build_data_docs",
    "build_suite",
    "docs_dir",
    "load_validation_result",
    "results_dir",
    "save_validation_result",
    "suite_name",
    "validate_batch",
]

RESULT_SCHEMA = "quantdesk.quality.result/1"
SUITE_PREFIX = "quantdesk_bars_"
# Sane price bands per asset class (lower bound exclusive). FX quotes outside 0.001-1000 are a
# misplaced decimal or a wrong pair, not a market move; equities and crypto only need > 0 and
# an upper bound that catches unit mistakes (cents for dollars, satoshis for coins).
PRICE_BANDS: Mapping[AssetClass, tuple[float, float]] = {
    AssetClass.EQUITY: (0.0, 1_000_000.0),
    AssetClass.FX: (0.001, 1_000.0),
    AssetClass.CRYPTO: (0.0, 100_000_000.0),
}
_BATCH_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_DOCS_SITE = "local_site"


def suite_name(asset_class: AssetClass) -> str:
    return f"{SUITE_PREFIX}{AssetClass(asset_class).value}"


def _allowed_venues(asset_class: AssetClass) -> list[str]:
    native = {i.venue for i in INSTRUMENTS.values() if i.asset_class is asset_class}
    return sorted(v.value for v in native | {Venue.BUNDLED, Venue.SYNTHETIC})


def _symbols(asset_class: AssetClass) -> list[str]:
    return sorted(s for s, i in INSTRUMENTS.items() if i.asset_class is asset_class)


def build_suite(asset_class: AssetClass) -> Any:
    """The GE ``ExpectationSuite`` for one asset class over the canonical bar frame.

    Every expectation carries ``meta["check"]``, a short stable name (``high_ge_low``,
    ``volume_non_negative``, ...) that failures are reported by.
    """
    import great_expectations as gx
    import great_expectations.expectations as gxe

    asset_class = AssetClass(asset_class)
    low, high = PRICE_BANDS[asset_class]
    suite = gx.ExpectationSuite(name=suite_name(asset_class))

    def add(check: str, expectation: Any) -> None:
        expectation.meta = {"check": check}
        suite.add_expectation(expectation)

    add("columns_canonical", gxe.ExpectTableColumnsToMatchSet(column_set=list(BAR_COLUMNS)))
    add("not_empty", gxe.ExpectTableRowCountToBeBetween(min_value=1))
    for column in BAR_COLUMNS:
        add(f"{column}_not_null", gxe.ExpectColumnValuesToNotBeNull(column=column))
    add(
        "symbol_in_asset_class",
        gxe.ExpectColumnValuesToBeInSet(column="symbol", value_set=_symbols(asset_class)),
    )
    add(
        "venue_serves_asset_class",
        gxe.ExpectColumnValuesToBeInSet(column="venue", value_set=_allowed_venues(asset_class)),
    )
    add(
        "granularity_known",
        gxe.ExpectColumnValuesToBeInSet(
            column="granularity", value_set=[g.value for g in Granularity]
        ),
    )
    for column in PRICE_COLUMNS:
        add(
            f"{column}_in_price_band",
            gxe.ExpectColumnValuesToBeBetween(
                column=column, min_value=low, max_value=high, strict_min=True
            ),
        )
    add("volume_non_negative", gxe.ExpectColumnValuesToBeBetween(column="volume", min_value=0))
    for check, column_a, column_b in (
        ("high_ge_low", "high", "low"),
        ("high_ge_open", "high", "open"),
        ("high_ge_close", "high", "close"),
        ("open_ge_low", "open", "low"),
        ("close_ge_low", "close", "low"),
    ):
        add(
            check,
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A=column_a, column_B=column_b, or_equal=True
            ),
        )
    # Strictly after: a bar is known no earlier than it closes, which is after it opens.
    add(
        "available_after_open",
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(
            column_A="available_at", column_B="open_time", or_equal=False
        ),
    )
    add(
        "bar_unique",
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["symbol", "granularity", "open_time"]),
    )
    return suite


@dataclass(frozen=True, slots=True)
class FailedExpectation:
    """One failed expectation: our check name, the GE type, its columns and failing rows."""

    check: str
    expectation_type: str
    columns: tuple[str, ...]
    unexpected_count: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "expectation_type": self.expectation_type,
            "columns": list(self.columns),
            "unexpected_count": self.unexpected_count,
        }


@dataclass(frozen=True, slots=True)
class ValidationOutcome:
    """The result of validating one asset-class batch; ``result`` is GE's result as JSON."""

    asset_class: AssetClass
    suite_name: str
    success: bool
    rows: int
    result: Mapping[str, Any]
    failed: tuple[FailedExpectation, ...]

    @property
    def failed_checks(self) -> tuple[str, ...]:
        return tuple(f.check for f in self.failed)

    def to_dict(self) -> dict[str, Any]:
        return {
            "asset_class": self.asset_class.value,
            "suite_name": self.suite_name,
            "success": self.success,
            "rows": self.rows,
            "failed": [f.to_dict() for f in self.failed],
            "result": dict(self.result),
        }


class _EphemeralValidator:
    """One in-memory GE context with a pandas data source and a suite per asset class."""

    def __init__(self) -> None:
        import great_expectations as gx
        from great_expectations.data_context.types.base import (
            DataContextConfig,
            InMemoryStoreBackendDefaults,
            ProgressBarsConfig,
        )

        config = DataContextConfig(
            store_backend_defaults=InMemoryStoreBackendDefaults(),
            analytics_enabled=False,
            progress_bars=ProgressBarsConfig(globally=False),
        )
        self._context = gx.get_context(mode="ephemeral", project_config=config)
        source = self._context.data_sources.add_pandas("quantdesk_bars")
        asset = source.add_dataframe_asset("bars")
        self._batch_definition = asset.add_batch_definition_whole_dataframe("whole_batch")
        self._suites = {ac: self._context.suites.add(build_suite(ac)) for ac in AssetClass}
        self._lock = threading.Lock()

    def validate(self, frame: pd.DataFrame, asset_class: AssetClass) -> Any:
        with self._lock:
            batch = self._batch_definition.get_batch(batch_parameters={"dataframe": frame})
            return batch.validate(self._suites[asset_class])


@lru_cache(maxsize=1)
def _validator() -> _EphemeralValidator:
    return _EphemeralValidator()


def _json_safe(value: Any) -> Any:
    """Plain JSON types only (GE results may hold numpy scalars or timestamps)."""
    return json.loads(json.dumps(value, default=str, allow_nan=False))


def _failed_expectations(result: Mapping[str, Any]) -> tuple[FailedExpectation, ...]:
    failed: list[FailedExpectation] = []
    for item in result.get("results", []):
        if item.get("success"):
            continue
        config = item.get("expectation_config", {})
        kwargs = config.get("kwargs", {})
        columns = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
        columns.extend(kwargs.get("column_list", []))
        count = (item.get("result") or {}).get("unexpected_count")
        failed.append(
            FailedExpectation(
                check=str((config.get("meta") or {}).get("check", config.get("type", "?"))),
                expectation_type=str(config.get("type", "?")),
                columns=tuple(str(c) for c in columns),
                unexpected_count=int(count) if count is not None else None,
            )
        )
    return tuple(failed)


def validate_batch(frame: pd.DataFrame, asset_class: AssetClass) -> ValidationOutcome:
    """Validate a canonical bar frame against the suite of ``asset_class``.

    The frame is normalized first (canonical columns and dtypes; a schema error raises
    ``InvalidInputError``), so the suite always sees the shape the lake stores.
    """
    asset_class = AssetClass(asset_class)
    bars = normalize_bar_frame(frame)
    raw = _validator().validate(bars, asset_class)
    result = _json_safe(raw.to_json_dict())
    return ValidationOutcome(
        asset_class=asset_class,
        suite_name=suite_name(asset_class),
        success=bool(raw.success),
        rows=len(bars),
        result=result,
        failed=_failed_expectations(result),
    )


@dataclass(frozen=True, slots=True)
class BatchVerdict:
    """The gate's decision on one asset-class batch.

    ``frame``: the cleaned bars (what goes to the clean zone when ``passed``).
    ``input_frame``: the bars as delivered for this asset class, before de-duplication and
    calendar alignment (what goes to quarantine, with ``reason`` and :meth:`report`).
    """

    batch_id: str
    asset_class: AssetClass
    passed: bool
    reason: str
    frame: pd.DataFrame
    input_frame: pd.DataFrame
    validation: ValidationOutcome
    quality: BatchQualityReport
    min_score: float
    validated_at: datetime

    @property
    def symbols(self) -> tuple[str, ...]:
        return tuple(sorted({s.symbol for s in self.quality.series}))

    def report(self) -> dict[str, Any]:
        """Everything known about this batch as plain JSON (the quarantine sidecar)."""
        return {
            "schema": RESULT_SCHEMA,
            "batch_id": self.batch_id,
            "asset_class": self.asset_class.value,
            "passed": self.passed,
            "reason": self.reason,
            "validated_at": self.validated_at.isoformat(),
            "min_score": self.min_score,
            "symbols": list(self.symbols),
            "rows": {"input": len(self.input_frame), "clean": len(self.frame)},
            "quality": self.quality.to_dict(),
            "validation": self.validation.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class GateResult:
    """One verdict per asset class present in the input, plus the aggregation behind them."""

    verdicts: tuple[BatchVerdict, ...]
    aggregation: AggregationResult

    @property
    def passed(self) -> bool:
        return all(v.passed for v in self.verdicts)

    @property
    def passed_batches(self) -> tuple[BatchVerdict, ...]:
        return tuple(v for v in self.verdicts if v.passed)

    @property
    def failed_batches(self) -> tuple[BatchVerdict, ...]:
        return tuple(v for v in self.verdicts if not v.passed)

    def verdict(self, asset_class: AssetClass) -> BatchVerdict:
        for v in self.verdicts:
            if v.asset_class is AssetClass(asset_class):
                return v
        raise InvalidInputError(f"no {AssetClass(asset_class).value} batch in this gate result")

    def clean_frame(self) -> pd.DataFrame:
        """The cleaned bars of every batch that passed (canonical, possibly empty)."""
        frames = [v.frame for v in self.passed_batches]
        if not frames:
            return self.aggregation.frame.iloc[0:0].copy()
        return normalize_bar_frame(pd.concat(frames, ignore_index=True))

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "batches": [v.report() for v in self.verdicts]}


def _new_batch_id(asset_class: AssetClass, at: datetime) -> str:
    return f"{at:%Y%m%dT%H%M%SZ}-{asset_class.value}-{secrets.token_hex(4)}"


def _describe_series(series: SymbolQuality) -> str:
    problems = ", ".join(f"{i.code.value} {i.count}" for i in series.issues)
    detail = f" ({problems})" if problems else ""
    return f"{series.symbol} {series.granularity.value} {series.score:.3f}{detail}"


def _reason(validation: ValidationOutcome, low: tuple[SymbolQuality, ...], min_score: float) -> str:
    parts: list[str] = []
    if not validation.success:
        failures = ", ".join(
            f"{f.check} ({f.unexpected_count} rows)" if f.unexpected_count is not None else f.check
            for f in validation.failed
        )
        parts.append(f"expectations failed: {failures}")
    if low:
        scores = "; ".join(_describe_series(s) for s in low)
        parts.append(f"quality score below {min_score:.2f}: {scores}")
    return " | ".join(parts) if parts else "passed"


class QualityGate:
    """Decide, per asset class, whether a batch of bars is clean or must be quarantined."""

    def __init__(
        self, aggregator: DataAggregator | None = None, min_score: float | None = None
    ) -> None:
        self.aggregator = aggregator if aggregator is not None else DataAggregator()
        self.min_score = (
            float(min_score) if min_score is not None else self.aggregator.thresholds.min_score
        )
        if not 0.0 <= self.min_score <= 1.0:
            raise InvalidInputError("min_score must be in [0, 1]")

    def gate(
        self,
        frames: pd.DataFrame | Iterable[pd.DataFrame],
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        now: datetime | None = None,
    ) -> GateResult:
        """Aggregate ``frames`` (one per venue stream) and judge each asset class's batch."""
        streams = [frames] if isinstance(frames, pd.DataFrame) else list(frames)
        aggregation = self.aggregator.aggregate(streams, start=start, end=end)
        delivered = [normalize_bar_frame(f) for f in streams]
        input_frame = (
            pd.concat(delivered, ignore_index=True) if delivered else aggregation.frame.iloc[0:0]
        )
        return self._judge(aggregation, input_frame, now)

    def gate_aggregated(
        self,
        aggregation: AggregationResult,
        input_frame: pd.DataFrame | None = None,
        *,
        now: datetime | None = None,
    ) -> GateResult:
        """Judge an aggregation made elsewhere (``input_frame`` defaults to its clean frame)."""
        delivered = normalize_bar_frame(
            input_frame if input_frame is not None else aggregation.frame
        )
        return self._judge(aggregation, delivered, now)

    def _judge(
        self, aggregation: AggregationResult, input_frame: pd.DataFrame, now: datetime | None
    ) -> GateResult:
        at = require_utc(now, "now") if now is not None else utc_now()
        class_of = {s: i.asset_class.value for s, i in INSTRUMENTS.items()}
        input_classes = input_frame["symbol"].map(lambda s: class_of.get(str(s), ""))
        clean_classes = aggregation.frame["symbol"].map(lambda s: class_of.get(str(s), ""))
        verdicts: list[BatchVerdict] = []
        for asset_class in aggregation.report.asset_classes:
            frame = aggregation.frame[clean_classes == asset_class.value].reset_index(drop=True)
            delivered = input_frame[input_classes == asset_class.value]
            quality = aggregation.report.for_asset_class(asset_class)
            validation = validate_batch(frame, asset_class)
            low = quality.below(self.min_score)
            passed = validation.success and not low
            verdicts.append(
                BatchVerdict(
                    batch_id=_new_batch_id(asset_class, at),
                    asset_class=asset_class,
                    passed=passed,
                    reason=_reason(validation, low, self.min_score),
                    frame=frame,
                    input_frame=normalize_bar_frame(delivered),
                    validation=validation,
                    quality=quality,
                    min_score=self.min_score,
                    validated_at=at,
                )
            )
        return GateResult(verdicts=tuple(verdicts), aggregation=aggregation)


def results_dir(settings: Settings) -> Path:
    """Where validation results are kept: ``<home>/quality/results``."""
    return settings.quality_dir / "results"


def docs_dir(settings: Settings) -> Path:
    """Where the Data Docs project lives: ``<home>/quality/docs``."""
    return settings.quality_dir / "docs"


def save_validation_result(result: BatchVerdict | Mapping[str, Any], directory: Path) -> Path:
    """Write one batch's report to ``<directory>/<batch_id>.json`` atomically; return the path.

    Accepts a verdict or its :meth:`BatchVerdict.report` dict. Re-saving the same batch
    replaces the file whole (temp file, fsync, rename).
    """
    report = result.report() if isinstance(result, BatchVerdict) else dict(result)
    batch_id = str(report.get("batch_id", ""))
    if not _BATCH_ID.match(batch_id):
        raise InvalidInputError(f"batch_id {batch_id!r} is not a safe file name")
    payload = json.dumps(_json_safe(report), indent=2, sort_keys=True).encode("utf-8")
    path = Path(directory) / f"{batch_id}.json"
    write_file_atomic(path, lambda handle: handle.write(payload))
    return path


def load_validation_result(path: Path) -> dict[str, Any]:
    """A stored report back as a dict; raises ``StorageError`` if it is not one of ours."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StorageError(f"could not read validation result {path}: {exc}") from exc
    if not isinstance(data, dict) or data.get("schema") != RESULT_SCHEMA:
        raise StorageError(f"{path} is not a quantdesk validation result ({RESULT_SCHEMA})")
    return data


def build_data_docs(results_dir: Path, docs_dir: Path) -> Path:
    """Render GE Data Docs for every result stored in ``results_dir``; return index.html.

    GE 1.x renders docs from a *file* context's stores, and its checkpoints only store results
    of validations they run themselves. Re-running validations would need the bars again, so
    instead each stored GE result (``report["validation"]["result"]``) is loaded back with GE's
    own schema and put into the file context's validation-results store under
    (suite, run = batch id at its validation time, batch = asset class); the suites are stored
    beside them. The store and the site are cleared first, so the docs always show exactly
    what ``results_dir`` holds. The GE project lives in ``docs_dir`` (``docs_dir/gx``).
    """
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import (
        ExpectationSuiteValidationResultSchema,
    )
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    reports = [load_validation_result(p) for p in sorted(Path(results_dir).glob("*.json"))]
    docs_root = Path(docs_dir)
    docs_root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(docs_root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    context.variables.analytics_enabled = False
    context.variables.save()

    store = context.validation_results_store
    for key in store.list_keys():
        store.remove_key(key)
    for asset_class in AssetClass:
        context.suites.add_or_update(build_suite(asset_class))
    schema = ExpectationSuiteValidationResultSchema()
    for report in reports:
        validation = report["validation"]
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=validation["suite_name"]),
            run_id=RunIdentifier(
                run_name=str(report["batch_id"]),
                run_time=datetime.fromisoformat(str(report["validated_at"])),
            ),
            batch_identifier=str(report["asset_class"]),
        )
        store.set(key, schema.load(validation["result"]))

    context.clean_data_docs(site_name=_DOCS_SITE)
    urls = context.build_data_docs(site_names=[_DOCS_SITE])
    index = Path(unquote(urlparse(urls[_DOCS_SITE]).path))
    if not index.is_file():
        raise StorageError(f"Great Expectations did not write Data Docs to {index}")
    return index
