"""Building the warehouse layers for a business date, or a range of them, from the raw layer.

Reads raw.*, include/config/site.yaml and the SQL files of include/sql/<layer>/ (one per target).
Writes dims.*, facts.*, and refreshes marts.* materialized views. Each function is ONE transaction
holding the advisory locks of its business dates, and rebuilds their slices deterministically from
the raw layer: running a date twice, dates in any order, or a whole range in one statement per
target (a ``DateSpan`` of many dates; what ``rebuild`` and the command below do) leaves the same rows. Every step is
recorded in operations.etl_run_log. The reconciliation compares the facts with the raw rows and
raises ReconciliationError (the task fails) on any difference.

Rebuild the model of a date range from the raw layer already loaded (after a fix to the build SQL
or the site configuration; no file is read):

    sapwh layers --from 2026-01-01 --to 2026-03-31
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import ClientCursor

from sap_warehouse.core import model
from sap_warehouse.core.business_date import DateSpan
from sap_warehouse.core.db import column_names, connect, lock_business_date, record_step, run_sql_file
from sap_warehouse.core.progress import track
from sap_warehouse.core.registry import site, sql_file
from sap_warehouse.core.run_info import MANUAL, RunInfo

log = logging.getLogger(__name__)


class ReconciliationError(RuntimeError):
    """The facts of a business date do not add up to its raw rows."""


@contextmanager
def _locked(span: DateSpan, conninfo: str | None) -> Iterator[tuple[psycopg.Connection, dt.datetime]]:
    """A step's transaction: a connection holding the exclusive advisory locks of the span's dates
    (taken in date order: two ranges never deadlock), and when the step started."""
    started = dt.datetime.now(dt.UTC)
    with connect(conninfo) as conn:
        for day in span:
            lock_business_date(conn, day)
        yield conn, started


def raw_retired_before(conn: psycopg.Connection) -> dict[str, dt.date]:
    """Per raw table, the cutoff of the latest retention that deleted its rows: the raw rows of
    earlier dates are gone (archived), while the facts built from them are kept for good."""
    return dict(
        conn.execute(
            "SELECT table_name, max(cutoff) FROM operations.retention_log "
            "WHERE NOT dry_run AND table_name LIKE 'raw.%' GROUP BY 1"
        ).fetchall()
    )


def _live(dates: list[dt.date], cutoff: dt.date | None) -> tuple[list[dt.date], list[dt.date]]:
    """(dates whose raw rows are still there, dates before the retention cutoff)."""
    if cutoff is None:
        return dates, []
    return [d for d in dates if d >= cutoff], [d for d in dates if d < cutoff]


def _params(conn: psycopg.Connection, span: DateSpan) -> dict:
    """The build parameters of the business dates. Slices whose raw rows retention has retired are
    left out (a rebuild would delete the kept facts and insert nothing): ``raw_retired`` lists them
    by parameter, for the step's log and for the reconciliation, which then checks only the rest."""
    config = site()
    dates = span.dates
    retired = raw_retired_before(conn)
    movement_dates, old_movements = _live(model.slice_dates(conn, "movement_dates", dates), retired.get("raw.raw_mb51"))
    billing_dates, old_billing = _live(model.slice_dates(conn, "billing_dates", dates), retired.get("raw.raw_zrsd002"))
    # Business-dated sources (COOISPI, ZRFI005, ZRPP062, and MB51 for the genealogy): the latest cutoff.
    business_dates, old_business = _live(dates, max(retired.values(), default=None))
    return {
        "business_dates": business_dates,
        "movement_types": json.dumps(config["movement_types"]),
        "plants": json.dumps(config["plants"]),
        "material_types": json.dumps(config["material_types"]),
        "weight_units_kg": json.dumps(config["weight_units_kg"]),
        "distribution_channels": json.dumps({str(k): v for k, v in config.get("distribution_channels", {}).items()}),
        "yield_ratings": json.dumps(config.get("yield_ratings", {})),
        "sales_plant": str(config["sales_plant"]),
        "movement_dates": movement_dates,
        "billing_dates": billing_dates,
        "raw_retired": {
            name: [d.isoformat() for d in found]
            for name, found in (
                ("business_dates", old_business),
                ("movement_dates", old_movements),
                ("billing_dates", old_billing),
            )
            if found
        },
    }


def _warn_retired(step: str, span: DateSpan, params: dict) -> None:
    if params["raw_retired"]:
        log.warning(
            "%s for %s: left as they are, their raw rows were retired by retention (the facts are kept, the "
            "archives under <archive>/retention/ hold the rows): %s",
            step,
            span.label,
            params["raw_retired"],
        )


def analyze(conn: psycopg.Connection, schema: str, table: str) -> None:
    """ANALYZE a warehouse table through the owner's function (ANALYZE is reserved to the owner)."""
    conn.execute("SELECT operations.analyze_table(%s::regclass)", (f"{schema}.{table}",))


def build_dimensions(span: DateSpan, *, run: RunInfo = MANUAL, conninfo: str | None = None) -> dict:
    """Upsert the dimension members the business dates' raw rows mention, then ANALYZE the
    dimensions so the fact builds plan on fresh statistics."""
    counts = {}
    with _locked(span, conninfo) as (conn, started):
        params = _params(conn, span)
        for dimension in model.dimensions():
            counts[dimension.sql_file] = run_sql_file(conn, dimension.sql_file, params)
        for dimension in model.dimensions():
            analyze(conn, "dims", dimension.name)
        details = {**counts, "through": span.last}
        record_step(conn, run, span.first, "build_dimensions", sum(counts.values()), details, started)
    log.info("dimensions for %s: %s", span.label, counts)
    return counts


