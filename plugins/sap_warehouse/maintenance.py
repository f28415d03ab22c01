"""Keeping the warehouse healthy: VACUUM/ANALYZE where the statistics call for it, health snapshots.

Reads pg_stat_user_tables / pg_stat_user_indexes of the warehouse schemas. Writes nothing but what
VACUUM and ANALYZE do, and the snapshot rows of operations.table_health and operations.index_health.

- plan(): a table (a partition, for partitioned tables: that is where the statistics live) is
  VACUUMed (with ANALYZE) when it has at least ``min_dead`` dead tuples and they are at least
  ``dead_ratio`` of its tuples; otherwise it is ANALYZEd when at least ``min_changes`` rows changed
  since its last analyze (what the daily run wrote). VACUUM FULL (an exclusive lock that rewrites the
  table) only when asked for.
- run(): each statement on its own, in autocommit (VACUUM cannot run inside a transaction block).
- snapshot(): sizes, live/dead tuples, the last (auto)vacuum/analyze of every table and the scans of
  every index at one instant; an index never scanned shows up in ``unused indexes`` (README).
"""

from __future__ import annotations

import logging
import time

import psycopg
from psycopg import sql

from sap_warehouse.db import OWNER_CONN_ID, connect
from sap_warehouse.registry import sql_file

log = logging.getLogger(__name__)

SCHEMAS = ["raw", "dims", "facts", "marts", "operations"]


def plan(
    conn: psycopg.Connection, *, dead_ratio: float = 0.1, min_dead: int = 1000, min_changes: int = 1
) -> list[dict]:
    """The VACUUM and ANALYZE statements the statistics call for, with the reason for each."""
    actions = []
    for schema, table, live, dead, changed in conn.execute(sql_file("maintenance/statistics.sql"), (SCHEMAS,)):
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


def snapshot(*, conninfo: str | None = None) -> dict[str, int]:
    """Store one health snapshot (every table and index of the warehouse schemas at one instant)."""
    with connect(conninfo, conn_id=OWNER_CONN_ID) as conn:
        at = conn.execute("SELECT now()").fetchone()[0]
        params = {"at": at, "schemas": SCHEMAS}
        tables = conn.execute(sql_file("maintenance/table_snapshot.sql"), params).rowcount
        indexes = conn.execute(sql_file("maintenance/index_snapshot.sql"), params).rowcount
    log.info("health snapshot at %s: %d tables, %d indexes", at, tables, indexes)
    return {"tables": tables, "indexes": indexes}
