"""docker-compose.yaml describes the production-style stack (no Docker engine runs here, so it is
checked by reading it, with the anchors resolved as Compose resolves them; the scripts it runs are run)."""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((PROJECT_ROOT / "docker-compose.yaml").read_text())


def _uses(service: dict, variable: str) -> bool:
    """Whether the service's definition hands ``variable`` of .env to its container."""
    return re.search(r"\$\{" + variable + r"(?=[:}?-])", yaml.safe_dump(service)) is not None


def test_services_of_the_celery_stack(compose: dict) -> None:
    expected = {*AIRFLOW_SERVICES, "broker", "airflow-db", "warehouse-db", "airflow-log-groomer"}
    assert set(compose["services"]) == expected
    commands = {name: svc.get("command") for name, svc in compose["services"].items()}
    assert commands["airflow-apiserver"] == "api-server"
    assert commands["airflow-dag-processor"] == "dag-processor"
    assert commands["airflow-worker"] == "celery worker"
    assert compose["services"]["warehouse-db"]["image"] == "postgres:15"
    for name in AIRFLOW_SERVICES:
        service = compose["services"][name]
        targets = {v.split(":")[1] for v in service["volumes"]}
        assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/include"} <= targets, name
        assert service["environment"]["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name


def test_each_secret_reaches_only_the_services_that_use_it(compose: dict) -> None:
    """No env_file hands all of .env to every container: each password is interpolated into the services
    that need it. The tasks' logins only on the workers (the loader, the owner, the backup role); the
    reader on the api-server (the on-call page) and the dag-processor (the morning summary); the owner on
    init too (migrations); the admin passwords on what initialises."""
    services = compose["services"]
    airflow = set(AIRFLOW_SERVICES)
    expected = {
        "WAREHOUSE_ADMIN_PASSWORD": {"warehouse-db"},
        "WAREHOUSE_OWNER_PASSWORD": {"warehouse-db", "airflow-init", "airflow-worker"},
        "WAREHOUSE_DB_PASSWORD": {"warehouse-db", "airflow-worker"},
        "WAREHOUSE_BACKUP_PASSWORD": {"warehouse-db", "airflow-worker"},
        "WAREHOUSE_READER_PASSWORD": {"warehouse-db", "airflow-apiserver", "airflow-dag-processor"},
        "AIRFLOW_ADMIN_PASSWORD": {"airflow-init"},
        "AIRFLOW_DB_PASSWORD": {"airflow-db", *airflow},
        "BROKER_PASSWORD": {"broker", *airflow},
        "AIRFLOW_FERNET_KEY": airflow,
        "AIRFLOW_JWT_SECRET": airflow,
        "AIRFLOW_API_SECRET_KEY": airflow,
    }
    for variable, where in expected.items():
        assert {name for name, svc in services.items() if _uses(svc, variable)} == where, variable
    logins = {
        name: {
            key: re.match(r"postgresql://([^:]+):", value).group(1)
            for key, value in svc["environment"].items()
            if key.startswith("AIRFLOW_CONN_WAREHOUSE")
        }
        for name, svc in services.items()
        if name in airflow
    }
    assert logins == {
        "airflow-apiserver": {"AIRFLOW_CONN_WAREHOUSE_ANALYST_DB": "warehouse_reader"},
        "airflow-dag-processor": {"AIRFLOW_CONN_WAREHOUSE_ANALYST_DB": "warehouse_reader"},
        "airflow-init": {"AIRFLOW_CONN_WAREHOUSE_OWNER_DB": "warehouse_owner"},
        "airflow-scheduler": {},
        "airflow-triggerer": {},
        "airflow-worker": {
            "AIRFLOW_CONN_WAREHOUSE_DB": "warehouse_loader",
            "AIRFLOW_CONN_WAREHOUSE_OWNER_DB": "warehouse_owner",
            "AIRFLOW_CONN_WAREHOUSE_BACKUP_DB": "warehouse_backup",
        },
    }
    # Notifications (SMTP and Slack connections) in an optional file of their own, for who notifies.
    with_files = {name: svc["env_file"] for name, svc in services.items() if "env_file" in svc}
    assert set(with_files) == {"airflow-worker", "airflow-dag-processor", "airflow-triggerer"}
    for files in with_files.values():
        assert files == [{"path": "./notifications.env", "required": False}]
    ignored = (PROJECT_ROOT / ".gitignore").read_text().split()
    assert {".env", "notifications.env"} <= set(ignored)
    example = (PROJECT_ROOT / "notifications.env.example").read_text()
    assert "AIRFLOW_CONN_WAREHOUSE_SMTP" in example
    assert "AIRFLOW_CONN_WAREHOUSE_SMTP" not in (PROJECT_ROOT / ".env.example").read_text()


def test_no_secret_is_written_in_the_file() -> None:
    text = (PROJECT_ROOT / "docker-compose.yaml").read_text()
    keys = re.findall(r"^\s*([A-Z_]*(?:PASSWORD|SECRET|FERNET_KEY)[A-Z_]*):\s*(\S+)", text, re.MULTILINE)
    assert len(keys) >= 8, "the stack has secrets; they must be found to be checked"
    for key, value in keys:
        assert value.startswith("${"), f"{key} must come from .env"
    for password in re.findall(r"://[^@\s/]*:([^@\s/]+)@", text):
        assert password.startswith("${"), f"password in a URL must come from .env: {password}"


def test_the_warehouse_database_collates_in_byte_order_and_makes_four_logins(compose: dict) -> None:
    """docs/decisions/0016-c-collation.md. The image's superuser only initialises the volume."""
    database = compose["services"]["warehouse-db"]
    assert "--lc-collate=C" in database["environment"]["POSTGRES_INITDB_ARGS"].split()
    assert database["environment"]["POSTGRES_USER"] == "warehouse_admin"
    init = (PROJECT_ROOT / "scripts" / "warehouse_db_roles.sh").read_text()
    assert any(v.endswith("/docker-entrypoint-initdb.d/10-warehouse-roles.sh:ro") for v in database["volumes"])
    for login in ("warehouse_owner", "warehouse_loader", "warehouse_backup", "warehouse_reader"):
        assert f"CREATE ROLE {login} LOGIN" in init
    assert "ALTER DATABASE warehouse OWNER TO warehouse_owner" in init
    assert "GRANT warehouse_analyst TO warehouse_backup, warehouse_reader" in init  # read-only, both


def test_the_warehouse_database_is_tuned_and_stops_cleanly(compose: dict) -> None:
    database = compose["services"]["warehouse-db"]
    settings = dict(arg.split("=", 1) for arg in database["command"][1:] if arg != "-c")  # postgres -c name=value ...
    assert database["command"][0] == "postgres"
    assert settings["shared_preload_libraries"] == "pg_stat_statements"
    assert {"shared_buffers", "effective_cache_size", "work_mem", "maintenance_work_mem"} <= set(settings)
    assert database["shm_size"] == "${WAREHOUSE_DB_SHM_SIZE:-2gb}"  # Docker's 64 MB fails parallel hash joins
    assert database["stop_grace_period"] == "2m"


def test_ports_are_bound_to_this_host_only(compose: dict) -> None:
    """Users reach the UI through the TLS proxy docs/production.md describes; psql through this host."""
    published = {name: svc["ports"] for name, svc in compose["services"].items() if "ports" in svc}
    assert set(published) == {"airflow-apiserver", "warehouse-db"}
    for name, ports in published.items():
        for port in ports:
            assert port.startswith("127.0.0.1:"), (name, port)
    guide = (PROJECT_ROOT / "docs" / "production.md").read_text()
    assert "reverse_proxy 127.0.0.1:8080" in guide


def test_a_real_auth_manager_with_per_person_logins(compose: dict) -> None:
    """FAB: the first admin from .env, made by init; on-call people get Viewer or Op logins. The on-call
    page asks the auth manager for GET (read) and PUT (edit) on the daily DAG: FAB maps them to
    can_read and can_edit on DAGs, which Viewer has (read) and Op has (both)."""
    from airflow.providers.fab.auth_manager.fab_auth_manager import FabAuthManager
    from airflow.providers.fab.auth_manager.security_manager.override import FabAirflowSecurityManagerOverride
    from airflow.providers.fab.www.security import permissions

    env = compose["x-airflow-common"]["environment"]
    assert env["AIRFLOW__CORE__AUTH_MANAGER"] == "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
    assert not any(
        "SIMPLE_AUTH_MANAGER" in key for svc in compose["services"].values() for key in svc.get("environment", {})
    )
    script = compose["services"]["airflow-init"]["command"][1]
    assert 'airflow users create --role Admin --username "$${AIRFLOW_ADMIN_USER}"' in script

    assert FabAuthManager._get_fab_action("GET") == permissions.ACTION_CAN_READ
    assert FabAuthManager._get_fab_action("PUT") == permissions.ACTION_CAN_EDIT
    roles = {role["role"]: set(role["perms"]) for role in FabAirflowSecurityManagerOverride.ROLE_CONFIGS}
    read, edit = (
        (permissions.ACTION_CAN_READ, permissions.RESOURCE_DAG),
        (permissions.ACTION_CAN_EDIT, permissions.RESOURCE_DAG),
    )
    assert read in roles["Viewer"]
    assert edit not in roles["Viewer"]
    assert {read, edit} <= roles["Op"]


def test_init_never_changes_the_owner_of_a_host_folder_and_checks_it_can_write(compose: dict) -> None:
    """The landing zone and the storage folder belong to the people who drop files there: init hands
    only the named volumes' folders to AIRFLOW_UID (not recursively into bind mounts) and stops early,
    naming the folder and the fix, if AIRFLOW_UID cannot write to them."""
    init = compose["services"]["airflow-init"]
    assert init["user"] == "0:0"
    lines = [line.strip() for line in init["command"][1].splitlines() if line.strip()]
    assert lines[0] == "set -euo pipefail"
    chowns = [line for line in lines if "chown" in line]
    assert chowns == ['chown "${AIRFLOW_UID}:0" /opt/airflow/data /opt/airflow/data/data_docs /opt/airflow/logs']
    check = next(i for i, line in enumerate(lines) if "check_storage.sh" in line)
    assert check < next(i for i, line in enumerate(lines) if line.startswith("airflow db migrate"))
    assert "/opt/airflow/data/landing" in lines[check + 1] + lines[check]
    assert "/opt/airflow/storage" in lines[check + 1]
    assert compose["x-airflow-common"]["user"].startswith("${AIRFLOW_UID:?")


@pytest.fixture
def folders() -> Path:
    top = Path(tempfile.mkdtemp(prefix="storage-check-", dir="/tmp"))
    top.chmod(0o755)
    yield top
    shutil.rmtree(top)


def test_the_storage_check_names_a_folder_the_airflow_user_cannot_write(folders: Path) -> None:
    script = PROJECT_ROOT / "scripts" / "check_storage.sh"
    mine, theirs = folders / "landing", folders / "storage"
    mine.mkdir()
    theirs.mkdir()
    uid = 65534 if os.geteuid() == 0 else os.geteuid()
    if os.geteuid() == 0:
        os.chown(mine, uid, 0)  # the dropping user's folder; `theirs` stays root's
    else:
        theirs.chmod(0o555)

    def check(*paths: Path, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["bash", str(script), str(uid), *map(str, paths)],
            capture_output=True,
            text=True,
            check=False,
            env={"PATH": os.environ["PATH"], **env},
        )

    assert check(mine).returncode == 0
    refused = check(mine, theirs)
    assert refused.returncode == 1
    assert f"uid {uid}" in refused.stderr
    assert f"cannot create and remove files in {theirs}" in refused.stderr
    assert "SAP_LANDING_GID" in refused.stderr
    assert list(mine.iterdir()) == [], "the probe file is removed"
    if os.geteuid() == 0:  # a group both share: the folder's group, given as SAP_LANDING_GID
        os.chown(theirs, 0, 4242)
        theirs.chmod(0o2775)
        assert check(theirs, SAP_LANDING_GID="4242").returncode == 0
        assert check(theirs).returncode == 1


def test_archive_quarantine_and_backups_are_off_the_database_volumes(compose: dict) -> None:
    """`docker compose down -v` removes named volumes: the database's, never the archive or backups,
    which default to a host folder (SAP_STORAGE_DIR, meant for another disk) or s3://."""
    env = compose["x-airflow-common"]["environment"]
    for variable in (
        "AIRFLOW_VAR_SAP_ARCHIVE_PATH",
        "AIRFLOW_VAR_SAP_QUARANTINE_PATH",
        "AIRFLOW_VAR_WAREHOUSE_BACKUP_PATH",
    ):
        assert re.fullmatch(r"\$\{[A-Z_]+:-file:///opt/airflow/storage/\w+\}", env[variable]), variable
    for name in AIRFLOW_SERVICES:
        mounts = dict(v.rsplit(":", 1)[::-1] for v in compose["services"][name]["volumes"])
        assert mounts["/opt/airflow/storage"].startswith("${SAP_STORAGE_DIR:?"), name
        assert mounts["/opt/airflow/data/landing"] == "${SAP_LANDING_DIR:-./landing}", name
    assert "SAP_STORAGE_DIR=" in (PROJECT_ROOT / ".env.example").read_text()
    assert "./landing/<business date>/" in (PROJECT_ROOT / "docs" / "production.md").read_text()


def test_workers_shut_down_warm_logs_are_kept_and_trimmed(compose: dict) -> None:
    services = compose["services"]
    worker = services["airflow-worker"]
    assert worker["environment"]["DUMB_INIT_SETSID"] == "0"
    assert worker["stop_grace_period"] == "${AIRFLOW_WORKER_STOP_GRACE:-30m}"
    for name, service in services.items():
        assert service["logging"]["options"] == {"max-size": "20m", "max-file": "5"}, name
    for name in AIRFLOW_SERVICES:
        assert "airflow-logs:/opt/airflow/logs" in services[name]["volumes"], name
    groomer = services["airflow-log-groomer"]
    assert (
        "find /opt/airflow/logs -type f -name '*.log' -mtime \"+$${AIRFLOW_LOG_RETENTION_DAYS}\" -delete"
        in (groomer["command"][1])
    )
    assert groomer["environment"] == {"AIRFLOW_LOG_RETENTION_DAYS": "${AIRFLOW_LOG_RETENTION_DAYS:-30}"}


def test_the_broker_is_under_a_permissive_licence(compose: dict) -> None:
    broker = compose["services"]["broker"]
    assert broker["image"].startswith("valkey/valkey:")
    assert "broker:6379" in compose["x-airflow-common"]["environment"]["AIRFLOW__CELERY__BROKER_URL"]


def test_every_long_running_component_has_a_health_check(compose: dict) -> None:
    services = compose["services"]
    checks = {name: " ".join(services[name]["healthcheck"]["test"]) for name in AIRFLOW_SERVICES[:-1]}
    assert "http://localhost:8080/api/v2/version" in checks["airflow-apiserver"]
    assert "http://localhost:8974/health" in checks["airflow-scheduler"]
    assert compose["x-airflow-common"]["environment"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "true"
    assert "airflow jobs check --job-type DagProcessorJob" in checks["airflow-dag-processor"]
    assert "airflow jobs check --job-type TriggererJob" in checks["airflow-triggerer"]
    assert "inspect ping" in checks["airflow-worker"]


def test_on_call_edits_of_variables_and_pools_survive_an_up(compose: dict) -> None:
    script = compose["services"]["airflow-init"]["command"][1]
    assert "apply_airflow_settings.py /opt/airflow/airflow_settings.yaml --only-missing" in script


def test_the_build_context_holds_only_what_the_image_copies() -> None:
    """No .venv, .local (the local cluster, backups, the password file), .env, landing zone, tests or
    development kit in what `docker build` sends: the context .dockerignore lets through is the package,
    its requirements and their lock, and the image builds from it (tests/image/test_image.py runs its steps)."""
    from tests.image.test_image import context_files

    sent = {path.relative_to(PROJECT_ROOT).parts[0] for path in context_files()}
    assert sent == {"requirements.txt", "requirements.lock", "pyproject.toml", "src"}
    assert not [p for p in context_files() if p.suffix == ".pyc" or ".egg-info" in str(p)]
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert "requirements-dev" not in dockerfile
