"""Keeping the warehouse healthy: VACUUM/ANALYZE where the statistics call for it, health snapshots.

Reads pg_stat_user_tables / pg_stat_user_indexes of the warehouse schemas. Writes nothing but what
VACUUM and ANALYZE do, and the snapshot rows of operations.table_health, index_health, database_health,
session_health and statement_health.

- plan(): a table (a partition, for partitioned tables: that is where the statistics live) is
  VACUUMed (with ANALYZE) when it has at least ``min_dead`` dead tuples and they are at least
  ``dead_ratio`` of its tuples; otherwise it is ANALYZEd when at least ``min_changes`` rows changed
  since its last analyze (what the daily run wrote). VACUUM FULL (an exclusive lock that rewrites the
  table) only when asked for.
- run(): each statement on its own, in autocommit (VACUUM cannot run inside a transaction block).
- snapshot(): sizes, live/dead tuples, the last (auto)vacuum/analyze of every table and the scans of
  every index at one instant (an index never scanned shows up in ``unused indexes``, docs/runbook.md); the
  database's size and connections by state, sessions waiting on a lock or running long, and the
  slowest statements where pg_stat_statements is installed and preloaded.
"""

from __future__ import annotations

import logging
import time

import psycopg
from psycopg import sql

from sap_warehouse.core.db import OWNER_CONN_ID, connect
from sap_warehouse.core.registry import sql_file

log = logging.getLogger(__name__)

SCHEMAS = ["raw", "dims", "facts", "marts", "operations"]


def plan(
    conn: psycopg.Connection, *, dead_ratio: float = 0.1, min_dead: int = 1000, min_changes: int = 1
) -> list[dict]:
    """The VACUUM and ANALYZE statements the statistics call for, with the reason for each."""
    actions = []
    statistics = conn.execute(sql_file("maintenance/statistics.sql"), {"schemas": SCHEMAS})
    for schema, table, live, dead, changed in statistics:
        ratio = dead / (live + dead) if live + dead else 0.0
        if dead >= min_dead and ratio >= dead_ratio:
            reason = f"{dead} dead tuples ({ratio:.0%} of {live + dead})"
            actions.append({"action": "vacuum", "schema": schema, "table": table, "reason": reason})
        elif changed >= min_changes:
            reason = f"{changed} rows changed since the last analyze"
            actions.append({"action": "analyze", "schema": schema, "table": table, "reason": reason})
    return actions


def run(
    *,
    dead_ratio: float = 0.1,
    min_dead: int = 1000,
    min_changes: int = 1,
    full: bool = False,
    dry_run: bool = False,
    conninfo: str | None = None,
) -> list[dict]:
    """Run what plan() lists, one statement per call in autocommit; returns the actions with seconds."""
    with connect(conninfo, autocommit=True, conn_id=OWNER_CONN_ID) as conn:
        actions = plan(conn, dead_ratio=dead_ratio, min_dead=min_dead, min_changes=min_changes)
        for action in actions:
            target = sql.Identifier(action["schema"], action["table"])
            if action["action"] == "vacuum":
                options = sql.SQL("FULL, ANALYZE" if full else "ANALYZE")
                statement = sql.SQL("VACUUM ({}) {}").format(options, target)
            else:
                statement = sql.SQL("ANALYZE {}").format(target)
            action["statement"] = statement.as_string(conn)
            if dry_run:
                log.info("would run %s: %s", action["statement"], action["reason"])
                continue
            start = time.perf_counter()
            conn.execute(statement)
            action["seconds"] = round(time.perf_counter() - start, 3)
            log.info("%s (%s): %.2f s", action["statement"], action["reason"], action["seconds"])
    return actions


def analyze_changed(
    schemas: tuple[str, ...] = ("raw",),
    *,
    min_changes: int = 1000,
    min_ratio: float = 0.1,
    conninfo: str | None = None,
) -> list[dict]:
    """ANALYZE the tables (partitions) of ``schemas`` that loads changed much since their last ANALYZE
    (``min_changes`` rows and ``min_ratio`` of their live rows), through the owner's
    operations.analyze_table, so the quality gates and builds after a bulk load plan on statistics
    that know the new rows (autovacuum's analyze may come minutes later). What it analyzed."""
    from sap_warehouse.build.layers import analyze

    started = time.perf_counter()
    with connect(conninfo, autocommit=True) as conn:
        params = {"schemas": list(schemas), "min_changes": min_changes, "min_ratio": min_ratio}
        tables = [
            {"schema": schema, "table": table, "changed": changed, "live": live}
            for schema, table, changed, live in conn.execute(sql_file("maintenance/changed_tables.sql"), params)
        ]
        for table in tables:
            analyze(conn, table["schema"], table["table"])
    if tables:
        log.info(
            "analyzed %d tables a load changed much (%.2f s): %s",
            len(tables),
            time.perf_counter() - started,
            ", ".join(f"{t['schema']}.{t['table']} ({t['changed']} of {t['live']})" for t in tables),
        )
    return tables


def statements_view(conn: psycopg.Connection) -> sql.Identifier | None:
    """pg_stat_statements' view when the extension is created in this database and its library is
    preloaded; None when the server does not track statements. Preloading is probed by reading the
    view (it raises without the library): ``SHOW shared_preload_libraries`` needs pg_read_all_settings,
    which the owner login does not have."""
    found = conn.execute(
        """SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
            WHERE e.extname = 'pg_stat_statements'"""
    ).fetchone()
    if not found:
        return None
    view = sql.Identifier(found[0], "pg_stat_statements")
    try:
        with conn.transaction():
            conn.execute(sql.SQL("SELECT FROM {} LIMIT 0").format(view))
    except psycopg.errors.ObjectNotInPrerequisiteState:
        return None  # created, but the library is not preloaded
    return view


def snapshot(
    *, long_running_seconds: float = 300, top_statements: int = 10, conninfo: str | None = None
) -> dict[str, int]:
    """Store one health snapshot at one instant: every table and index of the warehouse schemas, the
    database's size and connections by state, the sessions waiting on a lock or running longer than
    ``long_running_seconds``, and the ``top_statements`` slowest statements (pg_stat_statements)."""
    with connect(conninfo, conn_id=OWNER_CONN_ID) as conn:
        at = conn.execute("SELECT now()").fetchone()[0]
        statements = statements_view(conn)
        params = {
            "at": at,
            "schemas": SCHEMAS,
            "long_running_seconds": long_running_seconds,
            "top": top_statements,
            "statements_tracked": statements is not None,
        }
        # Sessions first: the size functions of the table snapshot wait behind an exclusive table lock.
        counts = {
            "sessions": conn.execute(sql_file("maintenance/session_snapshot.sql"), params).rowcount,
            "database": conn.execute(sql_file("maintenance/database_snapshot.sql"), params).rowcount,
            "tables": conn.execute(sql_file("maintenance/table_snapshot.sql"), params).rowcount,
            "indexes": conn.execute(sql_file("maintenance/index_snapshot.sql"), params).rowcount,
            "statements": 0,
        }
        if statements is not None:
            query = sql.SQL(sql_file("maintenance/statement_snapshot.sql")).format(statements=statements)
            counts["statements"] = conn.execute(query, params).rowcount
        else:
            log.info("pg_stat_statements is not available here: no slowest statements in this snapshot")
    log.info("health snapshot at %s: %s", at, counts)
    return counts
