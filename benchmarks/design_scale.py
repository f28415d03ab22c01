"""Design-scale benchmark: a year of SAP exports through the pipeline, against the floor and the usual approach.

Generates --days business dates of every report with the project's generator (--rows lines a day of
MB51, ZRSD004 and ZRSD002; the default year is about 2 million raw rows), plus the day after them,
then measures each of the following --runs times (median, min and max), every stage in processes of
its own so that its peak memory is its own:

  floor           python-calamine's bare read of every workbook (r="0" exports repaired first: bare
                  calamine cannot read them), then psql \\copy of the same rows from CSV files into
                  plain typed tables; two at a time, as the pipeline uses both cores
  initial load    the whole year through the functions the DAG tasks call, on a fresh database:
                    read, raw load        raw_load.load_files of every file, cut into load tasks as a
                                          range run cuts them (delivery.batches), two tasks at a time
                                          (the DAG's default); the read is its share of the workers' time
                    dims, facts, genealogy, reconcile, views
                                          layers.rebuild of the year: the daily build tasks' functions
                                          over the range (`python -m sap_warehouse.build.layers`)
                    gates                 quality.validate_dates, raw then facts, on every date of the
                                          year at once: the range run's gate tasks
                    alerts                alerts.evaluate as of the last date (a range run's alert task)
                  i.e. the range run's work, task function by task function, without Airflow's own
                  cost (benchmarks/scheduler_path.py measures the same range run through the scheduler)
  daily run       `airflow dags test sap_warehouse_daily` for the day after the year (Airflow's own
                  overhead included), on a copy of the loaded year and on a copy holding only its last
                  twelfth: the cost must follow the day's volume, not the history
  usual approach  on every file of the first --usual-days dates (their r="0" header rows repaired
                  first, so that pandas reads them right): pandas.read_excel with openpyxl and
                  DataFrame.to_sql per file; a row-by-row SQLAlchemy ORM insert of --orm-rows MB51 rows,
                  extrapolated to the same number of rows; against the load tasks' load_files of the
                  same files

Prints the table, appends it to BENCHMARKS.md and draws the per-stage chart docs/benchmarks.md shows
(docs/benchmark_stages.png). Drops its databases and deletes its files at the end. Not part of the
test command.

    scripts/dev exec python benchmarks/design_scale.py            # a year, about 2M raw rows (< 30 min)
    scripts/dev exec python benchmarks/design_scale.py --quick    # 14 days of 100 lines (a few minutes)
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime as dt
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

from raw_load import PSQL, ROOT, machine, peak_mb, publish
from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sap_warehouse.core.business_date import DateSpan
from sap_warehouse.core.registry import reports

FIRST = dt.date(2025, 1, 1)
PREFIX = "bench_scale"
CHART = ROOT / "docs" / "benchmark_stages.png"
WORKERS = 2  # the DAG's default load parallelism, one per core of the reference machine
FULL = {"days": 365, "rows": 1000, "usual_days": 1, "orm_rows": 20_000}
QUICK = {"days": 14, "rows": 100, "usual_days": 1, "orm_rows": 2_000}
HISTORY_SHARE = 12  # the daily run on the whole year against the run on its last twelfth
RAW_TABLES = tuple(report.raw_table for report in reports().values())


# ---------------------------------------------------------------- measured stages (child processes)


def _read_bare(path: str) -> int:
    from python_calamine import CalamineError, CalamineWorkbook

    from sap_warehouse.ingest.workbook import _repair_row_zero

    try:
        rows = CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()
    except CalamineError:  # an r="0" header row: bare calamine refuses the sheet
        book = CalamineWorkbook.from_filelike(io.BytesIO(_repair_row_zero(Path(path).read_bytes())))
        rows = book.get_sheet_by_index(0).to_python()
    return len(rows)


def _load_batch(files: list[tuple[str, str]], url: str, quarantine: str) -> list[dict]:
    """One load task's files (delivery.batches), loaded as the task loads them: load_files."""
    from sap_warehouse.ingest.raw_load import load_files

    given = [(Path(path), dt.date.fromisoformat(day), False) for path, day in files]
    results = load_files(given, quarantine_root=Path(quarantine), conninfo=url)
    for result in results:
        if result.status == "quarantined":  # "duplicate" is right for master data delivered unchanged
            raise SystemExit(f"{result.file_name}: {result.reason}")
    return [result.as_dict() for result in results]


