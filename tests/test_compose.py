"""docker-compose.yaml describes the production-style stack (no Docker engine runs here, so it is
checked by reading it)."""

import json
import re
import shutil
import stat
import subprocess
import sys
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
        if key.endswith("_FILE"):
            continue  # where a secret is kept, not the secret
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


AIRFLOW_SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
                    "airflow-worker", "airflow-init")  # fmt: skip


def test_init_runs_as_root_and_hands_the_data_volume_to_the_airflow_user(compose: dict) -> None:
    """Without it the data volume is created root-owned and the first archive, quarantine or backup
    write of a task fails."""
    init = compose["services"]["airflow-init"]
    assert init["user"] == "0:0"
    script = init["command"][1]
    lines = [line.strip() for line in script.splitlines() if line.strip()]
    assert lines[0] == "set -euo pipefail"
    made = " ".join(lines[1:3])
    for folder in ("landing", "archive", "quarantine", "backups", "data_docs"):
        assert f"/opt/airflow/data/{folder}" in made
    # Last, after everything that may write there as root: the data, logs and config to the Airflow user.
    assert lines[-1] == 'chown -R "${AIRFLOW_UID:-50000}:0" /opt/airflow/data /opt/airflow/logs /opt/airflow/config'
    assert compose["x-airflow-common"]["user"] == "${AIRFLOW_UID:-50000}:0"


def test_on_call_edits_of_variables_and_pools_survive_an_up(compose: dict) -> None:
    script = compose["services"]["airflow-init"]["command"][1]
    assert "apply_airflow_settings.py /opt/airflow/airflow_settings.yaml --only-missing" in script


def test_the_landing_zone_is_a_host_folder_users_drop_files_into(compose: dict) -> None:
    landing = "${SAP_LANDING_DIR:-./landing}:/opt/airflow/data/landing"
    for name in AIRFLOW_SERVICES:
        assert landing in compose["services"][name]["volumes"], name
    assert "SAP_LANDING_DIR=./landing" in (PROJECT_ROOT / ".env.example").read_text()
    assert "/landing/" in (PROJECT_ROOT / ".gitignore").read_text().split()
    assert "./landing/<business date>/" in (PROJECT_ROOT / "README.md").read_text()


