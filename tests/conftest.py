"""Shared fixtures: scratch warehouse databases on the PostgreSQL that the test command started.

Run the suite through ``scripts/dev test``: it starts the local cluster (or uses the server of
AIRFLOW_CONN_WAREHOUSE_DB) and exports WAREHOUSE_ADMIN_URL, a role allowed to create databases.
Each test that writes gets its own database, copied from a template migrated once per session.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default as default_policy

import psycopg
import pytest
from aiosmtpd.controller import Controller
from psycopg import sql

from sap_warehouse.registry import reports
from sap_warehouse.scratch_db import admin_url, create_database, drop_database, migrate

# The tests write their files a moment before they run a DAG: no quiet period to wait for (the
# waiting itself is tested in test_landing with its own figure).
os.environ.setdefault("AIRFLOW_VAR_SAP_FILE_STABLE_SECONDS", "0")


@pytest.fixture(scope="session", autouse=True)
def _admin_server() -> None:
    try:
        admin_url()
    except RuntimeError as exc:
        pytest.exit(str(exc), returncode=2)


@pytest.fixture(scope="session")
def migrated_template() -> Iterator[str]:
    name = f"wh_template_{os.getpid()}"
    migrate(create_database(name))
    yield name
    drop_database(name)


@pytest.fixture
def empty_database() -> Iterator[str]:
    """Conninfo of a new database with nothing in it."""
    name = f"wh_empty_{uuid.uuid4().hex[:10]}"
    yield create_database(name)
    drop_database(name)


@pytest.fixture
def warehouse(migrated_template: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Conninfo of a fresh warehouse at the head migration; the warehouse connections (daily, owner,
    backup) point at it, so code under test (and DAG tasks run by dag.test) uses it."""
    name = f"wh_test_{uuid.uuid4().hex[:10]}"
    url = create_database(name, template=migrated_template)
    for variable in (
        "AIRFLOW_CONN_WAREHOUSE_DB",
        "AIRFLOW_CONN_WAREHOUSE_OWNER_DB",
        "AIRFLOW_CONN_WAREHOUSE_BACKUP_DB",
    ):
        monkeypatch.setenv(variable, url)
    yield url
    drop_database(name)


LOGINS = {  # login -> (the roles it is a member of, CREATEDB)
    "wh_test_loader": (("warehouse_loader",), False),
    "wh_test_backup": (("warehouse_backup", "warehouse_analyst"), True),
}


@pytest.fixture(scope="session")
def login_password() -> str:
    """Logins as the DAGs' connections are in production: members of their role, nothing else (no
    superuser, no CREATEROLE; CREATEDB for the backup, which verifies dumps in scratch databases)."""
    password = uuid.uuid4().hex
    with psycopg.connect(admin_url(), autocommit=True) as conn:
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


def login_url(warehouse: str, login: str, password: str) -> str:
    """The warehouse's URI for another login."""
    params = psycopg.conninfo.conninfo_to_dict(warehouse)
    address = f"{params.get('host', 'localhost')}:{params.get('port', 5432)}"
    return f"postgresql://{login}:{password}@{address}/{params['dbname']}"


@pytest.fixture
def as_loader(warehouse: str, login_password: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The warehouse, connected to as the loader role: AIRFLOW_CONN_WAREHOUSE_DB points at it, so the
    DAG tasks run with the daily DAG's privileges. Returns that URI (``warehouse`` stays the admin's)."""
    url = login_url(warehouse, "wh_test_loader", login_password)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", url)
    return url


@pytest.fixture
def as_backup(warehouse: str, login_password: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The warehouse, connected to as the backup role (AIRFLOW_CONN_WAREHOUSE_BACKUP_DB)."""
    url = login_url(warehouse, "wh_test_backup", login_password)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_BACKUP_DB", url)
    return url


class Inbox:
    """What a local SMTP server received: (recipients, parsed message) per mail."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default_policy)))
        return "250 OK"


def free_port() -> int:
    """A local TCP port nothing listens on (the system's choice)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


# Where a raw row came from (which file, which row of it, which date's delivery, its source cells)
# depends on the order files arrived in; what the row says must not.
PROVENANCE = ("source_file", "source_row", "business_date", "raw_data", "superseded_by")


def table_checksum(conn: psycopg.Connection, table: str, *, leave_out: tuple[str, ...] = ()) -> str:
    """md5 over a table's rows in a stable order, leaving out load timestamps and ``leave_out``."""
    return conn.execute(
        sql.SQL(
            "SELECT coalesce(md5(string_agg(x, ',' ORDER BY x)), 'empty') "
            "FROM (SELECT md5((to_jsonb(t) - {})::text) AS x FROM {} t) s"
        ).format(sql.Literal(["loaded_at", *leave_out]) + sql.SQL("::text[]"), sql.SQL(table))
    ).fetchone()[0]


RAW_TABLES = tuple(f"raw.{r.raw_table}" for r in reports().values())
WAREHOUSE_TABLES = (
    *RAW_TABLES,
    "dims.dim_material",
    "dims.dim_location",
    "dims.dim_movement_type",
    "dims.dim_date",
    "dims.dim_customer",
    "dims.dim_unit_conversion",
    "facts.fact_inventory",
    "facts.fact_billing",
    "facts.fact_production",
    "facts.fact_production_chain",
    "facts.fact_ar_aging",
    "marts.view_inventory_summary",
    "marts.view_sales_performance",
    "marts.view_production_yield",
    "marts.view_ar_aging",
)


def warehouse_checksums(conninfo: str) -> dict[str, str]:
    with psycopg.connect(conninfo) as conn:
        return {
            table: table_checksum(conn, table, leave_out=PROVENANCE if table in RAW_TABLES else ())
            for table in WAREHOUSE_TABLES
        }
