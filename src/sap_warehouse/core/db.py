"""Connections to the warehouse database, all built one way.

Reads the Airflow connection ``warehouse_db`` through Airflow's secrets chain (environment variable
as a URI or JSON, secrets backend, metadata DB), the same way the postgres provider's hook does:
host, port, login, password, schema and every extra except the hook's own (iam, cursor, ...) become
libpq keywords, so sslmode, sslcert, target_session_attrs, keepalives or options reach the server.
psycopg (``connect``), Great Expectations (``sqlalchemy_url``), Alembic's env.py and pg_dump
(``warehouse_conninfo``) all start from ``connection_params``. Writes nothing. Also holds the advisory
locks that keep two runs of one business date apart.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlencode

import psycopg
from psycopg import ClientCursor, sql
from psycopg.rows import dict_row

from sap_warehouse.core.run_info import RunInfo

CONN_ID = "warehouse_db"  # the daily DAG: a member of warehouse_loader (rows only)
# Migrations, partition maintenance and retention (owner), and backups (reads everything, CREATEDB
# for the restore that verifies a dump). A deployment that defines neither uses warehouse_db for all.
OWNER_CONN_ID = "warehouse_owner_db"
BACKUP_CONN_ID = "warehouse_backup_db"
# What only reads (the on-call page in the api-server, the morning summary in the dag-processor): a
# member of warehouse_analyst, so those processes hold no password that writes.
ANALYST_CONN_ID = "warehouse_analyst_db"
# First key of the two-key advisory lock; the second key is the business date as a day number.
LOCK_NAMESPACE = 0x5A9
RAW_TABLE_LOCK_NAMESPACE = 0x5AA
# JIT is off for these sessions: the planner's cost of a statement over the 133 partitions of a raw
# table crosses jit_above_cost, and LLVM then spent 7.3 s compiling a dimension build that runs in
# 60 ms (measured on a range rebuild; docs/decisions/0001-jit-off.md).
SESSION_OPTIONS = "-c jit=off"


def _airflow_params(conn_id: str) -> dict[str, str]:
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        if conn_id == CONN_ID:
            raise
        conn = BaseHook.get_connection(CONN_ID)  # one login for every DAG: roles not split
    params = {
        "host": conn.host,
        "port": conn.port,
        "user": conn.login,
        "password": conn.password,
        "dbname": conn.schema,
    }
    params.update(
        (key, value)
        for key, value in (conn.extra_dejson or {}).items()
        if key not in PostgresHook.ignored_extra_options
    )
    return {key: str(value) for key, value in params.items() if value not in (None, "")}


def connection_params(conninfo: str | None = None, *, conn_id: str = CONN_ID) -> dict[str, str]:
    """libpq keywords of the warehouse: of ``conninfo`` (a URI or key=value string) when given, else
    of the Airflow connection ``conn_id`` (falling back to ``warehouse_db`` when that is not
    defined); ``options`` always carries SESSION_OPTIONS."""
    params = psycopg.conninfo.conninfo_to_dict(conninfo) if conninfo else _airflow_params(conn_id)
    params = {key: str(value) for key, value in params.items()}
    if SESSION_OPTIONS not in params.get("options", ""):
        params["options"] = f"{params.get('options', '')} {SESSION_OPTIONS}".strip()
    return params


def warehouse_conninfo(conninfo: str | None = None, *, conn_id: str = CONN_ID) -> str:
    """libpq key=value connection string of the warehouse (for pg_dump, pg_restore, psql)."""
    return psycopg.conninfo.make_conninfo(**connection_params(conninfo, conn_id=conn_id))


def sqlalchemy_url(conninfo: str | None = None, *, conn_id: str = CONN_ID) -> str:
    """SQLAlchemy URL (psycopg 3 driver) of the warehouse, every libpq keyword beyond the address in
    its query, so SQLAlchemy hands them to libpq as they are. Every part is percent-encoded, every
    character but letters and digits: SQLAlchemy's own rendering leaves a space or a quote as it is,
    which Great Expectations' URL check refuses, and a ``$`` that GX would read as a config template."""
    params = connection_params(conninfo, conn_id=conn_id)
    names: tuple[str, ...] = ("user", "password", "dbname")
    if params.get("port", "5432").isdigit() and "," not in params.get("host", ""):
        names += ("host", "port")  # one server; a list of them stays in the query, as libpq reads it
    address = {key: params.pop(key, None) for key in names}

    def encoded(value: str) -> str:
        return quote(value, safe="")

    auth = ""
    if address["user"]:
        auth = encoded(address["user"]) + (f":{encoded(address['password'])}" if address["password"] else "") + "@"
    host = address.get("host") or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    elif host:
        host = encoded(host)
    port = f":{address['port']}" if address.get("port") else ""
    query = urlencode(params, quote_via=quote, safe="")
    return f"postgresql+psycopg://{auth}{host}{port}/{encoded(address['dbname'] or '')}" + (
        f"?{query}" if query else ""
    )