def stage_floor_read(p: dict) -> dict:
    with ProcessPoolExecutor(WORKERS) as pool:
        list(pool.map(_read_bare, p["files"], chunksize=8))
    return {}


def stage_floor_copy(p: dict) -> dict:
    def copy(table: str) -> None:
        command = f"\\copy {table} FROM '{p['csv_dir']}/{table}.csv' CSV"
        subprocess.run([PSQL, "-X", "-q", p["url"], "-c", command], check=True)

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(copy, p["tables"]))
    return {}


def stage_raw_load(p: dict) -> dict:
    """The files cut into load tasks as the range run cuts them, ``workers`` tasks at a time."""
    from sap_warehouse.ingest.delivery import batches

    found = [{"file_name": f, "business_date": d, "size_bytes": os.path.getsize(f)} for f, d in p["files"]]
    parts = [[(f["file_name"], f["business_date"]) for f in part["files"]] for part in batches(found, p["workers"])]
    with ProcessPoolExecutor(p["workers"]) as pool:
        done = pool.map(_load_batch, parts, [p["url"]] * len(parts), [p["quarantine"]] * len(parts))
        results = [result for part in done for result in part]
    return {
        "seconds_read": sum(r["seconds_read"] for r in results),
        "seconds_files": sum(r["seconds"] for r in results),
    }


def stage_rebuild(p: dict) -> dict:
    from sap_warehouse.build import layers

    steps = layers.rebuild(DateSpan.from_iso([p["first"], p["last"]]), conninfo=p["url"])
    return {"steps": steps}


def stage_gates(p: dict) -> dict:
    """The range run's two gate tasks: every date of the range at once (a screen, then date by date
    where it failed and on the last date)."""
    from sap_warehouse.gates.quality import validate_dates

    dates = [dt.date.fromisoformat(day) for day in p["dates"]]
    return {gate: _timed(validate_dates, gate, dates, conninfo=p["url"]) for gate in ("raw", "facts")}


def _timed(function, *args, **kwargs) -> float:
    start = time.perf_counter()
    function(*args, **kwargs)
    return time.perf_counter() - start


def stage_alerts(p: dict) -> dict:
    from sap_warehouse.signals.alerts import evaluate

    evaluate(dt.date.fromisoformat(p["day"]), conninfo=p["url"])
    return {}


