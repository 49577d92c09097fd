"""``feature_repo/`` declares exactly the views, fields and services of ``features.names``."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest

from quantdesk.config import Settings, load_settings
from quantdesk.features import names
from quantdesk.features.feast_store import feature_repo_dir, load_declarations
from quantdesk.features.offline_store import offline_path

REPO = Path(__file__).resolve().parents[3] / "feature_repo"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return load_settings(home=tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def declared(settings: Settings) -> object:
    return load_declarations(feature_repo_dir(settings), settings.feast.project)


def test_feature_repo_dir_defaults_to_the_source_tree_repo(settings: Settings) -> None:
    assert feature_repo_dir(settings) == REPO


def test_feature_repo_views_and_fields_match_names(declared: object) -> None:
    from feast.types import Float64

    views = {view.name: view for view in declared.feature_views}  # type: ignore[attr-defined]

    fields = {name: tuple(f.name for f in view.features) for name, view in views.items()}
    assert fields == names.FEATURE_VIEWS
    assert {f.dtype for view in views.values() for f in view.features} == {Float64}
    assert all(view.entities == [names.ENTITY_NAME] for view in views.values())


def test_feature_repo_services_match_names_in_order(declared: object) -> None:
    services = {
        service.name: tuple(
            feature.name for projection in service.feature_view_projections
            for feature in projection.features
        )
        for service in declared.feature_services  # type: ignore[attr-defined]
    }  # fmt: skip

    assert services == names.FEATURE_SERVICES


def test_feature_repo_entity_is_instrument_keyed_by_symbol(declared: object) -> None:
    entities = [e for e in declared.entities if e.name != "__dummy"]  # type: ignore[attr-defined]

    assert [(e.name, e.join_key) for e in entities] == [(names.ENTITY_NAME, names.ENTITY_JOIN_KEY)]


def test_feature_repo_sources_read_the_offline_files_of_the_home(
    declared: object, settings: Settings
) -> None:
    for view in declared.feature_views:  # type: ignore[attr-defined]
        source = view.batch_source

        resolved = settings.home / source.path  # Feast's repo_path is the home

        assert resolved == offline_path(settings.offline_features_dir, view.name)
        assert source.timestamp_field == names.EVENT_TIMESTAMP
        assert source.created_timestamp_column == names.CREATED_TIMESTAMP


def test_feature_repo_imports_only_feast_and_the_standard_library() -> None:
    imported: set[str] = set()
    for path in REPO.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module.split(".")[0])

    assert imported <= {"feast", "datetime", "__future__"}


def test_feastignore_keeps_non_declarations_out_of_apply(tmp_path: Path) -> None:
    from feast.repo_operations import get_repo_files

    repo = tmp_path / "feature_repo"
    shutil.copytree(REPO, repo)
    (repo / "test_definitions.py").write_text("raise RuntimeError('not a declaration')\n")
    (repo / "scripts").mkdir()
    (repo / "scripts" / "backfill.py").write_text("raise RuntimeError('not a declaration')\n")

    files = get_repo_files(repo)

    assert [path.name for path in files] == ["definitions.py"]
