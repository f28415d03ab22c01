"""Range-run benchmark: a backfill of --days dates as one range run against one daily run per date.

Generates --days business dates of every report with the project's generator (--rows lines a day of
MB51, ZRSD004 and ZRSD002, flat volume), then, on a fresh scratch warehouse each time, runs the daily
DAG for real (dag.test, Airflow's own overhead included):

  per-date runs   one run per date, in date order (what Airflow's backfill does)
  range run       one run with business_date .. business_date_to

and reports, per mode and --runs times (median, min, max): the wall time, seconds per date, and the
gates' share (the seconds the suites took, summed from operations.dq_validation_result).

Prints a table and appends it to BENCHMARKS.md with the command. Not part of the test command.

    scripts/dev exec python benchmarks/range_run.py --days 10 --rows 200 --runs 1
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from raw_load import machine, publish

from sap_warehouse_kit import exports, runner
from sap_warehouse_kit.scratch_db import create_database, drop_database, migrate

FIRST = dt.date(2026, 3, 2)


def gate_seconds(url: str) -> float:
    with psycopg.connect(url) as conn:
        return float(
            conn.execute(
                "SELECT coalesce(sum((statistics->>'seconds')::numeric), 0) FROM operations.dq_validation_result"
            ).fetchone()[0]
        )


def one(mode: str, days: list[dt.date], files: Path, template: str) -> tuple[float, float]:
    """One measured run of ``mode`` on a fresh copy of the migrated template: (wall s, gate s)."""
    name = f"wh_bench_range_{uuid.uuid4().hex[:8]}"
    url = create_database(name, template=template)
    work = Path(tempfile.mkdtemp(prefix="range-bench-"))
    try:
        shutil.copytree(files, work / "landing")
        for variable in (
            "AIRFLOW_CONN_WAREHOUSE_DB",
            "AIRFLOW_CONN_WAREHOUSE_OWNER_DB",
            "AIRFLOW_CONN_WAREHOUSE_BACKUP_DB",
        ):
            os.environ[variable] = url
        for location in ("landing", "archive", "quarantine"):
            os.environ[f"AIRFLOW_VAR_SAP_{location.upper()}_PATH"] = f"file://{work / location}"
        started = time.perf_counter()
        if mode == "range run":
            states = {days[0]: runner.run_daily_dag(days[0], through=days[-1])}
        else:
            states = {day: runner.run_daily_dag(day) for day in days}
        wall = time.perf_counter() - started
        if set(states.values()) != {"success"}:
            raise SystemExit(f"{mode}: runs did not succeed: {states}")
        return wall, gate_seconds(url)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        drop_database(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ["AIRFLOW_VAR_SAP_FILE_STABLE_SECONDS"] = "0"  # written whole before the runs
    days = [FIRST + dt.timedelta(days=i) for i in range(args.days)]
    with tempfile.TemporaryDirectory(prefix="range-bench-files-") as folder:
        files = Path(folder)
        for day in days:
            exports.write_day(files, day, args.rows, seed=7)
        template = f"wh_bench_range_template_{uuid.uuid4().hex[:8]}"
        migrate(create_database(template))
        try:
            measured = {
                mode: [one(mode, days, files, template) for _ in range(args.runs)]
                for mode in ("per-date runs", "range run")
            }
        finally:
            drop_database(template)
    lines = [
        f"## Range run vs one run per date ({dt.date.today()})",
        "",
        f"`scripts/dev exec python benchmarks/range_run.py --days {args.days} --rows {args.rows} --runs {args.runs}`",
        f"on {machine()}; {args.days} dates of every report, {args.rows} lines a day of MB51/ZRSD004/ZRSD002;"
        f" medians of {args.runs} (min..max).",
        "",
        "| mode | wall s | s per date | gates s | gates share |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for mode, results in measured.items():
        walls, gates = [w for w, _ in results], [g for _, g in results]
        wall, gate = statistics.median(walls), statistics.median(gates)
        lines.append(
            f"| {mode} | {wall:.1f} ({min(walls):.1f}..{max(walls):.1f}) | {wall / args.days:.2f} | {gate:.1f} |"
            f" {gate / wall:.0%} |"
        )
    ratio = statistics.median(w for w, _ in measured["per-date runs"]) / statistics.median(
        w for w, _ in measured["range run"]
    )
    lines += ["", f"The range run takes 1/{ratio:.1f} of the per-date runs' time."]
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    sys.exit(main())
