"""Connections to the warehouse database.

Reads the Airflow connection ``warehouse_db``: inside tasks through Airflow's secrets chain
(environment, secrets backend, metadata DB); in command-line tools from the AIRFLOW_CONN_WAREHOUSE_DB
URI. Writes nothing. Also holds the advisory lock that keeps two runs of one business date apart.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

CONN_ID = "warehouse_db"
# First key of the two-key advisory lock; the second key is the business date as a day number.
LOCK_NAMESPACE = 0x5A9
RAW_TABLE_LOCK_NAMESPACE = 0x5AA


def _normalise_scheme(uri: str) -> str:
    parts = urlsplit(uri)
    if parts.scheme in ("postgres", "postgresql"):
        return urlunsplit(("postgresql", *parts[1:]))
    return uri


def sqlalchemy_url(uri: str) -> str:
    """SQLAlchemy URL (psycopg 3 driver) for a libpq URI."""
    return _normalise_scheme(uri).replace("postgresql://", "postgresql+psycopg://", 1)


def warehouse_conninfo() -> str:
    """libpq connection string of ``warehouse_db``."""
    uri = os.environ.get("AIRFLOW_CONN_WAREHOUSE_DB")
    if uri and uri.startswith(("postgres://", "postgresql://")):
        return _normalise_scheme(uri)
    from airflow.sdk import BaseHook

    conn = BaseHook.get_connection(CONN_ID)
    extra = conn.extra_dejson or {}
    return psycopg.conninfo.make_conninfo(
        host=conn.host,
        port=conn.port or 5432,
        user=conn.login,
        password=conn.password,
        dbname=conn.schema,
        **{k: v for k, v in extra.items() if k in ("sslmode", "sslrootcert", "options", "connect_timeout")},
    )


@contextmanager
def connect(conninfo: str | None = None, *, autocommit: bool = False) -> Iterator[psycopg.Connection]:
    """A psycopg connection; without autocommit the block is one transaction (commit or rollback).

    JIT is off for these sessions: the planner's cost of a statement over the 133 partitions of a raw
    table crosses jit_above_cost, and LLVM then spent 7.3 s compiling a dimension build that runs in
    60 ms (measured on a range rebuild; README, decisions)."""
    params = psycopg.conninfo.conninfo_to_dict(conninfo or warehouse_conninfo())
    params["options"] = f"{params.get('options') or ''} -c jit=off".strip()
    conn = psycopg.connect(**params, autocommit=autocommit, application_name="sap_warehouse")
    try:
        if autocommit:
            yield conn
        else:
            with conn.transaction():
                yield conn
    finally:
        conn.close()


def lock_business_date(conn: psycopg.Connection, business_date: dt.date, *, shared: bool = False) -> None:
    """Take the transaction-scoped advisory lock of ``business_date`` (waits for a holder to finish).
    File loads take it shared, so the files of one date load side by side; layer builds take it
    exclusive, so they never interleave with a load or another build of the same date."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    conn.execute(
        sql.SQL("SELECT {}(%s, %s)").format(sql.Identifier(function)),
        (LOCK_NAMESPACE, business_date.toordinal()),
    )


def lock_raw_table(conn: psycopg.Connection, raw_table: str) -> None:
    """Serialise writers of one raw table (two files with the same new keys must not race)."""
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (RAW_TABLE_LOCK_NAMESPACE, raw_table))
