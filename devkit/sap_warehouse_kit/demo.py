"""The main job on a local default: generate a few days of SAP exports and run the daily DAG.

Writes one generated export of every SAP report per business date into the landing location
(``sap_landing_path``), optionally with bad files (``--inject``), runs
``sap_warehouse_daily`` once per business date through Airflow's ``dag.test()`` (the real DAG,
its real tasks, no scheduler needed), then prints what each layer holds. Deterministic for a
seed: running it again re-delivers the same files, which the ledger recognises, and leaves the
warehouse as it was.

    scripts/dev demo [--from 2026-01-05] [--days 3] [--rows 2000] [--seed 42] [--inject wrong_type,...]
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit

from psycopg import sql

from sap_warehouse.core import model
from sap_warehouse.core.db import connect
from sap_warehouse.core.registry import reports
from sap_warehouse_kit.exports import (
    BAD_INPUTS,
    CONDITIONS,
    add_volume_arguments,
    volume_from_arguments,
    write_day,
)
from sap_warehouse_kit.runner import run_range


def landing_dir() -> Path:
    """The landing location as a local directory (the demo writes its exports there)."""
    from airflow.models.variable import Variable

    from sap_warehouse.ingest.landing import default_url

    url = Variable.get("sap_landing_path", default_var=default_url("landing"))
    parts = urlsplit(url)
    if parts.scheme not in ("", "file"):
        raise SystemExit(f"sap_landing_path is {url}: the demo writes local files; point it at a file:// URL")
    return Path(parts.path)


# The dimensions worth a count in the demo's summary (dim_date and the configured ones say nothing), then
# every fact of the model.
MODEL_TABLES = (
    "dims.dim_material",
    "dims.dim_customer",
    "dims.dim_location",
    *(f"facts.{fact}" for fact in model.facts()),
)

SUMMARY_SQL = """
SELECT d.day,
       count(l.file_id) FILTER (WHERE l.status = 'loaded'),
       count(l.file_id) FILTER (WHERE l.status = 'duplicate'),
       count(l.file_id) FILTER (WHERE l.status = 'quarantined'),
       coalesce(sum(l.rows_inserted), 0),
       coalesce(sum(l.rows_updated), 0),
       coalesce(sum(l.rows_unchanged), 0),
       coalesce(sum(l.rows_rejected), 0),
       coalesce(sum(l.rows_summary), 0),
       coalesce(sum(l.cell_issues), 0),
       (SELECT count(*) FROM facts.fact_inventory f WHERE f.movement_date = d.day)
  FROM unnest(%s::date[]) AS d(day)
  LEFT JOIN operations.etl_file_ledger l ON l.business_date = d.day
 GROUP BY d.day ORDER BY d.day
