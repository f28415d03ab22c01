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
