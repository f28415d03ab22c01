"""Building the warehouse layers for one business date from the raw layer.

Reads raw.*, include/config/site.yaml and the SQL files of include/sql/<layer>/ (one per target).
Writes dims.*, facts.*, and refreshes marts.* materialized views. Each function is ONE transaction
holding the business date's advisory lock, and rebuilds its slice deterministically from the raw
layer: running a date twice, or dates in any order, leaves the same rows. Every step is recorded in
operations.etl_run_log. The reconciliation compares the facts with the raw rows and raises
ReconciliationError (the task fails) on any difference.
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

DIMENSION_FILES = (
    "dims/dim_movement_type.sql",
    "dims/dim_date.sql",
    "dims/dim_material.sql",
    "dims/dim_customer.sql",
    "dims/dim_location.sql",
    "dims/dim_unit_conversion.sql",
)
# fact_production_chain reads fact_production: build it after.
FACTS = ("fact_inventory", "fact_billing", "fact_production", "fact_ar_aging", "fact_production_chain")
# Refreshed in this order: a view may read another only if that one comes earlier.
MATERIALIZED_VIEWS = ("view_inventory_summary", "view_sales_performance", "view_production_yield", "view_ar_aging")


class ReconciliationError(RuntimeError):
    """The facts of a business date do not add up to its raw rows."""


def run_sql_file(conn: psycopg.Connection, relative: str, params: dict) -> int:
    """Execute every statement of include/sql/<relative>; returns rows affected by the last one."""
    with ClientCursor(conn) as cur:
        cur.execute(sql_file(relative), params)
        while cur.nextset():
            pass
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
            json.dumps(details, default=str),
            started_at,
        ),
    )


def _dates(conn: psycopg.Connection, business_date: dt.date, table: str, column: str) -> list[dt.date]:
    """The business date plus every other ``column`` date its files delivered to raw.``table``
    (late postings, back-dated invoices): the slices of the date-partitioned facts to rebuild."""
    query = sql.SQL(
        "SELECT DISTINCT {col} FROM {table} WHERE business_date = %s AND {col} IS NOT NULL AND {col} <> %s ORDER BY 1"
    ).format(col=sql.Identifier(column), table=sql.Identifier("raw", table))
    return [business_date] + [row[0] for row in conn.execute(query, (business_date, business_date))]


def _params(conn: psycopg.Connection, business_date: dt.date) -> dict:
    config = site()
    return {
        "business_date": business_date,
        "movement_types": json.dumps(config["movement_types"]),
        "plants": json.dumps(config["plants"]),
        "material_types": json.dumps(config["material_types"]),
        "weight_units_kg": json.dumps(config["weight_units_kg"]),
        "sales_plant": str(config["sales_plant"]),
        "movement_dates": _dates(conn, business_date, "raw_mb51", "posting_date"),
        "billing_dates": _dates(conn, business_date, "raw_zrsd002", "billing_date"),
    }


def build_dimensions(business_date: dt.date, *, run: dict | None = None, conninfo: str | None = None) -> dict:
    """Upsert the dimension members the business date's raw rows mention, then ANALYZE the
    dimensions so the fact builds plan on fresh statistics."""
    started = dt.datetime.now(dt.UTC)
    counts = {}
    with connect(conninfo) as conn:
        lock_business_date(conn, business_date)
        params = _params(conn, business_date)
        for relative in DIMENSION_FILES:
            counts[relative] = run_sql_file(conn, relative, params)
        conn.execute(
            sql.SQL("ANALYZE {}").format(
                sql.SQL(", ").join(
                    sql.Identifier("dims", f.split("/")[1].removesuffix(".sql")) for f in DIMENSION_FILES
                )
            )
        )
        _record(conn, run or {}, business_date, "build_dimensions", sum(counts.values()), counts, started)
    log.info("dimensions for %s: %s", business_date, counts)
    return counts


def build_fact(fact: str, business_date: dt.date, *, run: dict | None = None, conninfo: str | None = None) -> dict:
    """Rebuild one fact's slice for the business date from include/sql/facts/<fact>.sql."""
    if fact not in FACTS:
        raise ValueError(f"unknown fact {fact!r}; choose from {', '.join(FACTS)}")
    started = dt.datetime.now(dt.UTC)
    with connect(conninfo) as conn:
        lock_business_date(conn, business_date)
        params = _params(conn, business_date)
        rows = run_sql_file(conn, f"facts/{fact}.sql", params)
        conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier("facts", fact)))
        result = {
            "rows": rows,
            "movement_dates": [d.isoformat() for d in params["movement_dates"]],
            "billing_dates": [d.isoformat() for d in params["billing_dates"]],
        }
        _record(conn, run or {}, business_date, f"build_{fact}", rows, result, started)
    log.info("%s for %s: %s rows written", fact, business_date, rows)
    return result


def reconcile(business_date: dt.date, *, run: dict | None = None, conninfo: str | None = None) -> list[dict]:
    """Compare the business date's facts with its raw rows (include/sql/checks/reconciliation.sql);
    records every check, and raises ReconciliationError naming each mismatch."""
    started = dt.datetime.now(dt.UTC)
    with connect(conninfo) as conn:
        lock_business_date(conn, business_date)
        params = _params(conn, business_date)
        with ClientCursor(conn) as cur:
            cur.execute(sql_file("checks/reconciliation.sql"), params)
            names = [c.name for c in cur.description]
            checks = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        failed = [c for c in checks if not c["ok"]]
        _record(conn, run or {}, business_date, "reconcile", len(checks), {"checks": checks}, started)
    for c in checks:
        log.info("%-20s %-22s expected %s, got %s (excluded %s)", c["check_name"], c["scope"], c["expected"],
                 c["actual"], c["excluded"])  # fmt: skip
    if failed:
        lines = "; ".join(f"{c['check_name']} {c['scope']}: raw {c['expected']} vs facts {c['actual']}" for c in failed)
        raise ReconciliationError(
            f"{business_date}: facts do not reconcile with the raw layer ({lines}). Look at the raw rows of "
            f"those dates, fix the data or the build SQL, then re-run the date."
        )
    return checks


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