def stage_daily_run(p: dict) -> dict:
    env = {
        **os.environ,
        "AIRFLOW_CONN_WAREHOUSE_DB": p["url"],
        "AIRFLOW_VAR_SAP_LANDING_PATH": f"file://{p['landing']}",
        "AIRFLOW_VAR_SAP_ARCHIVE_PATH": f"file://{p['work']}/archive",
        "AIRFLOW_VAR_SAP_QUARANTINE_PATH": f"file://{p['work']}/quarantine",
        "SAP_WAREHOUSE_DEADLINES": "off",  # dag.test cannot finish a run with a deadline (runner.py)
        "AIRFLOW_VAR_SAP_FILE_STABLE_SECONDS": "0",  # the copied files are whole: no waiting for them to settle
    }
    airflow = str(Path(sys.executable).parent / "airflow")
    conf = json.dumps({"business_date": p["day"]})
    out = subprocess.run(
        [airflow, "dags", "test", "sap_warehouse_daily", "--conf", conf], env=env, capture_output=True, text=True
    )
    if out.returncode != 0:
        raise SystemExit(f"airflow dags test failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return {"tasks": _task_seconds("sap_warehouse_daily")}


def _task_seconds(dag_id: str) -> dict[str, float]:
    """Seconds each task of the DAG's latest run took, a mapped task's instances summed (Airflow's record)."""
    from airflow.models import DagRun, TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        run = session.query(DagRun).filter(DagRun.dag_id == dag_id).order_by(DagRun.id.desc()).first()
        found = session.query(TaskInstance).filter(TaskInstance.dag_id == dag_id, TaskInstance.run_id == run.run_id)
        seconds: dict[str, float] = {}
        for ti in found:
            seconds[ti.task_id] = seconds.get(ti.task_id, 0.0) + (ti.duration or 0.0)
    return seconds


def stage_usual(p: dict) -> dict:
    """The usual approach: pandas.read_excel (openpyxl) and DataFrame.to_sql, file by file."""
    import pandas as pd
    from sqlalchemy import create_engine

    from sap_warehouse.core.db import sqlalchemy_url
    from sap_warehouse.ingest.workbook import _repair_row_zero

    engine = create_engine(sqlalchemy_url(p["url"]))
    read = write = 0.0
    rows = headless = 0
    for number, path in enumerate(p["files"]):
        # The header fixed for pandas first (not timed): openpyxl drops an r="0" row and reads no header.
        fixed = io.BytesIO(_repair_row_zero(Path(path).read_bytes()))
        start = time.perf_counter()
        # dtype=str: SAP columns mix numbers, dates and text, which to_sql cannot insert into one typed column
        frame = pd.read_excel(fixed, engine="openpyxl", dtype=str)
        read += time.perf_counter() - start
        start = time.perf_counter()
        frame.to_sql(f"usual_{number}", engine, index=False)
        write += time.perf_counter() - start
        rows += len(frame)
        headless += all(str(c).startswith("Unnamed: ") for c in frame.columns)
    engine.dispose()
    return {"rows": rows, "seconds_read": read, "seconds_write": write, "headless": headless}


class OrmBase(DeclarativeBase):
    pass


class OrmMovement(OrmBase):
    """An MB51 line as the usual row-by-row code maps it."""

    __tablename__ = "orm_mb51"
    id: Mapped[int] = mapped_column(primary_key=True)
    posting_date: Mapped[dt.date]
    movement_type: Mapped[str] = mapped_column(String)
    plant: Mapped[str] = mapped_column(String)
    storage_location: Mapped[str] = mapped_column(String)
    material: Mapped[str] = mapped_column(String)
    unit: Mapped[str] = mapped_column(String)
    quantity: Mapped[Decimal]
    material_document: Mapped[str] = mapped_column(String)
    batch: Mapped[str] = mapped_column(String)
    text: Mapped[str | None] = mapped_column(String)
    purchase_order: Mapped[str | None] = mapped_column(String)


def stage_orm(p: dict) -> dict:
    """The usual approach, row by row: one ORM object, one INSERT and one commit per MB51 line."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from sap_warehouse.core.db import sqlalchemy_url

    with open(p["csv"], newline="", encoding="utf-8") as fh:
        lines = [line for _, line in zip(range(p["rows"]), csv.reader(fh), strict=False)]
    engine = create_engine(sqlalchemy_url(p["url"]))
    OrmBase.metadata.create_all(engine)
    start = time.perf_counter()
    with Session(engine) as session:
        for line in lines:
            session.add(
                OrmMovement(
                    posting_date=dt.date.fromisoformat(line[0]),
                    movement_type=line[1],
                    plant=line[2],
                    storage_location=line[3],
                    material=line[4],
                    unit=line[5],
                    quantity=Decimal(line[6]),
                    material_document=line[7],
                    batch=line[8],
                    text=line[9] or None,
                    purchase_order=line[10] or None,
                )
            )
            session.commit()
    seconds = time.perf_counter() - start
    engine.dispose()
    return {"rows": len(lines), "insert_seconds": seconds}


STAGES = {name.removeprefix("stage_"): f for name, f in dict(globals()).items() if name.startswith("stage_")}


def run_child(stage: str, payload_file: str) -> None:
    payload = json.loads(Path(payload_file).read_text())
    import sap_warehouse.ingest.raw_load  # noqa: F401  (imported before the clock starts, as in a warm worker)

    start = time.perf_counter()
    extra = STAGES[stage](payload)
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": peak_mb(), **extra}))


# ---------------------------------------------------------------- the driver


class Bench:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.samples: dict[str, list[float]] = {}
        self.peaks: dict[str, float] = {}
        self.databases: set[str] = set()

    def child(self, stage: str, payload: dict, label: str | None = None) -> dict:
        """Run one stage in a fresh interpreter; record its seconds and peak memory under ``label``."""
        payload_file = self.work / "payload.json"
        payload_file.write_text(json.dumps(payload))
        out = subprocess.run(
            [sys.executable, __file__, "--child", stage, str(payload_file)], capture_output=True, text=True
        )
        if out.returncode != 0:
            raise SystemExit(f"stage {stage} failed:\n{out.stdout[-2000:]}\n{out.stderr[-4000:]}")
        result = json.loads(out.stdout.strip().splitlines()[-1])
        if label:
            self.record(label, result["seconds"], result["peak_mb"])
        return result

    def record(self, label: str, seconds: float, peak: float | None = None) -> None:
        self.samples.setdefault(label, []).append(seconds)
        if peak is not None:
            self.peaks[label] = max(self.peaks.get(label, 0.0), peak)

    def database(self, name: str, template: str | None = None) -> str:
        """A fresh database, empty or a file copy of ``template`` (fast for a loaded year); its URI."""
        from sap_warehouse_kit.scratch_db import create_database

        full = f"{PREFIX}_{name}"
        self.databases.add(full)
        return create_database(full, template=template and f"{PREFIX}_{template}", file_copy=True)

    def drop(self, name: str) -> None:
        from sap_warehouse_kit.scratch_db import drop_database

        drop_database(f"{PREFIX}_{name}")
        self.databases.discard(f"{PREFIX}_{name}")

    def median(self, label: str) -> float:
        return statistics.median(self.samples[label])


def _csv_value(value) -> str | None:
    if isinstance(value, dt.date):
        return value.isoformat()
    return None if value is None or value == "" else str(value)


def _sql_type(values) -> str:
    value = next((v for v in values if v not in (None, "")), "")
    return "date" if isinstance(value, dt.date) else "numeric" if isinstance(value, Decimal) else "text"


def generate_day(landing: Path, csv_dir: Path, day: dt.date, rows: int) -> dict[str, list]:
    """One date of every report (the workbooks), and its truth as CSV lines per report."""
    from sap_warehouse_kit import exports

    written = exports.write_day(landing, day, rows, seed=7)
    shapes = {}
    for report, items in written.items():
        records = [dataclasses.asdict(m) for m in items] if report == "mb51" else items
        if not records:
            continue
        columns = list(records[0])
        with open(csv_dir / f"{report}.{day.isoformat()}.csv", "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([_csv_value(r[c]) for c in columns] for r in records)
        shapes[report] = [(c, _sql_type(r[c] for r in records)) for c in columns]
    return shapes


def generate(work: Path, days: list[dt.date], rows: int, extra: dt.date) -> tuple[Path, Path, dict[str, list]]:
    """The workbooks of ``days`` and of ``extra``, and one CSV of the truth per report for ``days`` only."""
    landing, csv_dir = work / "landing", work / "csv"
    csv_dir.mkdir(parents=True)
    every = [*days, extra]
    with ProcessPoolExecutor(WORKERS) as pool:
        shapes = list(
            pool.map(generate_day, [landing] * len(every), [csv_dir] * len(every), every, [rows] * len(every))
        )
    for part in csv_dir.glob(f"*.{extra.isoformat()}.csv"):
        part.unlink()
    types: dict[str, list] = {}
    for report in sorted({r for s in shapes for r in s}):
        parts = sorted(csv_dir.glob(f"{report}.*.csv"))
        with open(csv_dir / f"floor_{report}.csv", "wb") as out:
            for part in parts:
                out.write(part.read_bytes())
                part.unlink()
        found = [s[report] for s in shapes if report in s]
        # A column empty on one day is text there: take the most specific type any day saw.
        types[report] = [
            (name, next((t[i][1] for t in found if t[i][1] != "text"), "text")) for i, (name, _) in enumerate(found[0])
        ]
    return landing, csv_dir, types


def files_of(landing: Path, days: list[dt.date]) -> list[tuple[str, str]]:
    return [(str(f), d.isoformat()) for d in days for f in sorted((landing / d.isoformat()).iterdir())]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"a small dataset for development: {QUICK}")
    parser.add_argument("--days", type=int, help=f"business dates (default {FULL['days']})")
    parser.add_argument("--rows", type=int, help=f"lines a day of MB51, ZRSD004 and ZRSD002 (default {FULL['rows']})")
    parser.add_argument(
        "--usual-days", type=int, help=f"dates of the usual-approach sample (default {FULL['usual_days']})"
    )
    parser.add_argument("--orm-rows", type=int, help=f"rows inserted row by row (default {FULL['orm_rows']})")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--daily-only", action="store_true", help="only the daily run at full and 1/12 history (the year loaded once)"
    )
    parser.add_argument("--no-record", action="store_true", help="print only: no BENCHMARKS.md entry, no chart")
    args = parser.parse_args()
    size = {k: getattr(args, k) or v for k, v in (QUICK if args.quick else FULL).items()}
    if size["usual_days"] > size["days"]:
        parser.error("--usual-days must not exceed --days")

    started = time.perf_counter()
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    bench = Bench(work)
    try:
        report = measure(bench, work, size, args.runs, args.daily_only)
    finally:
        for name in list(bench.databases):
            bench.drop(name.removeprefix(f"{PREFIX}_"))
        shutil.rmtree(work, ignore_errors=True)
    total = time.perf_counter() - started
    command = "scripts/dev exec python benchmarks/design_scale.py" + (" --quick" if args.quick else "")
    extra = [f"--{k.replace('_', '-')} {v}" for k, v in size.items() if v != (QUICK if args.quick else FULL)[k]]
    if args.runs != 3:
        extra.append(f"--runs {args.runs}")
    command += "".join(f" {e}" for e in extra) + (" --daily-only" if args.daily_only else "")
    if args.daily_only:
        lines = render_daily(bench, size, args.runs, report, command, total)
    else:
        lines = render(bench, size, args.runs, report, command, total)
    publish(lines, record=not args.no_record)
    if not args.no_record and not args.daily_only:
        chart(bench, size)


def measure_floor(bench: Bench, files: list[str], csv_dir: Path, types: dict[str, list]) -> int:
    """The floor, recorded as "floor: read" and "floor: copy": calamine's bare read of every workbook
    of ``files``, then psql \\copy of the same rows (``csv_dir``) into plain typed tables. Returns the
    rows copied."""
    import psycopg
    from psycopg import sql

    bench.child("floor_read", {"files": [f for f in files if f.endswith(".xlsx")]}, "floor: read")
    url = bench.database("floor")
    with psycopg.connect(url, autocommit=True) as conn:
        for name, columns in types.items():
            body = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in columns)
            conn.execute(sql.SQL("CREATE TABLE {} ({})").format(sql.Identifier(f"floor_{name}"), body))
        bench.child(
            "floor_copy", {"url": url, "csv_dir": str(csv_dir), "tables": [f"floor_{n}" for n in types]}, "floor: copy"
        )
        count = sql.SQL("SELECT count(*) FROM {}")
        rows = sum(conn.execute(count.format(sql.Identifier(f"floor_{n}"))).fetchone()[0] for n in types)
    bench.drop("floor")
    return rows


def measure(bench: Bench, work: Path, size: dict, runs: int, daily_only: bool = False) -> dict:
    days = [FIRST + dt.timedelta(days=i) for i in range(size["days"])]
    next_day = FIRST + dt.timedelta(days=size["days"])
    t0 = time.perf_counter()
    landing, csv_dir, types = generate(work, days, size["rows"], next_day)
    print(f"generated {len(days) + 1} dates in {time.perf_counter() - t0:.0f} s", flush=True)
    year_files = files_of(landing, days)
    quarantine = str(work / "quarantine")
    usual_days = days[: size["usual_days"]]

    import psycopg

    from sap_warehouse_kit.scratch_db import database_url, migrate

    migrate(bench.database("empty"))
    report: dict = {}
    if daily_only:  # the year loaded once, not timed
        url = bench.database("year", template="empty")
        bench.child("raw_load", {"url": url, "files": year_files, "quarantine": quarantine, "workers": WORKERS})
        bench.child("rebuild", {"url": url, "first": days[0].isoformat(), "last": days[-1].isoformat()})
    for run in range(1, 0 if daily_only else runs + 1):
        measure_floor(bench, [f for f, _ in year_files], csv_dir, types)

        # initial load of the year, through the DAG tasks' functions
        url = bench.database("year", template="empty")
        r = bench.child(
            "raw_load", {"url": url, "files": year_files, "quarantine": quarantine, "workers": WORKERS}, "raw load"
        )
        read_share = r["seconds"] * r["seconds_read"] / r["seconds_files"]
        bench.samples["raw load"][-1] -= read_share
        bench.record("read", read_share, bench.peaks["raw load"])
        r = bench.child("rebuild", {"url": url, "first": days[0].isoformat(), "last": days[-1].isoformat()})
        for label, keys in REBUILD_STAGES.items():
            bench.record(label, sum(r["steps"][k] for k in keys), r["peak_mb"])
        r = bench.child("gates", {"url": url, "dates": [d.isoformat() for d in days]}, "gates")
        print(
            f"run {run}/{runs}: gates {r['seconds']:.1f} s (raw {r['raw']:.1f} s, facts {r['facts']:.1f} s, "
            "the rest importing Great Expectations)",
            flush=True,
        )
        bench.child("alerts", {"url": url, "day": days[-1].isoformat()}, "alerts")
        if run == 1:
            report["tables"] = _counts(url)
        if run < runs:
            bench.drop("year")
        print(f"run {run}/{runs}: floor and initial load done ({time.perf_counter() - t0:.0f} s)", flush=True)

    # the daily run, on the full year and on its last twelfth
    history = days[-max(1, round(len(days) / HISTORY_SHARE)) :]
    url = bench.database("tenth", template="empty")
    bench.child(
        "raw_load", {"url": url, "files": files_of(landing, history), "quarantine": quarantine, "workers": WORKERS}
    )
    bench.child("rebuild", {"url": url, "first": history[0].isoformat(), "last": history[-1].isoformat()})
    report["history_dates"] = {"full": len(days), "tenth": len(history)}
    for run in range(1, runs + 1):
        kinds = (("full history", "year"), ("1/12 of the history", "tenth"))
        for kind, template in kinds if run % 2 else reversed(kinds):  # each goes first in turn
            url = bench.database("daily", template=template)
            day_landing = work / "daily" / "landing"
            shutil.rmtree(work / "daily", ignore_errors=True)
            shutil.copytree(landing / next_day.isoformat(), day_landing / next_day.isoformat())
            r = bench.child(
                "daily_run",
                {"url": url, "landing": str(day_landing), "work": str(work / "daily"), "day": next_day.isoformat()},
                f"daily run, {kind}",
            )
            for task, seconds in r["tasks"].items():
                report.setdefault("daily_tasks", {}).setdefault(kind, {}).setdefault(task, []).append(seconds)
            _check_daily_run(url, next_day)
            bench.drop("daily")
        print(f"run {run}/{runs}: daily runs done ({time.perf_counter() - t0:.0f} s)", flush=True)
    if daily_only:
        return report

    # the usual approach on every file of the first dates that loaded (the ledger knows which they are)
    with psycopg.connect(database_url(f"{PREFIX}_year"), autocommit=True) as conn:
        sample = [
            (str(landing / day.isoformat() / name), day.isoformat())
            for name, day in conn.execute(
                "SELECT file_name, business_date FROM operations.etl_file_ledger WHERE status = 'loaded' "
                "AND business_date <= %s ORDER BY business_date, file_name",
                (usual_days[-1],),
            )
        ]
    for run in range(1, runs + 1):
        url = bench.database("usual")
        r = bench.child("usual", {"url": url, "files": [f for f, _ in sample]})
        bench.record(USUAL[0], r["seconds_read"], r["peak_mb"])
        bench.record(USUAL[1], r["seconds_write"], r["peak_mb"])
        report["usual_rows"], report["headless_files"] = r["rows"], r["headless"]
        r = bench.child("orm", {"url": url, "csv": str(csv_dir / "floor_mb51.csv"), "rows": size["orm_rows"]})
        bench.record(USUAL[2], r["insert_seconds"] * report["usual_rows"] / r["rows"], r["peak_mb"])
        bench.drop("usual")
        for workers, how in ((1, "one"), (WORKERS, "two")):
            url = bench.database("pipeline", template="empty")
            payload = {"url": url, "files": sample, "quarantine": quarantine, "workers": workers}
            bench.child("raw_load", payload, f"pipeline: load_files, {how} task{'s' if workers > 1 else ''} at a time")
            bench.drop("pipeline")
        print(f"run {run}/{runs}: usual approach done ({time.perf_counter() - t0:.0f} s)", flush=True)
    report["usual_files"] = len(sample)
    return report


REBUILD_STAGES = {
    "dims": ["build_dimensions"],
    "facts": ["build_fact_inventory", "build_fact_billing", "build_fact_production", "build_fact_ar_aging"],
    "genealogy": ["build_fact_production_chain"],
    "reconcile": ["reconcile"],
    "views": ["refresh_views"],
}
USUAL = [
    "usual: pandas read_excel (openpyxl)",
    "usual: DataFrame.to_sql",
    "usual: ORM insert, one commit a row (extrapolated)",
    "pipeline: load_files, one task at a time",
    "pipeline: load_files, two tasks at a time",
]
INITIAL = ["read", "raw load", "dims", "facts", "genealogy", "reconcile", "gates", "views", "alerts"]


def _counts(url: str) -> dict[str, int]:
    import psycopg

    from sap_warehouse.core.db import row_count
    from sap_warehouse.core.model import facts

    with psycopg.connect(url, autocommit=True) as conn:
        counts = {t: row_count(conn, f"raw.{t}") for t in RAW_TABLES}
        counts.update({f: row_count(conn, f"facts.{f}") for f in facts()})
    return counts


def _check_daily_run(url: str, day: dt.date) -> None:
    """The run went through to the alerts: its files loaded and its alert step recorded."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        loaded = conn.execute(
            "SELECT count(*) FROM operations.etl_file_ledger WHERE business_date = %s AND status = 'loaded'", (day,)
        ).fetchone()[0]
        alerts = conn.execute(
            "SELECT count(*) FROM operations.etl_run_log WHERE business_date = %s AND step = 'alerts' "
            "AND dag_id = 'sap_warehouse_daily'",
            (day,),
        ).fetchone()[0]
    if not loaded or not alerts:
        raise SystemExit(f"the daily run of {day} did not finish: {loaded} files loaded, {alerts} alert steps")


