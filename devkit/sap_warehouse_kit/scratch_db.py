"""Scratch warehouse databases for tests and benchmarks.

Creates and drops databases on the server of WAREHOUSE_ADMIN_URL (a role allowed to create
databases; scripts/dev exports it for the local cluster) and migrates them with the project's
Alembic migrations. Never touches the warehouse database itself.
"""

from __future__ import annotations

import os
from urllib.parse import quote

import psycopg
from alembic import command
from alembic.config import Config
from psycopg import sql

from sap_warehouse.db import sqlalchemy_url
from sap_warehouse.registry import PROJECT_ROOT


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


def create_database(name: str, template: str | None = None, *, file_copy: bool = False) -> str:
    """(Re)create database ``name``, empty or as a copy of ``template``; returns its URI. ``file_copy``
    copies the template's files instead of writing every block to the WAL: much faster for a big one."""
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if template:
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}{}").format(
                    sql.Identifier(name),
                    sql.Identifier(template),
                    sql.SQL(" STRATEGY FILE_COPY" if file_copy else ""),
                )
            )
        else:
            # Byte-order collation, as the warehouse database has (README, Decisions).
            conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE template0 LC_COLLATE 'C'").format(sql.Identifier(name)))
    return database_url(name)


def drop_database(name: str) -> None:
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def alembic_config(url: str) -> Config:
    cfg = Config(str(PROJECT_ROOT / "include" / "migrations" / "alembic.ini"))
    cfg.set_main_option("sqlalchemy.url", sqlalchemy_url(url).replace("%", "%%"))
    return cfg


def migrate(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)
