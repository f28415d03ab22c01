"""The installed environment is the one requirements.txt pins, not a resolver's silent fallback."""

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest

LOCK = Path(__file__).resolve().parents[1] / "requirements.lock"


@pytest.mark.parametrize(
    ("package", "major_minor"),
    [
        ("apache-airflow", "3.3."),
        ("great-expectations", "1.24."),
        ("pandas", "3."),
        ("SQLAlchemy", "2."),
        ("apache-airflow-providers-postgres", "7.1."),
    ],
)
def test_stack_versions(package: str, major_minor: str) -> None:
    assert version(package).startswith(major_minor), f"{package} {version(package)} is not {major_minor}x"


def test_defusedxml_is_installed() -> None:
    assert version("defusedxml")


def test_every_locked_package_is_installed_at_its_pinned_version() -> None:
    mismatches = []
    for line in LOCK.read_text().splitlines():
        if not line or line.startswith("#"):
            continue
        name, _, pinned = line.partition("==")
        try:
            installed = version(name)
        except PackageNotFoundError:
            mismatches.append(f"{name} missing")
            continue
        if installed != pinned:
            mismatches.append(f"{name} {installed} != {pinned}")
    assert not mismatches, mismatches


def test_the_warehouse_is_an_installed_package_and_plugins_holds_only_the_plugin() -> None:
    """Airflow's plugin manager imports every module under plugins/ in every component; the warehouse
    package is installed (pyproject.toml) and imported by name, its development kit is another package."""
    import tomllib

    import sap_warehouse
    import sap_warehouse_kit

    root = Path(__file__).resolve().parents[1]
    plugins = sorted(p.name for p in (root / "plugins").iterdir() if p.name != "__pycache__")
    assert plugins == ["warehouse_oncall_plugin.py"]
    assert version("sap-warehouse") == "0.1.0"
    assert version("sap-warehouse-devkit") == "0.1.0"
    assert Path(sap_warehouse.__file__).parent == root / "src" / "sap_warehouse"
    assert Path(sap_warehouse_kit.__file__).parent == root / "devkit" / "sap_warehouse_kit"
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert project["tool"]["setuptools"]["packages"]["find"]["include"] == ["sap_warehouse"]  # not the kit
    assert project["tool"]["setuptools"]["dynamic"]["dependencies"] == {"file": ["requirements.txt"]}
