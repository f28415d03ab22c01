"""Raw-load benchmark: one MB51 workbook through the loader, against the floors.

Generates an MB51 export of --rows lines with the project's generator, then measures, each in a
fresh process (so peak memory is the stage's own) and on a fresh scratch database per run:

  read floor      python-calamine's bare read of the workbook (no typing, no database)
  copy floor      psql \\copy of the same rows, already typed, from a CSV file into a plain table
  load            sap_warehouse.ingest.raw_load.load_files end to end: read, recognise, stage, type,
                  hash, write, ledger (the function a load task calls; one connection for its files)
  re-delivery     the same file again: recognised by sha256, rows not parsed
  overlap         the same rows in a file written differently (other cell shapes, r="0" header):
                  every row unchanged; compared with reading that file (read_sheet)
  parallel        two files of one date loaded one after the other, then two at a time
  per-file cost   --small-files files of 1,000 lines loaded one after the other by one task, against
                  one file of the same lines: the difference per file is the loader's fixed cost of a file
  usual approach  pandas.read_excel (openpyxl, dtype=str) and DataFrame.to_sql of the same workbook

Prints a table (median, min and max of --runs runs) and appends it to BENCHMARKS.md with the
command and the machine. Not part of the test command.

    scripts/dev exec python benchmarks/raw_load.py --rows 200000 --runs 3
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DAY = dt.date(2026, 3, 2)
PSQL = "/usr/lib/postgresql/15/bin/psql"


def child(stage: str, args: list[str]) -> dict:
    """Run one measured stage in a fresh interpreter; it reports seconds and peak RSS."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", stage, *args], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"stage {stage} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_child(stage: str, args: list[str]) -> None:
    from python_calamine import CalamineWorkbook

    import sap_warehouse.ingest.raw_load  # noqa: F401  (imported before the clock starts, as in a warm worker)
    from sap_warehouse.ingest.workbook import read_sheet

    start = time.perf_counter()
    extra: dict = {}
    if stage == "read_floor":
        rows = CalamineWorkbook.from_path(args[0]).get_sheet_by_index(0).to_python()
        extra["rows"] = len(rows) - 1
    elif stage == "read_sheet":
        path = Path(args[0])
        extra["rows"] = len(read_sheet(path.read_bytes(), path.name).rows)
    elif stage in ("load", "load2"):
        files = [Path(a) for a in args[1:]]
        if stage == "load2":  # two load tasks side by side, each with its share of the files
            from concurrent.futures import ProcessPoolExecutor

            with ProcessPoolExecutor(2) as pool:
                parts = list(pool.map(_load_many, [files[0::2], files[1::2]], [args[0]] * 2))
            results = [result for part in parts for result in part]
        else:
            results = _load_many(files, args[0])
        extra["results"] = results
    elif stage == "usual":
        extra.update(_usual(Path(args[1]), args[0]))
    else:
        raise SystemExit(f"unknown stage {stage}")
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), **extra}))


def peak_mb() -> float:
    """Peak resident memory of this process and of its finished children (worker pools), in MB (the
    benchmarks share this). VmHWM for the process itself, not ru_maxrss: Linux carries ru_maxrss over
    from the parent across fork and exec."""
    with open("/proc/self/status") as fh:
        own = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024
    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def _usual(path: Path, conninfo: str) -> dict:
    """The usual approach: pandas.read_excel with openpyxl, every cell as text (SAP columns mix numbers,
    dates and text, which to_sql cannot insert into one typed column), then DataFrame.to_sql."""
    import pandas as pd
    from sqlalchemy import create_engine

    from sap_warehouse.core.db import sqlalchemy_url

    start = time.perf_counter()
    frame = pd.read_excel(path, engine="openpyxl", dtype=str)
    read = time.perf_counter() - start
    engine = create_engine(sqlalchemy_url(conninfo))
    frame.to_sql("usual_mb51", engine, index=False, if_exists="replace")
    engine.dispose()
    return {"rows": len(frame), "seconds_read": read}


def _load_many(paths: list[Path], conninfo: str) -> list[dict]:
    """The files loaded as one load task loads its share: load_files, one connection."""
    from sap_warehouse.ingest.raw_load import load_files

    quarantine = Path(tempfile.mkdtemp(prefix="bench-quarantine-"))
    results = load_files([(path, DAY, False) for path in paths], quarantine_root=quarantine, conninfo=conninfo)
    return [result.as_dict() for result in results]


