"""Scratch warehouse databases for tests and benchmarks.

Creates and drops databases on the server of WAREHOUSE_ADMIN_URL (a role allowed to create
databases; scripts/dev exports it for the local cluster) and migrates them with the project's
Alembic migrations. Never touches the warehouse database itself. ``create_warehouse`` builds one
the way scripts/dev and the compose stack build the real one: owned by warehouse_owner, with the
pg_stat_statements extension (created by the superuser), migrated as warehouse_owner; a copy of a
database (``template``) keeps its owner.
"""

from __future__ import annotations

import os
from urllib.parse import quote

import psycopg
from alembic import command
from alembic.config import Config
from psycopg import sql

from sap_warehouse.core.db import sqlalchemy_url
from sap_warehouse.core.registry import PROJECT_ROOT


def admin_url() -> str:
    url = os.environ.get("WAREHOUSE_ADMIN_URL")
    if not url:
        raise RuntimeError("WAREHOUSE_ADMIN_URL is not set: run through `scripts/dev` (test, exec)")
    return url


def database_url(name: str) -> str:
    """URI of database ``name`` on the admin server (the form Airflow connections take)."""
    p = psycopg.conninfo.conninfo_to_dict(psycopg.conninfo.make_conninfo(admin_url(), dbname=name))
    auth = quote(str(p["user"]), safe="") + (":" + quote(str(p["password"]), safe="") if p.get("password") else "")
    return f"postgresql://{auth}@{p.get('host', 'localhost')}:{p.get('port', 5432)}/{name}"


OWNER_ROLE = "warehouse_owner"
# The roles scripts/dev and scripts/warehouse_db_roles.sh make (there as logins with passwords);
# made here, without a login, only on a server that lacks them.
WAREHOUSE_ROLES = ("warehouse_owner", "warehouse_loader", "warehouse_backup", "warehouse_reader", "warehouse_analyst")


def create_database(
    name: str, template: str | None = None, *, file_copy: bool = False, owner: str | None = None
) -> str:
    """(Re)create database ``name``, empty or as a copy of ``template`` (owned by the template's owner);
    returns its URI. ``file_copy`` copies the template's files instead of writing every block to the
    WAL: much faster for a big one."""
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if template:
            owner = (
                owner
                or conn.execute(
                    "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s", (template,)
                ).fetchone()[0]
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}{}").format(
                    sql.Identifier(name),
                    sql.Identifier(template),
                    sql.Identifier(owner),
                    sql.SQL(" STRATEGY FILE_COPY" if file_copy else ""),
                )
            )
        else:
            # Byte-order collation, as the warehouse database has (docs/decisions/0016-c-collation.md).
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE template0 LC_COLLATE 'C'{}").format(
                    sql.Identifier(name), sql.SQL(" OWNER {}").format(sql.Identifier(owner)) if owner else sql.SQL("")
                )
            )
    return database_url(name)


def create_warehouse(name: str) -> str:
    """A migrated warehouse database made as scripts/dev makes the real one; returns its (admin) URI."""
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        for role in WAREHOUSE_ROLES:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(role)))
    url = create_database(name, owner=OWNER_ROLE)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET client_min_messages = warning")
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    migrate(url, role=OWNER_ROLE)
    return url


def drop_database(name: str) -> None:
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def alembic_config(url: str) -> Config:
    cfg = Config(str(PROJECT_ROOT / "include" / "migrations" / "alembic.ini"))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head", *, role: str | None = None) -> None:
    """Upgrade the database of ``url`` to ``revision``; as ``role`` (SET ROLE at connection start,
    so every object is that role's) when given."""
    if role:
        params = psycopg.conninfo.conninfo_to_dict(url)
        params["options"] = f"{params.get('options', '')} -c role={role}".strip()
        url = psycopg.conninfo.make_conninfo(**params)
    command.upgrade(alembic_config(url), revision)
