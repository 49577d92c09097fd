"""The layout rules that keep ``platform/`` a source root and not a package."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_platform_from_repo_root_is_stdlib_module() -> None:
    # Arrange: run from the repository root, where a folder named platform/ exists.
    code = "import platform, sys; print(platform.__file__); print(platform.python_version())"

    # Act
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )

    # Assert
    module_file, version = result.stdout.splitlines()
    assert Path(module_file).parent == Path(sysconfig.get_paths()["stdlib"])
    assert version == ".".join(map(str, sys.version_info[:3]))


def test_platform_folder_has_no_init_file() -> None:
    assert not (ROOT / "platform" / "__init__.py").exists()
    assert (ROOT / "platform" / "quantdesk" / "__init__.py").exists()


def test_top_level_layout_folders_exist() -> None:
    expected = {
        "dags", "platform", "feature_repo", "streamlit_app", "api", "tests", "charts",
        "docker", "bench",
    }  # fmt: skip
    missing = {name for name in expected if not (ROOT / name).is_dir()}
    assert not missing
    assert (ROOT / "pyproject.toml").is_file()


def test_installed_quantdesk_resolves_to_source_tree() -> None:
    import quantdesk

    assert Path(quantdesk.__file__).resolve().parent == ROOT / "platform" / "quantdesk"
