"""Run the daily DAG for one business date or a range, without a scheduler.

Each date is one real run of ``sap_warehouse_daily`` through Airflow's ``dag.test()`` (its real
tasks, recorded in Airflow's metadata DB), one date after another; with ``--range-run`` the dates
are one range run instead (the business_date_to Param). For on-call repairs on a machine without a
running scheduler, and for the demo. Exit status 1 if any run did not succeed.

    scripts/dev exec sapwh run --from 2026-01-05 --to 2026-01-07 [--range-run]
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys

from sap_warehouse.core.registry import PROJECT_ROOT

DAG_ID = "sap_warehouse_daily"
log = logging.getLogger(__name__)


def run_daily_dag(business_date: dt.date, through: dt.date | None = None) -> str:
    """One real run of the daily DAG for the date (a range run through ``through``); returns the
    run's final state."""
    from airflow.dag_processing.dagbag import DagBag

    # dag.test() cannot finish a run of a DAG with a deadline alert (Airflow 3.3.2; dag_support.run_deadline).
    os.environ.setdefault("SAP_WAREHOUSE_DEADLINES", "off")
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    conf = {"business_date": business_date.isoformat(), "business_date_to": through.isoformat() if through else None}
    run = bag.get_dag(DAG_ID).test(run_conf=conf)
    return str(run.state)


def run_range(start: dt.date, end: dt.date) -> dict[dt.date, str]:
    """One run per date, in order, with progress (dates done of total, ETA)."""
    from sap_warehouse.core.progress import track

    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    states = {}
    for day in track(days, total=len(days), desc=f"{DAG_ID} runs", logger=log):
        states[day] = run_daily_dag(day)
        print(f"{DAG_ID} business_date={day}: {states[day]}", flush=True)
    return states


def preview(start: dt.date, end: dt.date, *, conninfo: str | None = None) -> list[str]:
    """What a range run of ``start``..``end`` would load, per date: each file of the landing zone,
    marked when the file ledger already holds its content (it would be a duplicate). Reads files and
    the ledger; changes nothing."""
    import hashlib

    from sap_warehouse.core.db import connect
    from sap_warehouse.ingest.landing import location, scan

    landing, lines, day = location("landing"), [], start
    with connect(conninfo) as conn:
        while day <= end:
            files, refused, skipped = scan(landing, day)
            digests = [hashlib.sha256(path.read_bytes()).hexdigest() for path in files]
            known = dict(
                conn.execute(
                    "SELECT DISTINCT ON (sha256) sha256, business_date FROM operations.etl_file_ledger "
                    "WHERE sha256 = ANY(%s) AND status = 'loaded' ORDER BY sha256, file_id",
                    (digests,),
                ).fetchall()
            )
            shown = [
                path.name + (f" (known: loaded for {known[digest]})" if digest in known else "")
                for path, digest in zip(files, digests, strict=True)
            ]
            shown += [f"{path.name} (refused: {reason})" for path, reason in refused]
            shown += [f"{path.name} (skipped: {reason})" for path, reason in skipped]
            lines.append(f"{day}: " + (", ".join(shown) if shown else "nothing in the landing zone"))
            day += dt.timedelta(days=1)
    return lines


def main(argv: list[str] | None = None) -> int:
    from sap_warehouse.cli import command_parser

    parser = command_parser("run", __doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="start", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--to", dest="end", type=dt.date.fromisoformat, help="default: --from")
    parser.add_argument("--range-run", action="store_true", help="one run for the whole range, not one per date")
    parser.add_argument("--dry-run", action="store_true", help="print what each date would load; run nothing")
    args = parser.parse_args(argv)
    if args.dry_run:
        for line in preview(args.start, args.end or args.start):
            print(line)
        print("dry run: nothing run")
        return 0
    if args.range_run:
        state = run_daily_dag(args.start, args.end or args.start)
        print(f"{DAG_ID} business_date={args.start} business_date_to={args.end or args.start}: {state}", flush=True)
        return 0 if state == "success" else 1
    states = run_range(args.start, args.end or args.start)
    return 0 if all(state == "success" for state in states.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