def _total(bench: Bench, labels: list[str]) -> list[float]:
    """Per run, the sum of the stages (the samples of every label are in run order)."""
    return [sum(values) for values in zip(*(bench.samples[label] for label in labels), strict=True)]


def render(bench: Bench, size: dict, runs: int, report: dict, command: str, seconds: float) -> list[str]:
    tables = report["tables"]
    raw_rows = sum(tables[t] for t in RAW_TABLES)
    floor = _total(bench, ["floor: read", "floor: copy"])
    initial = _total(bench, INITIAL)
    full, tenth = (f"daily run, {kind}" for kind in ("full history", "1/12 of the history"))
    pandas = _total(bench, USUAL[:2])
    orm = _total(bench, [USUAL[0], USUAL[2]])
    one, two = bench.samples[USUAL[3]], bench.samples[USUAL[4]]
    med = statistics.median

    def row(label: str, values: list[float], rows: int | None = None, bold: bool = False) -> str:
        peak = f"{bench.peaks[label]:.0f}" if label in bench.peaks else "-"
        rate = f"{rows / med(values):,.0f}" if rows else "-"
        name = f"**{label}**" if bold else label
        return f"| {name} | {med(values):.1f} | {min(values):.1f} | {max(values):.1f} | {rate} | {peak} |"

    lines = [
        f"### Design scale: {size['days']} business dates, {raw_rows:,} raw rows, whole pipeline ({dt.date.today()})",
        "",
        f"Machine: {machine()}. PostgreSQL 15 (local cluster of scripts/dev). Command: `{command}` "
        f"({runs} runs; the command took {seconds / 60:.0f} min, generation and clean-up included).",
        "Data (after the initial load): "
        + ", ".join(f"{t.removeprefix('raw_')} {n:,}" for t, n in tables.items() if t in RAW_TABLES)
        + " raw rows; facts: "
        + ", ".join(f"{t.removeprefix('fact_')} {n:,}" for t, n in tables.items() if t not in RAW_TABLES)
        + ".",
        "",
        "| stage | median s | min s | max s | rows/s | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
        row("floor: read", bench.samples["floor: read"], raw_rows),
        row("floor: copy", bench.samples["floor: copy"], raw_rows),
        row("floor", floor, raw_rows, bold=True),
        *(row(label, bench.samples[label], raw_rows if label in ("read", "raw load") else None) for label in INITIAL),
        row("initial load", initial, raw_rows, bold=True),
        row(full, bench.samples[full]),
        row(tenth, bench.samples[tenth]),
        *(row(label, bench.samples[label], report["usual_rows"]) for label in USUAL),
        "",
        f"- initial load (the range run's work) / floor = {med(initial):.1f} / {med(floor):.1f} = "
        f"**{med(initial) / med(floor):.2f}x** (target: at most 5x)",
        f"- daily run, {report['history_dates']['full']} dates of history / {report['history_dates']['tenth']} dates "
        f"= {med(bench.samples[full]):.1f} / {med(bench.samples[tenth]):.1f} = "
        f"**{med(bench.samples[full]) / med(bench.samples[tenth]):.2f}x** (target: at most 1.2x)",
        f"- the usual approach on the same {report['usual_files']} files of {size['usual_days']} day(s) "
        f"({report['usual_rows']:,} rows), against the pipeline's load tasks one at a time ({med(one):.1f} s) / two "
        f"at a time ({med(two):.1f} s), target at least 10x: read_excel + to_sql {med(pandas):.1f} s = "
        f"**{med(pandas) / med(one):.1f}x / {med(pandas) / med(two):.1f}x**; read_excel + ORM row by row "
        f"{med(orm):.0f} s = **{med(orm) / med(one):.1f}x / {med(orm) / med(two):.1f}x** (the ORM insert timed on "
        f"{size['orm_rows']:,} rows and extrapolated)",
        f'- the usual approach was given the files with their r="0" header rows repaired (not timed); '
        f"{report['headless_files']} of {report['usual_files']} still came back without a header.",
        "- read and raw load run together (load_files, two load tasks at a time); read is the share of the workers' "
        "time spent parsing. dims, facts (inventory, billing, production, AR aging), genealogy (the production chain), "
        "reconcile and views are layers.rebuild of the year. gates are quality.validate_dates of the raw and the "
        f"facts gate on all {size['days']} dates at once, as a range run's gate tasks. alerts are evaluated once, as "
        "of the last date (the rules judge the latest state).",
        "- peak RSS is the stage's own processes (the largest of its workers); PostgreSQL's memory is not in it.",
        "",
        *daily_breakdown(report),
        "",
    ]
    return lines


