"""The installed environment is the one the locks pin, not a resolver's silent fallback."""

import re
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LOCK, DEV_LOCK = ROOT / "requirements.lock", ROOT / "requirements-dev.lock"


def _pins(path: Path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, pinned = line.partition("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = pinned
    return pins


def test_defusedxml_is_installed() -> None:
    assert version("defusedxml")


def test_every_locked_package_is_installed_at_its_pinned_version() -> None:
    mismatches = []
    for name, pinned in {**_pins(LOCK), **_pins(DEV_LOCK)}.items():
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

    root = Path(__file__).resolve().parents[2]
    plugins = sorted(p.name for p in (root / "plugins").iterdir() if p.name != "__pycache__")
    assert plugins == ["warehouse_oncall_plugin.py"]
    assert Path(sap_warehouse.__file__).parent == root / "src" / "sap_warehouse"
    assert Path(sap_warehouse_kit.__file__).parent == root / "devkit" / "sap_warehouse_kit"
    project = tomllib.loads((root / "pyproject.toml").read_text())
    assert project["tool"]["setuptools"]["packages"]["find"]["include"] == [
        "sap_warehouse",
        "sap_warehouse.*",
    ]  # not the kit
    assert project["tool"]["setuptools"]["dynamic"]["dependencies"] == {"file": ["requirements.txt"]}


def test_the_runtime_lock_holds_no_development_tool_and_the_set_is_consistent() -> None:
    """requirements.lock is what the image installs (resolved from requirements.txt alone); the tools
    of requirements-dev.txt are pinned in requirements-dev.lock only. pip check: every installed
    package's requirements are met (the image runs the same check on the runtime set)."""
    runtime, dev = _pins(LOCK), _pins(DEV_LOCK)
    tools = {"pytest", "ruff", "playwright", "aiosmtpd", "matplotlib", "moto", "mypy", "sqlfluff", "pre-commit"}
    assert not tools & set(runtime)
    assert {"pytest", "ruff", "playwright", "moto"} <= set(dev)
    assert not set(runtime) & set(dev)
    # The production stack's own parts are in the runtime set: Celery with its broker client, the
    # FAB auth manager, s3:// storage.
    assert {
        "apache-airflow-providers-celery",
        "celery",
        "kombu",
        "redis",
        "apache-airflow-providers-fab",
        "flask-appbuilder",
        "apache-airflow-providers-amazon",
        "s3fs",
    } <= set(runtime)
    check = subprocess.run([sys.executable, "-m", "pip", "check"], capture_output=True, text=True, check=False)
    assert check.returncode == 0, check.stdout + check.stderr
