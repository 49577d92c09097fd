"""Direction of imports: quantdesk never reaches up into the apps; domain depends on nothing."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "platform" / "quantdesk"
APPS = ("api", "dags", "streamlit_app", "feature_repo")


def imported_modules(path: Path) -> set[str]:
    """Every absolute module a file imports, including imports inside functions."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.ImportFrom) and node.level > 0:
            names.add("." * node.level + (node.module or ""))
    return names


def test_domain_imports_only_domain_and_third_party() -> None:
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in (PACKAGE / "domain").rglob("*.py")
        for name in imported_modules(path)
        if name.startswith(".")
        or (name.startswith("quantdesk") and not name.startswith("quantdesk.domain"))
    }
    assert not offenders


def test_quantdesk_never_imports_applications() -> None:
    offenders = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in PACKAGE.rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] in APPS
    }
    assert not offenders


def test_imported_modules_sees_imports_inside_functions(tmp_path: Path) -> None:
    # The checks above are only as good as this walker: prove it finds a hidden import.
    source = tmp_path / "sneaky.py"
    source.write_text("def f():\n    from api.main import app\n    return app\n")
    assert "api.main" in imported_modules(source)


@pytest.mark.slow
def test_import_linter_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