"""


def summary(days: list[dt.date], states: dict[dt.date, str]) -> str:
    with connect() as conn:
        per_day = conn.execute(SUMMARY_SQL, (days,)).fetchall()
        raw_counts = {
            r.raw_table: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier("raw", r.raw_table))
            ).fetchone()[0]
            for r in reports().values()
        }
        model = {
            table: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.SQL(table))).fetchone()[0]
            for table in MODEL_TABLES
        }
        revenue = conn.execute(
            """SELECT currency, sum(sales_amount), sum(gross_margin) FROM facts.fact_billing
                WHERE billing_date = ANY(%s) GROUP BY 1 ORDER BY 1""",
            (days,),
        ).fetchall()
        links = conn.execute(
            "SELECT link_rule, count(*), round(avg(yield_pct) FILTER (WHERE produced_qty > 0), 1) "
            "FROM facts.fact_production_chain GROUP BY 1 ORDER BY 1"
        ).fetchall()
        missing = conn.execute(
            """SELECT business_date, report FROM operations.etl_file_ledger
                WHERE status = 'missing' AND business_date = ANY(%s) ORDER BY 1, 2""",
            (days,),
        ).fetchall()
        quarantined = conn.execute(
            """SELECT business_date, file_name, reason FROM operations.etl_file_ledger
                WHERE status = 'quarantined' AND business_date = ANY(%s) ORDER BY 1, 2""",
            (days,),
        ).fetchall()
        cell_issues = conn.execute(
            """SELECT l.report, c.key, sum(c.value::integer) FROM operations.etl_file_ledger l,
                      jsonb_each_text(l.cell_issue_columns) c
                WHERE l.business_date = ANY(%s) GROUP BY 1, 2 ORDER BY 1, 2""",
            (days,),
        ).fetchall()
        alerts = conn.execute(
            "SELECT severity, count(*) FROM facts.fact_alert WHERE status <> 'resolved' GROUP BY 1 ORDER BY 1"
        ).fetchall()
        positions = conn.execute(
            "SELECT count(*), count(on_hand_qty), count(*) FILTER (WHERE on_hand_qty < 0) "
            "FROM marts.view_inventory_summary"
        ).fetchone()
        quality = conn.execute(
            """SELECT DISTINCT ON (business_date, suite_name) business_date, critical_failures, warning_failures
                 FROM operations.dq_validation_result WHERE business_date = ANY(%s)
                ORDER BY business_date, suite_name, result_id DESC""",
            (days,),
        ).fetchall()
    lines = [
        "",
        "ledger per business date (all runs so far) and fact rows now:",
        f"{'business date':<14}{'run':<9}{'files':>6}{'dup':>5}{'quar':>5}{'inserted':>9}{'updated':>8}"
        f"{'unchanged':>10}{'rejected':>9}{'totals':>7}{'cells':>6}{'fact rows':>10}",
    ]
    for day, loaded, dup, quar, inserted, updated, unchanged, rejected, totals, cells, fact_rows in per_day:
        lines.append(
            f"{day.isoformat():<14}{states[day]:<9}{loaded:>6}{dup:>5}{quar:>5}{inserted:>9}{updated:>8}"
            f"{unchanged:>10}{rejected:>9}{totals:>7}{cells:>6}{fact_rows:>10}"
        )
    lines.append(
        "totals = SAP list totals counted, not loaded; cells = values that failed typing, loaded as NULL"
        " (operations.etl_cell_issue)"
    )
    lines.append("")
    lines.append("raw rows: " + " | ".join(f"{table} {count}" for table, count in raw_counts.items()))
    lines.append("model rows: " + " | ".join(f"{table.split('.')[1]} {count}" for table, count in model.items()))
    lines.append(
        "billed (non-cancelled): "
        + " | ".join(f"{cur} revenue {amount:,.2f}, margin {margin:,.2f}" for cur, amount, margin in revenue)
    )
    lines.append(
        "genealogy links: "
        + " | ".join(f"{rule} {count} (avg yield {avg}% where produced)" for rule, count, avg in links)
    )
    lines.append(
        f"quality gates (latest per suite and date): {len(quality)} suite validations, "
        f"{sum(r[1] for r in quality)} critical and {sum(r[2] for r in quality)} warning failures"
    )
    lines.append(
        "cell issues: "
        + (" | ".join(f"{report} {column} {count}" for report, column, count in cell_issues) if cell_issues else "none")
    )
    lines.append("open alerts: " + (", ".join(f"{n} {severity}" for severity, n in alerts) if alerts else "none"))
    lines.append(
        f"stock positions: {positions[0]}, {positions[1]} with a count (MB52) as baseline, "
        f"{positions[0] - positions[1]} without (no stock shown), {positions[2]} negative"
    )
    lines.append("missing reports: " + (", ".join(f"{d} {r}" for d, r in missing) if missing else "none"))
    lines.append(
        "quarantined: none"
        if not quarantined
        else "quarantined:\n" + "\n".join(f"  {d} {reason}" for d, _, reason in quarantined)
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from sap_warehouse.cli import command_parser

    parser = command_parser("demo", __doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="start", type=dt.date.fromisoformat, default=dt.date(2026, 1, 5))
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--rows", type=int, default=2000, help="MB51 lines on an average business date")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--inject",
        default="",
        help=f"bad files ({', '.join(BAD_INPUTS)}) or alert conditions ({', '.join(CONDITIONS)}) to add each day",
    )
    add_volume_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    # The demo wrote its files itself, whole, before the runs: no copy to wait for.
    os.environ.setdefault("AIRFLOW_VAR_SAP_FILE_STABLE_SECONDS", "0")
    end = args.start + dt.timedelta(days=args.days - 1)
    landing = landing_dir()
    inject = tuple(kind for kind in args.inject.split(",") if kind)
    for offset in range(args.days):
        day = args.start + dt.timedelta(days=offset)
        write_day(
            landing, day, args.rows, args.seed, inject=inject, volume=volume_from_arguments(args), first=args.start
        )
    print(f"generated exports of every report for {args.start}..{end} in {landing}")
    states = run_range(args.start, end)
    print(summary(list(states), states))
    return 0 if all(state == "success" for state in states.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