@contextmanager
def connect(
    conninfo: str | None = None, *, autocommit: bool = False, conn_id: str = CONN_ID
) -> Iterator[psycopg.Connection]:
    """A psycopg connection; without autocommit the block is one transaction (commit or rollback)."""
    params = {"application_name": "sap_warehouse", **connection_params(conninfo, conn_id=conn_id)}
    conn = psycopg.connect(psycopg.conninfo.make_conninfo(**params), autocommit=autocommit)
    try:
        if autocommit:
            yield conn
        else:
            with conn.transaction():
                yield conn
    finally:
        conn.close()


@contextmanager
def read_only(conninfo: str | None = None) -> Iterator[psycopg.Connection]:
    """A connection of the analyst login (``conninfo``, else ``warehouse_analyst_db``) whose every
    transaction is read-only, whatever that login may do."""
    with connect(conninfo, autocommit=True, conn_id=ANALYST_CONN_ID) as conn:
        conn.execute("SET default_transaction_read_only = on")
        yield conn


def lock_business_date(conn: psycopg.Connection, business_date: dt.date, *, shared: bool = False) -> None:
    """Take the transaction-scoped advisory lock of ``business_date`` (waits for a holder to finish).
    File loads take it shared, so the files of one date load side by side; layer builds take it
    exclusive, so they never interleave with a load or another build of the same date."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    conn.execute(
        sql.SQL("SELECT {}(%s, %s)").format(sql.Identifier(function)),
        (LOCK_NAMESPACE, business_date.toordinal()),
    )


def first_row(cursor: psycopg.Cursor[Any]) -> tuple[Any, ...]:
    """The row a statement that always returns one (an aggregate, a RETURNING of one row) returned."""
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError("the statement returned no row where one is always returned")
    return tuple(row)


def column_names(cursor: psycopg.Cursor[Any]) -> list[str]:
    """The names of the columns the cursor's statement returned (none for a statement without rows)."""
    return [column.name for column in cursor.description or []]


def table_name(qualified: str) -> sql.Identifier:
    """``schema.table`` as a quoted SQL identifier."""
    return sql.Identifier(*qualified.split("."))


def row_count(conn: psycopg.Connection, qualified: str) -> int:
    """The number of rows of ``schema.table``."""
    return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(table_name(qualified))).fetchone()[0]


def lock_raw_table(conn: psycopg.Connection, raw_table: str) -> None:
    """Serialise writers of one raw table (two files with the same new keys must not race)."""
    conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (RAW_TABLE_LOCK_NAMESPACE, raw_table))


def query_rows(conn: psycopg.Connection, relative: str, params: dict | None = None) -> list[dict]:
    """The rows, as dicts, of the query in include/sql/<relative>."""
    from sap_warehouse.core.registry import sql_file

    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql_file(relative), params or {}).fetchall()


def run_sql_file(conn: psycopg.Connection, relative: str, params: dict) -> int:
    """Execute every statement of include/sql/<relative>; returns rows affected by the last one."""
    from sap_warehouse.core.registry import sql_file

    with ClientCursor(conn) as cur:
        cur.execute(sql_file(relative), params)
        while cur.nextset():
            pass
        return cur.rowcount


def record_step(
    conn: psycopg.Connection,
    run: RunInfo,
    business_date: dt.date,
    step: str,
    rows: int,
    details: dict,
    started_at: dt.datetime,
) -> None:
    conn.execute(
        """INSERT INTO operations.etl_run_log (dag_id, run_id, task_id, business_date, step, rows_affected,
                                               details, started_at)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s)""",
        (
            run.dag_id,
            run.run_id,
            run.task(step),
            business_date,
            step,
            rows,
            json.dumps(details, default=str),
            started_at,
        ),
    )
