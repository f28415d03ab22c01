"""Building the warehouse layers for one business date from the raw layer.

Reads raw.*, include/config/site.yaml and the SQL files of include/sql/<layer>/. Writes dims.*,
facts.* and refreshes marts.* materialized views. Each function is ONE transaction holding the
business date's advisory lock, and rebuilds its slice deterministically: running a date twice,
or dates in any order, leaves the same rows. Every step is recorded in operations.etl_run_log.
"""

from __future__ import annotations

import datetime as dt
import json
import logging

import psycopg
from psycopg import ClientCursor, sql

from sap_warehouse.db import connect, lock_business_date
from sap_warehouse.registry import site, sql_file

log = logging.getLogger(__name__)

DIMENSION_FILES = ("dims/dim_movement_type.sql", "dims/dim_date.sql", "dims/dim_material.sql", "dims/dim_location.sql")
# Refreshed in this order: a view may read another only if that one comes earlier.
MATERIALIZED_VIEWS = ("view_inventory_summary",)


def run_sql_file(conn: psycopg.Connection, relative: str, params: dict) -> int:
    """Execute every statement of include/sql/<relative>; returns rows affected by the last one."""
    with ClientCursor(conn) as cur:
        cur.execute(sql_file(relative), params)
        return cur.rowcount


def _record(
    conn: psycopg.Connection,
    run: dict,
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
            run.get("dag_id", "manual"),
            run.get("run_id", "manual"),
            run.get("task_id", step),
            business_date,
            step,
            rows,
            json.dumps(details),
            started_at,
        ),
    )


def build_dimensions(business_date: dt.date, *, run: dict | None = None, conninfo: str | None = None) -> dict:
    """Upsert the dimensions touched by the business date's raw rows, then ANALYZE them so the
    fact build plans on fresh statistics."""
    started = dt.datetime.now(dt.UTC)
    config = site()
    params = {
        "business_date": business_date,
        "movement_types": json.dumps(config["movement_types"]),
        "plants": json.dumps(config["plants"]),
    }
    counts = {}
    with connect(conninfo) as conn:
        lock_business_date(conn, business_date)
        for relative in DIMENSION_FILES:
            counts[relative] = run_sql_file(conn, relative, params)
        conn.execute("ANALYZE dims.dim_material, dims.dim_location, dims.dim_movement_type")
        _record(conn, run or {}, business_date, "build_dimensions", sum(counts.values()), counts, started)
    return counts


def build_fact_inventory(business_date: dt.date, *, run: dict | None = None, conninfo: str | None = None) -> dict:
    """Rebuild fact_inventory for the business date and the posting dates its files carried."""
    started = dt.datetime.now(dt.UTC)
    with connect(conninfo) as conn:
        lock_business_date(conn, business_date)
        dates = [business_date] + [
            row[0]
            for row in conn.execute(
                "SELECT DISTINCT posting_date FROM raw.raw_mb51 WHERE business_date = %s AND posting_date <> %s "
                "ORDER BY 1",
                (business_date, business_date),
            )
        ]
        rows = run_sql_file(conn, "facts/fact_inventory.sql", {"movement_dates": dates})
        result = {"movement_dates": [d.isoformat() for d in dates], "rows": rows}
        _record(conn, run or {}, business_date, "build_fact_inventory", rows, result, started)
    log.info("fact_inventory: %s rows for posting dates %s", rows, result["movement_dates"])
    return result


def refresh_views(business_date: dt.date, *, run: dict | None = None, conninfo: str | None = None) -> list[str]:
    """REFRESH ... CONCURRENTLY each materialized view, in dependency order, so readers are never
    blocked."""
    started = dt.datetime.now(dt.UTC)
    with connect(conninfo) as conn:
        lock_business_date(conn, business_date)
        for view in MATERIALIZED_VIEWS:
            conn.execute(sql.SQL("REFRESH MATERIALIZED VIEW CONCURRENTLY {}").format(sql.Identifier("marts", view)))
        _record(
            conn,
            run or {},
            business_date,
            "refresh_views",
            len(MATERIALIZED_VIEWS),
            {"views": list(MATERIALIZED_VIEWS)},
            started,
        )
    return list(MATERIALIZED_VIEWS)