def test_an_admin_login_comes_from_env(compose: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = compose["x-airflow-common"]["environment"]
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "${AIRFLOW_ADMIN_USER:-admin}:admin"
    passwords = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    assert passwords.startswith("/opt/airflow/config/")
    init = compose["services"]["airflow-init"]
    assert init["environment"]["AIRFLOW_ADMIN_PASSWORD"] == "${AIRFLOW_ADMIN_PASSWORD:?set in .env}"  # noqa: S105 a reference
    assert "python /opt/airflow/scripts/write_admin_password.py" in init["command"][1]
    example = (PROJECT_ROOT / ".env.example").read_text()
    assert "AIRFLOW_ADMIN_USER=admin" in example
    assert "AIRFLOW_ADMIN_PASSWORD=" in example

    # The script init runs, run here: the simple auth manager's file, readable by its owner only.
    target = tmp_path / "config" / "passwords.json"
    monkeypatch.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE", str(target))
    monkeypatch.setenv("AIRFLOW_ADMIN_USER", "plant-admin")
    monkeypatch.setenv("AIRFLOW_ADMIN_PASSWORD", "s3cret-from-env")
    script = str(PROJECT_ROOT / "scripts" / "write_admin_password.py")
    subprocess.run([sys.executable, script], check=True)
    assert json.loads(target.read_text()) == {"plant-admin": "s3cret-from-env"}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    monkeypatch.setenv("AIRFLOW_ADMIN_PASSWORD", "")
    refused = subprocess.run([sys.executable, script], capture_output=True, text=True, check=False)
    assert refused.returncode != 0
    assert "AIRFLOW_ADMIN_PASSWORD is empty: set it in .env" in refused.stderr


def test_every_long_running_component_has_a_health_check(compose: dict) -> None:
    services = compose["services"]
    checks = {name: " ".join(services[name]["healthcheck"]["test"]) for name in AIRFLOW_SERVICES[:-1]}
    assert "http://localhost:8080/api/v2/version" in checks["airflow-apiserver"]
    assert "http://localhost:8974/health" in checks["airflow-scheduler"]
    assert compose["x-airflow-common"]["environment"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    assert "airflow jobs check --job-type DagProcessorJob" in checks["airflow-dag-processor"]
    assert "airflow jobs check --job-type TriggererJob" in checks["airflow-triggerer"]
    assert "inspect ping" in checks["airflow-worker"]


def test_workers_shut_down_warm_and_every_component_logs_to_a_volume(compose: dict) -> None:
    worker = compose["services"]["airflow-worker"]
    assert worker["environment"]["DUMB_INIT_SETSID"] == "0"
    assert worker["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"  # the common environment too
    for name in AIRFLOW_SERVICES:
        assert "airflow-logs:/opt/airflow/logs" in compose["services"][name]["volumes"], name
    assert "airflow-logs" in compose["volumes"]
    assert (
        compose["x-airflow-common"]["environment"]["AIRFLOW__API__BASE_URL"]
        == "${AIRFLOW_BASE_URL:-http://localhost:8080}"
    )


def test_the_build_context_holds_only_what_the_image_copies() -> None:
    """No .venv, .local (the local cluster, backups, the password file), .env or landing zone in it."""
    rules = [line for line in (PROJECT_ROOT / ".dockerignore").read_text().splitlines() if line and line[0] != "#"]
    assert rules[0] == "*"
    sent = {rule[1:].rstrip("/") for rule in rules[1:] if rule.startswith("!")}
    copied = set()
    for line in (PROJECT_ROOT / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            copied.update(line.split()[1:-1])
    assert copied == sent == {"requirements.txt", "requirements.lock", "pyproject.toml", "src"}
    assert "src/*.egg-info" in rules[1:]  # what an editable install leaves there stays out too


def test_the_image_installs_the_package_and_no_development_tools() -> None:
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir -r /build/requirements.txt -c /build/requirements.lock" in dockerfile
    assert "pip install --no-cache-dir --no-deps /build" in dockerfile  # src/sap_warehouse, by pyproject.toml
    assert "ENV SAP_WAREHOUSE_ROOT=/opt/airflow" in dockerfile  # where include/ is mounted
    assert "requirements-dev" not in dockerfile
    assert "devkit" not in dockerfile
    runtime = {
        line.split("==")[0].split("[")[0].lower()
        for line in (PROJECT_ROOT / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    assert not runtime & {"pytest", "ruff", "aiosmtpd", "playwright", "matplotlib"}
    assert "-r requirements.txt" in (PROJECT_ROOT / "requirements-dev.txt").read_text().splitlines()


def test_docker_compose_accepts_the_file_where_docker_compose_exists(tmp_path: Path) -> None:
    """`docker compose config` validates the file against Compose's schema; this machine has the docker
    client without its compose plugin, so here the YAML anchors are checked to have resolved instead."""
    compose_available = (
        shutil.which("docker") is not None
        and subprocess.run(["docker", "compose", "version"], capture_output=True, check=False).returncode == 0
    )
    if compose_available:
        env = tmp_path / ".env"
        example = (PROJECT_ROOT / ".env.example").read_text()
        env.write_text(re.sub(r"^([A-Z_]+)=$", r"\1=x", example, flags=re.MULTILINE))
        command = ["docker", "compose", "--env-file", str(env), "-f", str(PROJECT_ROOT / "docker-compose.yaml")]
        result = subprocess.run([*command, "config", "-q"], capture_output=True, text=True, check=False, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yaml").read_text())
    for name in AIRFLOW_SERVICES:
        assert all(isinstance(volume, str) for volume in compose["services"][name]["volumes"]), name
        assert isinstance(compose["services"][name]["environment"], dict), name