def daily_breakdown(report: dict, limit: int = 12) -> list[str]:
    """The daily run's tasks at full history beside 1/12 of it (medians), the largest differences first."""
    full, part = (report["daily_tasks"][kind] for kind in ("full history", "1/12 of the history"))
    med = statistics.median
    rows = sorted(((task, med(full[task]), med(part.get(task, [0.0]))) for task in full), key=lambda r: r[2] - r[1])
    return [
        "| task (mapped instances summed) | full history s | 1/12 history s | difference s |",
        "| --- | ---: | ---: | ---: |",
        *(f"| {task} | {a:.2f} | {b:.2f} | {a - b:+.2f} |" for task, a, b in rows[:limit]),
        f"| all tasks | {sum(med(v) for v in full.values()):.2f} | {sum(med(v) for v in part.values()):.2f} | "
        f"{sum(med(v) for v in full.values()) - sum(med(v) for v in part.values()):+.2f} |",
    ]


def render_daily(bench: Bench, size: dict, runs: int, report: dict, command: str, seconds: float) -> list[str]:
    full, tenth = (f"daily run, {kind}" for kind in ("full history", "1/12 of the history"))
    med = statistics.median
    return [
        f"### The daily run at 12x history, by task ({dt.date.today()})",
        "",
        f"Machine: {machine()}. Command: `{command}` ({runs} runs; {seconds / 60:.0f} min in all). The day after "
        f"{size['days']} generated dates ({size['rows']} lines a day of MB51, ZRSD004, ZRSD002), run by `airflow dags "
        f"test` on a copy of the loaded year and on a copy of its last {report['history_dates']['tenth']} dates.",
        "",
        f"- wall time: full history {med(bench.samples[full]):.1f} s, 1/12 {med(bench.samples[tenth]):.1f} s = "
        f"**{med(bench.samples[full]) / med(bench.samples[tenth]):.2f}x** (target: at most 1.2x)",
        "",
        *daily_breakdown(report),
        "",
    ]


def chart(bench: Bench, size: dict) -> None:
    """Horizontal bars of the initial load's stages (medians) beside the floor's two parts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = ["floor: read", "floor: copy", *INITIAL]
    values = [bench.median(label) for label in labels]
    colors = ["#9e9e9e"] * 2 + ["#1f77b4"] * len(INITIAL)
    figure, axes = plt.subplots(figsize=(8, 4.2), dpi=100)
    bars = axes.barh(labels[::-1], values[::-1], color=colors[::-1])
    axes.bar_label(bars, labels=[f"{v:.0f} s" if v >= 1 else f"{v:.1f} s" for v in values[::-1]], padding=3)
    axes.set_xlabel("seconds (median)")
    axes.set_title(f"Initial load of {size['days']} business dates, by stage, against the floor (grey)")
    axes.margins(x=0.15)
    figure.tight_layout()
    CHART.parent.mkdir(exist_ok=True)
    figure.savefig(CHART)
    print(f"chart: {CHART.relative_to(ROOT)}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        run_child(sys.argv[2], sys.argv[3])
    else:
        main()
