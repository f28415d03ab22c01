"""Model-build benchmark: does one business date's build follow the day's volume, not the history?

Generates --days business dates of every report with the project's generator (--rows lines of
MB51, ZRSD004 and ZRSD002 a day), loads each date into a scratch warehouse with the loader and
builds it (dimensions, every fact, reconciliation, views: the functions the DAG tasks call). It
measures:

  day build at N days   rebuilding the date N (all layers), --runs times, when N days are loaded:
                        at --early days and at the end (--days); the ratio must stay under 1.5
  full rebuild          every dimension and fact emptied, then all dates rebuilt at once
                        (layers.rebuild, what `python -m sap_warehouse.build.layers` runs): rows/s per fact

Prints a table and appends it to BENCHMARKS.md with the command. Not part of the test command.

    scripts/dev exec python benchmarks/model_build.py --days 365 --early 30 --rows 200 --runs 3
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql
from raw_load import machine, publish

from sap_warehouse.build import layers
from sap_warehouse.core import model
from sap_warehouse.core.business_date import DateSpan
from sap_warehouse.core.db import row_count, table_name
from sap_warehouse.ingest.raw_load import load_file
from sap_warehouse_kit import exports
from sap_warehouse_kit.scratch_db import create_database, drop_database, migrate

FIRST = dt.date(2025, 1, 1)


def build(url: str, day: dt.date) -> dict[str, float]:
    """All layers of one date; seconds per step."""
    steps = {}
    start = time.perf_counter()
    layers.build_dimensions(DateSpan.of(day), conninfo=url)
    steps["dimensions"] = time.perf_counter() - start
    for fact in model.facts():
        start = time.perf_counter()
        layers.build_fact(fact, DateSpan.of(day), conninfo=url)
        steps[fact] = time.perf_counter() - start
    start = time.perf_counter()
    layers.reconcile(DateSpan.of(day), conninfo=url)
    steps["reconcile"] = time.perf_counter() - start
    start = time.perf_counter()
    layers.refresh_views(DateSpan.of(day), conninfo=url)
    steps["views"] = time.perf_counter() - start
    return steps


def load_day(url: str, landing: Path, day: dt.date, rows: int) -> None:
    exports.write_day(landing, day, rows, seed=7)
    folder = landing / day.isoformat()
    for path in sorted(folder.iterdir()):
        result = load_file(path, day, quarantine_root=landing / "quarantine", conninfo=url)
        if result.status == "quarantined":
            raise SystemExit(f"{path.name}: {result.reason}")
        path.unlink()


def timed_rebuilds(url: str, day: dt.date, runs: int) -> list[float]:
    return [sum(build(url, day).values()) for _ in range(runs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--early", type=int, default=30)
    parser.add_argument("--rows", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()

    name = "bench_model_build"
    url = create_database(name)
    migrate(url)
    landing = Path(tempfile.mkdtemp(prefix="bench-model-"))
    days = [FIRST + dt.timedelta(days=i) for i in range(args.days)]
    try:
        t0 = time.perf_counter()
        at: dict[int, list[float]] = {}
        for i, day in enumerate(days, start=1):
            load_day(url, landing, day, args.rows)
            build(url, day)
            if i in (args.early, args.days):
                at[i] = timed_rebuilds(url, day, args.runs)
                print(f"{i} days loaded: day build {statistics.median(at[i]):.2f} s", flush=True)
            elif i % 30 == 0:
                print(f"{i} days loaded ({time.perf_counter() - t0:.0f} s)", flush=True)

        with psycopg.connect(url, autocommit=True) as conn:
            raw_rows = sum(
                row_count(conn, f"raw.{table}")
                for table in ("raw_mb51", "raw_zrsd002", "raw_zrsd004", "raw_cooispi", "raw_zrpp062", "raw_zrfi005")
            )
            dims = [f"dims.{d.name}" for d in model.dimensions()]
            dims.remove("dims.dim_date")  # the migration's calendar, not rebuilt
            targets = [table_name(t) for t in dims + [f"facts.{f}" for f in model.facts()]]
            conn.execute(sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(targets)))
            conn.execute("VACUUM ANALYZE")
        start = time.perf_counter()
        per_step = layers.rebuild(DateSpan(days[0], days[-1]), conninfo=url)
        full = time.perf_counter() - start
        with psycopg.connect(url, autocommit=True) as conn:
            fact_rows = {f"build_{f}": row_count(conn, f"facts.{f}") for f in model.facts()}
            fact_rows["build_dimensions"] = sum(row_count(conn, d) for d in dims)
    finally:
        drop_database(name)

    early, late = statistics.median(at[args.early]), statistics.median(at[args.days])
    command = (
        f"scripts/dev exec python benchmarks/model_build.py --days {args.days} --early {args.early} "
        f"--rows {args.rows} --runs {args.runs}"
    )
    lines = [
        f"### Model build per business date, {args.early} vs {args.days} days of history ({dt.date.today()})",
        "",
        f"Machine: {machine()}. PostgreSQL 15 (local cluster of scripts/dev). Command: `{command}`",
        f"Data: {args.rows} lines a day of MB51, ZRSD004 and ZRSD002 plus every other report; "
        f"{raw_rows:,} raw rows after {args.days} days.",
        "",
        "| measure | median s | min s | max s |",
        "| --- | ---: | ---: | ---: |",
        f"| one date, all layers, {args.early} days loaded | {early:.2f} | {min(at[args.early]):.2f} | "
        f"{max(at[args.early]):.2f} |",
        f"| one date, all layers, {args.days} days loaded | {late:.2f} | {min(at[args.days]):.2f} | "
        f"{max(at[args.days]):.2f} |",
        "",
        f"- {args.days} days / {args.early} days = **{late / early:.2f}x** (target: under 1.5x)",
        f"- full rebuild of {args.days} dates at once (dimensions and facts emptied first): {full:.1f} s",
        "",
        "| step (full rebuild) | seconds | rows written | rows/s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for step, seconds in per_step.items():
        rows = fact_rows.get(step)
        lines.append(
            f"| {step} | {seconds:.1f} | {rows if rows is not None else '-'} | "
            f"{f'{rows / seconds:,.0f}' if rows else '-'} |"
        )
    lines.append("")
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    sys.exit(main())