def build_fact(fact: str, span: DateSpan, *, run: RunInfo = MANUAL, conninfo: str | None = None) -> dict:
    """Rebuild one fact's slice for the business dates from include/sql/facts/<fact>.sql."""
    if fact not in model.facts():
        raise ValueError(f"unknown fact {fact!r}; choose from {', '.join(model.facts())}")
    with _locked(span, conninfo) as (conn, started):
        params = _params(conn, span)
        rows = run_sql_file(conn, f"facts/{fact}.sql", params)
        analyze(conn, "facts", fact)
        result = {
            "rows": rows,
            "through": span.last.isoformat(),
            "movement_dates": [d.isoformat() for d in params["movement_dates"]],
            "billing_dates": [d.isoformat() for d in params["billing_dates"]],
            "raw_retired": params["raw_retired"],
        }
        _warn_retired(f"build_{fact}", span, params)
        record_step(conn, run, span.first, f"build_{fact}", rows, result, started)
    log.info("%s for %s: %s rows written", fact, span.label, rows)
    return result


def reconcile(span: DateSpan, *, run: RunInfo = MANUAL, conninfo: str | None = None) -> list[dict]:
    """Compare the business dates' facts with their raw rows (include/sql/checks/reconciliation.sql);
    records every check, and raises ReconciliationError naming each mismatch."""
    with _locked(span, conninfo) as (conn, started):
        params = _params(conn, span)
        with ClientCursor(conn) as cur:
            cur.execute(sql_file("checks/reconciliation.sql"), params)
            names = column_names(cur)
            checks = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
        failed = [c for c in checks if not c["ok"]]
        details = {"checks": checks, "through": span.last, "raw_retired": params["raw_retired"]}
        record_step(conn, run, span.first, "reconcile", len(checks), details, started)
    _warn_retired("reconcile", span, params)
    for c in checks if len(checks) <= 100 else failed:
        log.info(
            "%-20s %-22s expected %s, got %s (excluded %s)",
            c["check_name"],
            c["scope"],
            c["expected"],
            c["actual"],
            c["excluded"],
        )
    if failed:
        shown = "; ".join(
            f"{c['check_name']} {c['scope']}: raw {c['expected']} vs facts {c['actual']}" for c in failed[:20]
        )
        more = f" and {len(failed) - 20} more" if len(failed) > 20 else ""
        raise ReconciliationError(
            f"{span.label}: facts do not reconcile with the raw layer ({shown}{more}). Look at the raw rows "
            f"of those dates, fix the data or the build SQL, then re-run the date."
        )
    log.info("%s: %d reconciliation checks passed", span.label, len(checks))
    return checks


def refresh_all_views(conn: psycopg.Connection) -> None:
    """REFRESH ... CONCURRENTLY every marts view in dependency order, through the owner's function
    (REFRESH is reserved to a view's owner, and the loader owns nothing)."""
    for view in model.views():
        conn.execute("SELECT operations.refresh_materialized_view(%s::regclass)", (f"marts.{view.name}",))


def refresh_views(span: DateSpan, *, run: RunInfo = MANUAL, conninfo: str | None = None) -> list[str]:
    """REFRESH ... CONCURRENTLY each materialized view, in dependency order, so readers are never
    blocked."""
    views = [view.name for view in model.views()]
    with _locked(span, conninfo) as (conn, started):
        refresh_all_views(conn)
        record_step(conn, run, span.first, "refresh_views", len(views), {"views": views, "through": span.last}, started)
    return views


def rebuild(span: DateSpan, *, conninfo: str | None = None) -> dict[str, float]:
    """Every layer of the span's business dates from the raw layer, one statement per target for the
    whole span (the same SQL as the daily run); seconds per step."""
    steps: dict[str, float] = {}
    run = RunInfo(dag_id="rebuild", run_id=f"rebuild {span.label}")

    def timed(step: str, function, *args) -> None:
        start = time.perf_counter()
        function(*args, span, run=run.for_task(step), conninfo=conninfo)
        steps[step] = time.perf_counter() - start

    plan = [
        ("build_dimensions", build_dimensions, ()),
        *((f"build_{f}", build_fact, (f,)) for f in model.facts()),
        ("reconcile", reconcile, ()),
        ("refresh_views", refresh_views, ()),
    ]
    for step, function, args in track(plan, total=len(plan), desc=f"rebuild {span.label}", unit="step", logger=log):
        timed(step, function, *args)
    return steps


def main(argv: list[str] | None = None) -> int:
    from sap_warehouse.cli import command_parser

    parser = command_parser(
        "layers", "Rebuild the dimensions, facts and views of a range of business dates from the raw layer."
    )
    parser.add_argument("--from", dest="first", type=dt.date.fromisoformat, required=True, help="YYYY-MM-DD")
    parser.add_argument("--to", dest="last", type=dt.date.fromisoformat, required=True, help="YYYY-MM-DD")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        steps = rebuild(DateSpan(args.first, args.last))
    except (ValueError, ReconciliationError) as error:
        print(f"rebuild failed: {error}", file=sys.stderr)
        return 1
    for step, seconds in steps.items():
        print(f"{step:<32} {seconds:8.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
