"""Shared fixtures: scratch warehouse databases on the PostgreSQL that the test command started.

Run the suite through ``scripts/dev test``: it starts the local cluster (or uses the server of
AIRFLOW_CONN_WAREHOUSE_DB) and exports WAREHOUSE_ADMIN_URL, a role allowed to create databases.
Each test that writes gets its own database, copied from a template migrated once per session.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

# Airflow sets up logging (the root logger's handlers replaced) when it is first imported: here, at
# collection, so that no test's log capture loses its handler to a first import inside the test.
import airflow.configuration  # noqa: F401
import psycopg
import pytest
from aiosmtpd.controller import Controller
from psycopg import sql

from sap_warehouse.core.registry import PROJECT_ROOT
from sap_warehouse_kit.scratch_db import admin_url, create_database, create_warehouse, drop_database
from tests.helpers import Inbox, free_port, login_url

# The tests write their files a moment before they run a DAG: no quiet period to wait for (the
# waiting itself is tested in test_landing with its own figure).
os.environ.setdefault("AIRFLOW_VAR_SAP_FILE_STABLE_SECONDS", "0")
# Nor for an unfinished workbook (the generated truncated exports are just that): a test that means
# a writer paused sets its own figure.
os.environ.setdefault("AIRFLOW_VAR_SAP_FILE_GIVE_UP_MINUTES", "0")


# Test tiers (docs/commands.md): a test lives in the folder of its tier, which marks it: unit (pure
# Python: no PostgreSQL, no Airflow metadata database), db (scratch warehouse databases), dag (DAGs run
# or parsed through Airflow), scheduler (a real scheduler and api-server), browser (headless Chromium on
# the local Airflow), image (the Dockerfile's steps, emulated). `scripts/dev test -m unit` runs the first.
TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "db", "dag", "scheduler", "browser", "image")
DATABASE_FIXTURES = {"admin_server", "migrated_template", "empty_database", "warehouse", "login_password"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        tier = Path(str(item.path)).resolve().relative_to(TESTS).parts[0]
        if tier not in TIERS:
            raise pytest.UsageError(f"{item.nodeid}: a test lives in its tier's folder, tests/<{'|'.join(TIERS)}>/")
        if tier == "unit" and DATABASE_FIXTURES & set(item.fixturenames):
            raise pytest.UsageError(f"{item.nodeid} asks for a database: it belongs in tests/db/, not tests/unit/")
        item.add_marker(tier)


@pytest.fixture(scope="session")
def admin_server() -> str:
    """The URI of a role that may create databases on the server the test command started."""
    try:
        return admin_url()
    except RuntimeError as exc:
        pytest.exit(str(exc), returncode=2)


@pytest.fixture(scope="session")
def migrated_template(admin_server: str) -> Iterator[str]:
    """A warehouse as scripts/dev and the compose stack make it (owner, extension, migrations run as
    the owner); every ``warehouse`` is a copy of it."""
    name = f"wh_template_{os.getpid()}"
    create_warehouse(name)
    yield name
    drop_database(name)


@pytest.fixture
def empty_database(admin_server: str) -> Iterator[str]:
    """Conninfo of a new database with nothing in it."""
    name = f"wh_empty_{uuid.uuid4().hex[:10]}"
    yield create_database(name)
    drop_database(name)


@pytest.fixture
def warehouse(migrated_template: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Conninfo of a fresh warehouse at the head migration; the warehouse connections (daily, owner,
    backup, analyst) point at it, so code under test (and DAG tasks run by dag.test) uses it."""
    name = f"wh_test_{uuid.uuid4().hex[:10]}"
    url = create_database(name, template=migrated_template)
    for variable in (
        "AIRFLOW_CONN_WAREHOUSE_DB",
        "AIRFLOW_CONN_WAREHOUSE_OWNER_DB",
        "AIRFLOW_CONN_WAREHOUSE_BACKUP_DB",
        "AIRFLOW_CONN_WAREHOUSE_ANALYST_DB",
    ):
        monkeypatch.setenv(variable, url)
    yield url
    drop_database(name)


