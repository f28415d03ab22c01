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
from urllib.parse import quote

import psycopg
import pytest
from alembic import command
from alembic.config import Config
from psycopg import sql

from sap_warehouse.db import sqlalchemy_url

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def admin_url() -> str:
    url = os.environ.get("WAREHOUSE_ADMIN_URL")
    if not url:
        pytest.fail("WAREHOUSE_ADMIN_URL is not set: run the suite with `scripts/dev test`")
    return url


def database_url(name: str) -> str:
    """URI of database ``name`` on the admin server (the form Airflow connections take)."""
    p = psycopg.conninfo.conninfo_to_dict(psycopg.conninfo.make_conninfo(admin_url(), dbname=name))
    auth = quote(str(p["user"]), safe="") + (":" + quote(str(p["password"]), safe="") if p.get("password") else "")
    return f"postgresql://{auth}@{p.get('host', 'localhost')}:{p.get('port', 5432)}/{name}"


def create_database(name: str, template: str | None = None) -> None:
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if template:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
            )
        else:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(name: str) -> None:
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def alembic_config(url: str) -> Config:
    cfg = Config(str(PROJECT_ROOT / "include" / "migrations" / "alembic.ini"))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return cfg


@pytest.fixture(scope="session")
def migrated_template() -> Iterator[str]:
    name = f"wh_template_{os.getpid()}"
    create_database(name)
    command.upgrade(alembic_config(database_url(name)), "head")
    yield name
    drop_database(name)


@pytest.fixture
def empty_database() -> Iterator[str]:
    """Conninfo of a new database with nothing in it."""
    name = f"wh_empty_{uuid.uuid4().hex[:10]}"
    create_database(name)
    yield database_url(name)
    drop_database(name)


@pytest.fixture
def warehouse(migrated_template: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Conninfo of a fresh warehouse at the head migration; AIRFLOW_CONN_WAREHOUSE_DB points at it,
    so code under test (and DAG tasks run by dag.test) uses it."""
    name = f"wh_test_{uuid.uuid4().hex[:10]}"
    create_database(name, template=migrated_template)
    url = database_url(name)
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_DB", url)
    yield url
    drop_database(name)


def table_checksum(conn: psycopg.Connection, table: str) -> str:
    """md5 over a table's rows in a stable order, leaving out load timestamps."""
    return conn.execute(
        sql.SQL(
            "SELECT coalesce(md5(string_agg(x, ',' ORDER BY x)), 'empty') "
            "FROM (SELECT md5((to_jsonb(t) - 'loaded_at')::text) AS x FROM {} t) s"
        ).format(sql.SQL(table))
    ).fetchone()[0]


WAREHOUSE_TABLES = (
    "raw.raw_mb51",
    "dims.dim_material",
    "dims.dim_location",
    "dims.dim_movement_type",
    "dims.dim_date",
    "facts.fact_inventory",
    "marts.view_inventory_summary",
)


def warehouse_checksums(conninfo: str) -> dict[str, str]:
    with psycopg.connect(conninfo) as conn:
        return {table: table_checksum(conn, table) for table in WAREHOUSE_TABLES}
