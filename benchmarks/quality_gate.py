"""Quality-gate benchmark: validating one business date's slice of a large raw table.

Loads two MB51 exports of --rows lines each (the day before D and D; the loader, as the DAG does) into
a scratch warehouse, then measures, --runs times:

  raw gate            sap_warehouse.gates.quality.validate_gate("raw", D): every raw suite (the function the
                      DAG's quality_gate_raw task calls), each expectation run as SQL in PostgreSQL on
                      D's slice; the raw_mb51 suite's own share is reported too
  fetch into pandas   pandas.read_sql of the same slice: what a pandas-based validation would pay
                      before checking anything (for comparison; nothing is validated)

Prints a table (median, min and max) and appends it to BENCHMARKS.md with the command. Not part of
the test command.

    scripts/dev exec python benchmarks/quality_gate.py --rows 200000 --runs 3
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

from raw_load import machine, parse_arguments, publish

from sap_warehouse.core.db import sqlalchemy_url
from sap_warehouse.core.run_info import RunInfo
from sap_warehouse.gates import quality
from sap_warehouse.ingest.raw_load import load_file
from sap_warehouse_kit.generator import mb51_movements, mb51_workbook
from sap_warehouse_kit.scratch_db import create_database, drop_database, migrate

DAY = dt.date(2026, 3, 3)
DATABASE = "bench_quality_gate"


def main() -> None:
    args = parse_arguments(__doc__)

    workdir = Path(tempfile.mkdtemp(prefix="bench-quality-"))
    url = create_database(DATABASE)
    try:
        migrate(url)
        for seed, day in enumerate((DAY - dt.timedelta(days=1), DAY), start=1):
            path = workdir / f"mb51-{day}.xlsx"
            path.write_bytes(mb51_workbook(mb51_movements(day, args.rows, seed), seed, header_row_zero=False))
            start = time.perf_counter()
            result = load_file(path, day, quarantine_root=workdir / "quarantine", conninfo=url)
            print(f"{day}: {result.rows_inserted:,} MB51 rows loaded in {time.perf_counter() - start:.1f} s")
        quality.load_suites()  # GX imported and the suites parsed before the clock starts, as in a warm task

        import pandas as pd
        import sqlalchemy

        engine = sqlalchemy.create_engine(sqlalchemy_url(url))
        slice_query = sqlalchemy.text("SELECT * FROM raw.raw_mb51 WHERE business_date = :day")
        samples: dict[str, list[float]] = {"raw gate (10 suites)": [], "raw_mb51 suite": [], "fetch into pandas": []}
        expectations = 0
        for run in range(args.runs):
            start = time.perf_counter()
            results = quality.validate_gate("raw", DAY, conninfo=url, run=RunInfo("benchmark", str(run)))
            samples["raw gate (10 suites)"].append(time.perf_counter() - start)
            mb51 = next(r for r in results if r.suite == "raw_mb51")
            samples["raw_mb51 suite"].append(mb51.statistics["seconds"])
            expectations = sum(r.statistics["evaluated_expectations"] for r in results)
            assert all(not r.critical for r in results), [r.failures for r in results if r.failures]
            start = time.perf_counter()
            frame = pd.read_sql(slice_query, engine, params={"day": DAY})
            samples["fetch into pandas"].append(time.perf_counter() - start)
            assert len(frame) == args.rows, len(frame)
            print(f"run {run + 1}/{args.runs} done", flush=True)
        engine.dispose()
    finally:
        drop_database(DATABASE)

    med = {stage: statistics.median(values) for stage, values in samples.items()}
    lines = [
        f"### Quality gate on one date's slice of raw_mb51, {args.rows:,} of {2 * args.rows:,} rows "
        f"({dt.date.today()})",
        "",
        f"Machine: {machine()}. PostgreSQL 15 (local cluster of scripts/dev). Command: "
        f"`scripts/dev exec python benchmarks/quality_gate.py --rows {args.rows} --runs {args.runs}`",
        "",
        "| measure | median s | min s | max s | rows/s (median) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for stage, values in samples.items():
        lines.append(
            f"| {stage} | {med[stage]:.2f} | {min(values):.2f} | {max(values):.2f} | {args.rows / med[stage]:,.0f} |"
        )
    lines += [
        "",
        f"- {expectations} expectations in all, each one SQL statement (or a few) on D's slice in PostgreSQL; "
        f"the day before D is in the table and not read",
        f"- the raw_mb51 suite takes {med['raw_mb51 suite']:.2f} s for {args.rows:,} rows; only fetching the same "
        f"slice into pandas, before any check, takes {med['fetch into pandas']:.2f} s",
        "",
    ]
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    sys.exit(main())