def copy_floor(movements, workdir: Path, url: str) -> float:
    """psql \\copy of the typed rows into a plain table with raw_mb51's business columns."""
    csv_path = workdir / "mb51.csv"
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        for m in movements:
            writer.writerow(
                [
                    m.posting_date,
                    m.movement_type,
                    m.plant,
                    m.storage_location,
                    m.material,
                    m.batch,
                    m.quantity,
                    m.unit,
                    m.material_document,
                    m.text,
                    m.purchase_order,
                ]
            )
    create = (
        "DROP TABLE IF EXISTS copy_floor; CREATE TABLE copy_floor (posting_date date, movement_type text, "
        "plant text, storage_location text, material text, batch text, qty numeric(18,3), unit text, "
        "material_document text, text text, purchase_order text)"
    )
    subprocess.run([PSQL, "-X", "-q", url, "-c", create], check=True)
    start = time.perf_counter()
    subprocess.run([PSQL, "-X", "-q", url, "-c", f"\\copy copy_floor FROM '{csv_path}' CSV"], check=True)
    return time.perf_counter() - start


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return f"{os.cpu_count()} cores ({cpu}), {mem_gb:.0f} GB RAM, {platform.system()} {platform.release()}"


def publish(lines: list[str], *, record: bool) -> None:
    """Print a benchmark's report and, with ``record``, append it to BENCHMARKS.md (the benchmarks share this)."""
    report = "\n".join(lines)
    print("\n" + report)
    if record:
        bench = ROOT / "BENCHMARKS.md"
        head = (
            "# Benchmarks\n\nFigures measured by the scripts in benchmarks/; newest last.\n"
            if not bench.exists()
            else ""
        )
        with open(bench, "a", encoding="utf-8") as fh:
            fh.write(head + "\n" + report + "\n")