LOGINS = {  # login -> (the roles it is a member of, CREATEDB)
    "wh_test_owner": (("warehouse_owner",), True),
    "wh_test_loader": (("warehouse_loader",), False),
    "wh_test_backup": (("warehouse_backup", "warehouse_analyst"), True),
    "wh_test_analyst": (("warehouse_analyst",), False),
}


@pytest.fixture(scope="session")
def login_password(admin_server: str) -> str:
    """Logins as the DAGs' connections are in production: members of their role, nothing else (no
    superuser, no CREATEROLE; CREATEDB for the backup, which verifies dumps in scratch databases, and
    the owner, which restores a whole backup)."""
    password = uuid.uuid4().hex
    with psycopg.connect(admin_server, autocommit=True) as conn:
        for login, (roles, createdb) in LOGINS.items():
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (login,)).fetchone()
            conn.execute(
                sql.SQL("{} ROLE {} LOGIN NOSUPERUSER NOCREATEROLE {} PASSWORD {}").format(
                    sql.SQL("ALTER" if exists else "CREATE"),
                    sql.Identifier(login),
                    sql.SQL("CREATEDB" if createdb else "NOCREATEDB"),
                    sql.Literal(password),
                )
            )
            for role in roles:
                conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(role), sql.Identifier(login)))
    return password


@pytest.fixture
def as_loader(warehouse: str, login_password: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The warehouse, connected to as the loader role: AIRFLOW_CONN_WAREHOUSE_DB points at it, so the
    DAG tasks run with the daily DAG's privileges. Returns that URI (``warehouse`` stays the admin's)."""
    url = login_url(warehouse, "wh_test_loader", login_password)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", url)
    return url


@pytest.fixture
def as_owner(warehouse: str, login_password: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The warehouse, connected to as a member of the owner role (AIRFLOW_CONN_WAREHOUSE_OWNER_DB:
    migrations, maintenance, retention, a whole restore)."""
    url = login_url(warehouse, "wh_test_owner", login_password)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_OWNER_DB", url)
    return url


@pytest.fixture
def as_backup(warehouse: str, login_password: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The warehouse, connected to as the backup role (AIRFLOW_CONN_WAREHOUSE_BACKUP_DB)."""
    url = login_url(warehouse, "wh_test_backup", login_password)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_BACKUP_DB", url)
    return url


@pytest.fixture
def as_analyst(warehouse: str, login_password: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The warehouse, connected to as a member of the read-only analyst role (the on-call page's
    AIRFLOW_CONN_WAREHOUSE_ANALYST_DB)."""
    url = login_url(warehouse, "wh_test_analyst", login_password)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_ANALYST_DB", url)
    return url


@pytest.fixture
def inbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    """A real SMTP server on a free local port (aiosmtpd), configured as the connection warehouse_smtp;
    alerts go to oncall@plant.example."""
    port = free_port()
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE_SMTP", f"smtp://127.0.0.1:{port}/?disable_ssl=true&disable_tls=true&timeout=10"
    )
    monkeypatch.setenv("AIRFLOW_VAR_WAREHOUSE_ALERT_EMAILS", "oncall@plant.example")
    yield handler
    controller.stop()


@pytest.fixture
def landing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_loader: str) -> Path:
    """The landing zone of a daily run's files (expected reports: MB51 and ZRSD002; archive, quarantine
    and the Data Docs site beside it); every DAG run of the test connects as the loader role."""
    root = tmp_path / "landing"
    monkeypatch.setenv("AIRFLOW_VAR_SAP_LANDING_PATH", f"file://{root}")
    monkeypatch.setenv("AIRFLOW_VAR_SAP_QUARANTINE_PATH", f"file://{tmp_path / 'quarantine'}")
    monkeypatch.setenv("AIRFLOW_VAR_SAP_ARCHIVE_PATH", f"file://{tmp_path / 'archive'}")
    monkeypatch.setenv("AIRFLOW_VAR_WAREHOUSE_DATA_DOCS_PATH", f"file://{tmp_path / 'data_docs'}")
    monkeypatch.setenv("AIRFLOW_VAR_SAP_EXPECTED_REPORTS", "mb51,zrsd002")
    return root


@pytest.fixture(scope="module")
def daily_dag():
    """The daily DAG as the DAG processor loads it."""
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    assert "sap_warehouse_daily" in bag.dag_ids
    return bag.get_dag("sap_warehouse_daily")
