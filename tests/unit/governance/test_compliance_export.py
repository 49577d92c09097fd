"""The daily compliance export against a real operational store (SQLite; one PostgreSQL case)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import create_engine, make_url, text

from quantdesk.config import Settings, load_settings
from quantdesk.domain.errors import InvalidInputError, StorageError
from quantdesk.governance.compliance import MANIFEST, TABLES, export_day
from quantdesk.pipelines.export_compliance import export_compliance
from quantdesk.store import OperationalStore
from tests.unit.governance.compliance_test_data import DAY, seed_day

QUANTDESK = str(Path(sys.executable).with_name("quantdesk"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """A home whose SQLite store holds the seeded day (and no MLflow registry)."""
    configured = load_settings(home=tmp_path / "home")
    with OperationalStore.from_settings(configured) as store:
        store.upgrade()
        seed_day(store)
    return configured


def _csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


def _folder_bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_export_compliance_writes_only_the_days_records(settings: Settings) -> None:
    # Act
    summary = export_compliance(settings, DAY)

    # Assert
    folder = Path(summary.location)
    assert folder == settings.home / "exports" / "compliance" / "2026-03-02"
    assert summary.rows == {"decisions": 2, "orders": 2, "limit_breaches": 2, "model_versions": 0}
    decisions = _csv_rows(folder / "decisions.csv")
    assert [d["decision_id"] for d in decisions] == ["dec-open", "dec-noon"]
    assert decisions[1]["target_weight"] == "-0.1"
    assert decisions[0]["contributions"] == '{"ml":0.2,"rl":0.05}'
    orders = _csv_rows(folder / "orders.csv")
    assert [(o["client_order_id"], o["status"]) for o in orders] == [
        ("ord-1", "new"),
        ("ord-2", "rejected"),
    ]
    assert orders[1]["created_at"] == "2026-03-02T23:59:59.999999+00:00"
    breaches = _csv_rows(folder / "limit_breaches.csv")
    assert [b["action"] for b in breaches] == ["risk.breach", "order.denial"]
    assert len(breaches[0]["hash"]) == 64


def test_export_compliance_parquet_matches_csv_with_typed_columns(settings: Settings) -> None:
    # Act
    folder = Path(export_compliance(settings, DAY).location)

    # Assert
    for name, columns in TABLES.items():
        table = pq.read_table(folder / f"{name}.parquet")
        assert table.column_names == [column for column, _ in columns]
        assert table.num_rows == len(_csv_rows(folder / f"{name}.csv"))
    orders = pq.read_table(folder / "orders.parquet")
    assert str(orders.schema.field("created_at").type) == "timestamp[us, tz=UTC]"
    assert orders.column("limit_price").to_pylist() == [64000.125, 64000.125]
    assert orders.column("created_at").to_pylist()[0] == datetime(2026, 3, 2, 12, 0, 1, tzinfo=UTC)


def test_export_compliance_manifest_checksums_match_every_file(settings: Settings) -> None:
    # Act
    folder = Path(export_compliance(settings, DAY).location)

    # Assert
    manifest = json.loads((folder / MANIFEST).read_text())
    listed = set(manifest["files"])
    assert listed == {f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")}
    for name, entry in manifest["files"].items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == entry["sha256"]
    sums = dict(
        reversed(line.split("  ")) for line in (folder / "SHA256SUMS").read_text().splitlines()
    )
    assert sums == {name: entry["sha256"] for name, entry in manifest["files"].items()}
    assert manifest["tables"]["limit_breaches"] == {"rows": 2}
    assert manifest["mlflow_registry_found"] is False


def test_export_compliance_rerun_is_byte_identical_and_reports_unchanged(
    settings: Settings,
) -> None:
    # Arrange
    first = export_compliance(settings, DAY)
    folder = Path(first.location)
    before = _folder_bytes(folder)
    (folder.parent / "kept-aside").mkdir()
    rebuilt_elsewhere = export_day(settings, DAY, destination=folder.parent / "kept-aside")

    # Act
    again = export_compliance(settings, DAY)

    # Assert
    assert first.changed is True
    assert again.changed is False
    assert _folder_bytes(folder) == before
    assert _folder_bytes(Path(rebuilt_elsewhere.location)) == before
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]


def test_export_compliance_rerun_after_new_records_replaces_the_folder(
    settings: Settings,
) -> None:
    # Arrange
    folder = Path(export_compliance(settings, DAY).location)
    with OperationalStore.from_settings(settings) as store:
        store.append_audit_event("risk", "limit.breach", "gross", {"value": 1.7},
                                 occurred_at=datetime(2026, 3, 2, 15, tzinfo=UTC))  # fmt: skip

    # Act
    summary = export_compliance(settings, "2026-03-02")

    # Assert
    assert summary.changed is True
    assert summary.rows["limit_breaches"] == 3
    assert len(_csv_rows(folder / "limit_breaches.csv")) == 3
    manifest = json.loads((folder / MANIFEST).read_text())
    assert manifest["tables"]["limit_breaches"] == {"rows": 3}


def test_export_compliance_empty_day_writes_headers_only(settings: Settings) -> None:
    # Act
    summary = export_compliance(settings, "2025-01-01")

    # Assert
    folder = Path(summary.location)
    assert set(summary.rows.values()) == {0}
    assert (folder / "model_versions.csv").read_text().startswith("name,version,created_at")
    assert pq.read_table(folder / "decisions.parquet").num_rows == 0


@pytest.mark.parametrize("bad", ["2026-13-01", "yesterday", ""])
def test_export_compliance_bad_day_raises_clear_error(settings: Settings, bad: str) -> None:
    with pytest.raises(InvalidInputError, match="YYYY-MM-DD"):
        export_compliance(settings, bad)


def test_export_compliance_unmigrated_database_raises_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="db upgrade"):
        export_compliance(load_settings(home=tmp_path), DAY)


def test_export_compliance_to_fsspec_url_writes_manifest_and_files(tmp_path: Path) -> None:
    # Arrange
    import fsspec

    url = f"memory://compliance-{uuid.uuid4().hex}"
    configured = load_settings(home=tmp_path / "home", compliance={"export_dir": url})
    with OperationalStore.from_settings(configured) as store:
        store.upgrade()
        seed_day(store)

    # Act
    summary = export_compliance(configured, DAY)
    again = export_compliance(configured, DAY)

    # Assert
    fs = fsspec.filesystem("memory")
    assert summary.location == f"{url}/2026-03-02"
    manifest = json.loads(fs.cat_file(f"{summary.location}/{MANIFEST}"))
    assert manifest["tables"]["orders"] == {"rows": 2}
    assert again.changed is False


@pytest.mark.slow  # creates an MLflow registry (~5-9 s)
def test_export_compliance_includes_model_versions_registered_that_day(tmp_path: Path) -> None:
    # Arrange
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    from mlflow import MlflowClient

    configured = load_settings(home=tmp_path / "home")
    with OperationalStore.from_settings(configured) as store:
        store.upgrade()
    uri = configured.resolved_mlflow_tracking_uri
    (configured.home / "mlflow").mkdir(parents=True)
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.create_registered_model("hybrid")
    client.create_model_version("hybrid", source=str(tmp_path / "artifacts"), tags={"t": "1"})
    today = datetime.now(UTC).date()

    # Act
    summary = export_compliance(configured, today)

    # Assert
    assert summary.mlflow_registry_found is True
    rows = _csv_rows(Path(summary.location) / "model_versions.csv")
    assert [(r["name"], r["version"], r["tags"]) for r in rows] == [("hybrid", "1", '{"t":"1"}')]


@pytest.fixture
def postgres_settings(postgres_url: str, tmp_path: Path) -> Iterator[Settings]:
    schema = f"qd_{uuid.uuid4().hex[:16]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(postgres_url).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield load_settings(
            home=tmp_path / "home", database_url=url.render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_export_compliance_on_postgres_matches_sqlite_export(
    postgres_settings: Settings, settings: Settings
) -> None:
    # Arrange
    with OperationalStore.from_settings(postgres_settings) as store:
        store.upgrade()
        seed_day(store)

    # Act
    on_postgres = export_compliance(postgres_settings, DAY)
    on_sqlite = export_compliance(settings, DAY)

    # Assert: same records; decisions differ only by their insertion time (created_at)
    assert on_postgres.rows == on_sqlite.rows
    for name in ("orders", "limit_breaches"):
        pg_file = Path(on_postgres.location) / f"{name}.csv"
        assert pg_file.read_bytes() == (Path(on_sqlite.location) / f"{name}.csv").read_bytes()


def test_cli_compliance_export_prints_location_and_counts(settings: Settings) -> None:
    # Arrange
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")}
    env["QUANTDESK_HOME"] = str(settings.home)

    # Act
    result = subprocess.run(
        [QUANTDESK, "compliance", "export", "--day", "2026-03-02"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    bad = subprocess.run(
        [QUANTDESK, "compliance", "export", "--day", "03/02/2026"],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip

    # Assert
    assert result.returncode == 0, result.stderr
    assert "2026-03-02: written" in result.stdout
    assert "limit_breaches\t2 rows" in result.stdout
    assert bad.returncode == 2
    assert "YYYY-MM-DD" in bad.stderr