def parse_arguments(doc: str) -> argparse.Namespace:
    """--rows, --runs and --no-record, as the one-file benchmarks take them (the benchmarks share this)."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small-files", type=int, default=20, help="1,000-line files of the per-file cost")
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to BENCHMARKS.md")
    return parser.parse_args()


def main() -> None:
    args = parse_arguments(__doc__)

    from sap_warehouse_kit.generator import mb51_movements, mb51_workbook
    from sap_warehouse_kit.scratch_db import create_database, drop_database, migrate

    workdir = Path(tempfile.mkdtemp(prefix="bench-raw-load-"))
    t0 = time.perf_counter()
    movements = mb51_movements(DAY, args.rows, seed=1)
    files = {
        "main": mb51_workbook(movements, 1, header_row_zero=False),
        "other_shapes": mb51_workbook(movements, 2, header_row_zero=True),
        "day_a": mb51_workbook(mb51_movements(DAY, args.rows // 2, seed=3), 3, header_row_zero=False),
        "day_b": mb51_workbook(mb51_movements(DAY, args.rows // 2, seed=4), 4, header_row_zero=True),
    }
    small = args.small_files
    small_files = [mb51_movements(DAY, 1000, seed=100 + number) for number in range(small)]
    small_rows = sum(len(lines) for lines in small_files)
    for number, lines in enumerate(small_files):
        files[f"small_{number}"] = mb51_workbook(lines, 5, header_row_zero=False)
    files["small_as_one"] = mb51_workbook([m for lines in small_files for m in lines], 5, header_row_zero=False)
    paths = {}
    for name, data in files.items():
        paths[name] = workdir / f"{name}.xlsx"
        paths[name].write_bytes(data)
    print(
        f"generated {len(movements)} MB51 lines ({len(files['main']) / 1e6:.1f} MB xlsx) "
        f"in {time.perf_counter() - t0:.0f} s"
    )

    template = "bench_raw_load_template"
    migrate(create_database(template))
    samples: dict[str, list[float]] = {}
    peaks: dict[str, float] = {}

    def record(stage: str, seconds: float, peak: float | None = None) -> None:
        samples.setdefault(stage, []).append(seconds)
        if peak is not None:
            peaks[stage] = max(peaks.get(stage, 0.0), peak)

    try:
        for run in range(args.runs):
            url = create_database("bench_raw_load", template=template)
            r = child("read_floor", [str(paths["main"])])
            record("read floor (calamine)", r["seconds"], r["peak_mb"])
            record("copy floor (psql \\copy)", copy_floor(movements, workdir, url))
            r = child("load", [url, str(paths["main"])])
            assert r["results"][0]["rows_inserted"] == len(movements), r
            record("load (end to end)", r["seconds"], r["peak_mb"])
            r = child("load", [url, str(paths["main"])])
            assert r["results"][0]["status"] == "duplicate", r
            record("re-delivery (sha256)", r["seconds"], r["peak_mb"])
            r = child("read_sheet", [str(paths["other_shapes"])])
            record("read of the overlap file", r["seconds"], r["peak_mb"])
            r = child("load", [url, str(paths["other_shapes"])])
            assert r["results"][0]["rows_unchanged"] == len(movements), r
            record("overlap, all rows unchanged", r["seconds"], r["peak_mb"])
            for stage, parallel in (("two files, one at a time", "load"), ("two files, two at a time", "load2")):
                url = create_database("bench_raw_load", template=template)
                r = child(parallel, [url, str(paths["day_a"]), str(paths["day_b"])])
                record(stage, r["seconds"], r["peak_mb"])
            for stage, names in (
                (f"{small} files of 1,000 lines, one at a time", [f"small_{n}" for n in range(small)]),
                (f"the same {small_rows:,} lines in one file", ["small_as_one"]),
            ):
                url = create_database("bench_raw_load", template=template)
                r = child("load", [url, *(str(paths[name]) for name in names)])
                assert sum(x["rows_inserted"] for x in r["results"]) == small_rows, r
                record(stage, r["seconds"], r["peak_mb"])
            r = child("usual", [url, str(paths["main"])])
            assert r["rows"] >= len(movements), r  # header in row 1: pandas reads every line (and the totals)
            record("usual: read_excel (openpyxl) + to_sql", r["seconds"], r["peak_mb"])
            print(f"run {run + 1}/{args.runs} done", flush=True)
    finally:
        drop_database("bench_raw_load")
        drop_database(template)

    med = {stage: statistics.median(values) for stage, values in samples.items()}
    floor = med["read floor (calamine)"] + med["copy floor (psql \\copy)"]
    many, one = f"{small} files of 1,000 lines, one at a time", f"the same {small_rows:,} lines in one file"
    usual = "usual: read_excel (openpyxl) + to_sql"
    per_file = (med[many] - med[one]) / small
    lines = [
        f"### Raw load of one MB51 workbook, {args.rows:,} rows ({dt.date.today()})",
        "",
        f"Machine: {machine()}. PostgreSQL 15 (local cluster of scripts/dev). Command: "
        f"`scripts/dev exec python benchmarks/raw_load.py --rows {args.rows} --runs {args.runs}"
        f"{'' if small == 20 else f' --small-files {small}'}`",
        "",
        "| stage | median s | min s | max s | rows/s (median) | peak RSS MB |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for stage, values in samples.items():
        rows = args.rows if "two files" not in stage else 2 * (args.rows // 2)
        rows = small_rows if "1,000 lines" in stage or "in one file" in stage else rows
        peak = f"{peaks[stage]:.0f}" if stage in peaks else "-"
        lines.append(
            f"| {stage} | {med[stage]:.2f} | {min(values):.2f} | {max(values):.2f} | "
            f"{rows / med[stage]:,.0f} | {peak} |"
        )
    lines += [
        "",
        f"- load / (read floor + copy floor) = {med['load (end to end)']:.2f} / {floor:.2f} = "
        f"**{med['load (end to end)'] / floor:.2f}x** (target: at most 2.0x)",
        f"- overlap with every row unchanged / its read = {med['overlap, all rows unchanged']:.2f} / "
        f"{med['read of the overlap file']:.2f} = "
        f"**{med['overlap, all rows unchanged'] / med['read of the overlap file']:.2f}x** (target: at most 1.3x)",
        f"- re-delivery: {med['re-delivery (sha256)']:.2f} s, the rows are not parsed",
        f"- two files two at a time vs one at a time: **"
        f"{med['two files, one at a time'] / med['two files, two at a time']:.2f}x** faster",
        f"- peak memory of the load: {peaks['load (end to end)']:.0f} MB (target: under 1 GB)",
        f"- per-file fixed cost: ({med[many]:.2f} - {med[one]:.2f}) / {small} = **{per_file * 1000:.0f} ms** a file "
        "(target: at most 15 ms)",
        f"- the usual approach on the same workbook: {med[usual]:.2f} s = "
        f"**{med[usual] / med['load (end to end)']:.1f}x** the pipeline's load (target: at least 10x)",
        "",
    ]
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        run_child(sys.argv[2], sys.argv[3:])
    else:
        main()
