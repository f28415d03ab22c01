"""docker-compose.yaml describes the production-style stack (no Docker engine runs here, so it is
checked by reading it)."""

import re
from pathlib import Path

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "docker-compose.yaml").read_text())


def test_services_of_the_celery_stack(compose: dict) -> None:
    expected = {"airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                "airflow-worker", "airflow-init", "redis", "airflow-db", "warehouse-db"}  # fmt: skip
    assert expected <= set(compose["services"])
    commands = {name: svc.get("command") for name, svc in compose["services"].items()}
    assert commands["airflow-apiserver"] == "api-server"
    assert commands["airflow-dag-processor"] == "dag-processor"
    assert commands["airflow-worker"] == "celery worker"
    assert compose["services"]["warehouse-db"]["image"] == "postgres:15"


def test_airflow_services_mount_the_project_and_run_celery(compose: dict) -> None:
    for name, svc in compose["services"].items():
        if not name.startswith("airflow-") or name == "airflow-db":
            continue
        targets = {v.split(":")[1] for v in svc["volumes"]}
        assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/include"} <= targets, name
        assert svc["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert svc["env_file"] == ".env", name
        assert "AIRFLOW_CONN_WAREHOUSE_DB" in svc["environment"], name


def test_no_secret_is_written_in_the_file() -> None:
    text = (PROJECT_ROOT / "docker-compose.yaml").read_text()
    keys = re.findall(r"^\s*([A-Z_]*(?:PASSWORD|SECRET|FERNET_KEY)[A-Z_]*):\s*(\S+)", text, re.MULTILINE)
    assert keys, "the stack has secrets; they must be found to be checked"
    for key, value in keys:
        assert value.startswith("${"), f"{key} must come from .env"
    for url in re.findall(r"://[^@\s]*:([^@\s]+)@", text):
        assert url.startswith("${"), f"password in a URL must come from .env: {url}"
    assert ".env" in (PROJECT_ROOT / ".gitignore").read_text().split()


def test_the_image_has_the_postgresql_15_client_for_backups() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert "postgresql-client-15" in dockerfile
    assert "WAREHOUSE_PG_BIN_DIR=/usr/lib/postgresql/15/bin" in dockerfile


def test_the_warehouse_database_collates_in_byte_order(compose: dict) -> None:
    """README, Decisions: the warehouse is created with C collation."""
    args = compose["services"]["warehouse-db"]["environment"]["POSTGRES_INITDB_ARGS"].split()
    assert "--lc-collate=C" in args


def test_the_dags_and_the_page_connect_with_four_logins_none_of_them_the_superuser(compose: dict) -> None:
    """README, Production stack: roles. The image's superuser only initialises the volume."""
    env = compose["x-airflow-common"]["environment"]
    logins = {
        variable: re.match(r"postgresql://([^:]+):", env[variable]).group(1)
        for variable in (
            "AIRFLOW_CONN_WAREHOUSE_DB",
            "AIRFLOW_CONN_WAREHOUSE_OWNER_DB",
            "AIRFLOW_CONN_WAREHOUSE_BACKUP_DB",
            "AIRFLOW_CONN_WAREHOUSE_ANALYST_DB",
        )
    }
    assert logins == {
        "AIRFLOW_CONN_WAREHOUSE_DB": "warehouse_loader",
        "AIRFLOW_CONN_WAREHOUSE_OWNER_DB": "warehouse_owner",
        "AIRFLOW_CONN_WAREHOUSE_BACKUP_DB": "warehouse_backup",
        "AIRFLOW_CONN_WAREHOUSE_ANALYST_DB": "warehouse_reader",
    }
    database = compose["services"]["warehouse-db"]
    assert database["environment"]["POSTGRES_USER"] not in logins.values()
    init = (PROJECT_ROOT / "scripts" / "warehouse_db_roles.sh").read_text()
    assert any(v.endswith("/docker-entrypoint-initdb.d/10-warehouse-roles.sh:ro") for v in database["volumes"])
    for login in logins.values():
        assert f"CREATE ROLE {login} LOGIN" in init
    assert "ALTER DATABASE warehouse OWNER TO warehouse_owner" in init
    assert "GRANT warehouse_analyst TO warehouse_backup, warehouse_reader" in init  # read-only, both
