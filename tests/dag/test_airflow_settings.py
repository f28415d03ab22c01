"""scripts/apply_airflow_settings.py: the file's pools and variables into Airflow's metadata database;
with --only-missing (the compose stack's init, run at every `up`) what on-call edited stays."""

from __future__ import annotations

import importlib.util
import uuid
from pathlib import Path

import pytest
import yaml

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "apply_airflow_settings.py"


@pytest.fixture
def apply():
    spec = importlib.util.spec_from_file_location("apply_airflow_settings", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_only_missing_settings_are_applied_and_edits_stay(apply, tmp_path: Path, monkeypatch) -> None:
    from airflow.models.pool import Pool
    from airflow.models.variable import Variable

    tag = uuid.uuid4().hex[:8]
    edited, fresh, pool = f"test_edited_{tag}", f"test_fresh_{tag}", f"test_pool_{tag}"
    monkeypatch.setenv("SETTINGS_BASE", "/srv/sap")
    settings = tmp_path / "airflow_settings.yaml"
    settings.write_text(
        yaml.safe_dump(
            {
                "airflow": {
                    "pools": [{"pool_name": pool, "pool_slot": 4, "pool_description": "from the file"}],
                    "variables": [
                        {"variable_name": edited, "variable_value": "from the file"},
                        {"variable_name": fresh, "variable_value": "file://${SETTINGS_BASE}/landing"},
                    ],
                }
            }
        )
    )
    try:
        Variable.set(edited, "edited by on-call")
        Pool.create_or_update_pool(name=pool, slots=9, description="edited", include_deferred=False)

        apply([str(settings), "--only-missing"])
        assert Variable.get(edited) == "edited by on-call"
        assert Variable.get(fresh) == "file:///srv/sap/landing"
        assert Pool.get_pool(pool).slots == 9

        apply([str(settings)])  # the local environment: the file wins
        assert Variable.get(edited) == "from the file"
        assert Pool.get_pool(pool).slots == 4
    finally:
        for name in (edited, fresh):
            Variable.delete(name)
        Pool.delete_pool(pool)
