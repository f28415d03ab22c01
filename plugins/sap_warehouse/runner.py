"""Run the daily DAG for one business date or a range, without a scheduler.

Each date is one real run of ``sap_warehouse_daily`` through Airflow's ``dag.test()`` (its real
tasks, recorded in Airflow's metadata DB), one date after another. For on-call repairs on a machine
without a running scheduler, and for the demo. Exit status 1 if any run did not succeed.

    scripts/dev exec python -m sap_warehouse.runner --from 2026-01-05 --to 2026-01-07
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

from sap_warehouse.registry import PROJECT_ROOT

DAG_ID = "sap_warehouse_daily"


def run_daily_dag(business_date: dt.date) -> str:
    """One real run of the daily DAG for the date; returns the run's final state."""
    from airflow.dag_processing.dagbag import DagBag

    # dag.test() cannot finish a run of a DAG with a deadline alert (Airflow 3.3.2; dag_support.run_deadline).
    os.environ.setdefault("SAP_WAREHOUSE_DEADLINES", "off")
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    run = bag.get_dag(DAG_ID).test(run_conf={"business_date": business_date.isoformat()})
    return str(run.state)


def run_range(start: dt.date, end: dt.date) -> dict[dt.date, str]:
    states = {}
    day = start
    while day <= end:
        states[day] = run_daily_dag(day)
        print(f"{DAG_ID} business_date={day}: {states[day]}", flush=True)
        day += dt.timedelta(days=1)
    return states


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="start", type=dt.date.fromisoformat, required=True)
    parser.add_argument("--to", dest="end", type=dt.date.fromisoformat, help="default: --from")
    args = parser.parse_args(argv)
    states = run_range(args.start, args.end or args.start)
    return 0 if all(state == "success" for state in states.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
