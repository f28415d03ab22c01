"""Scheduler-path benchmark: a range run through the real scheduler, as on-call backfills, against the floor.

Generates --days business dates of every report with the project's generator (--rows lines a day of
MB51, ZRSD004 and ZRSD002), then measures, --runs times each (median, min and max):

  floor       python-calamine's bare read of every workbook and psql \\copy of the same rows into plain
              typed tables, two at a time (the stages of benchmarks/design_scale.py)
  range run   the local Airflow started by `scripts/dev airflow-up` with --executor (LocalExecutor, or
              CeleryExecutor: a local Redis and two Celery workers), the daily DAG's range run of
              every date triggered through the REST API, on a fresh warehouse database and a fresh copy
              of the landing folder: wall time from the trigger to the run's success
  per task    each task's time in that run (Airflow's own record: its duration, and the time it
              waited queued), summed over its mapped instances; the largest resident memory any
              process the executor started reached (sampled every 0.2 s)

Prints the table and appends it to BENCHMARKS.md. Not part of the test command.

    scripts/dev exec python benchmarks/scheduler_path.py --days 30            # 30 dates, about 1 minute a run
    scripts/dev exec python benchmarks/scheduler_path.py --days 365           # the design-scale year
    scripts/dev exec python benchmarks/scheduler_path.py --days 30 --executor celery
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import httpx
import psutil
from design_scale import FIRST, Bench, generate, measure_floor
from raw_load import ROOT, machine, publish

DAG_ID = "sap_warehouse_daily"
DEV = str(ROOT / "scripts" / "dev")
EXECUTORS = {"local": "LocalExecutor", "celery": "CeleryExecutor"}


class PeakMemory:
    """The largest resident set any descendant of the given processes reaches while this samples."""

    def __init__(self, roots: list[int]) -> None:
        self.roots, self.peak_mb, self._stop = roots, 0.0, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            for root in self.roots:
                try:
                    children = psutil.Process(root).children(recursive=True)
                except psutil.NoSuchProcess:
                    continue
                for child in children:
                    try:
                        self.peak_mb = max(self.peak_mb, child.memory_info().rss / 1e6)
                    except psutil.NoSuchProcess:
                        pass


def airflow_up(env: dict) -> None:
    out = subprocess.run([DEV, "airflow-up"], env=env, capture_output=True, text=True, timeout=600, check=False)
    if out.returncode != 0:
        raise SystemExit(f"scripts/dev airflow-up failed:\n{out.stderr[-3000:]}")


def airflow_down(env: dict) -> None:
    subprocess.run([DEV, "airflow-down"], env=env, capture_output=True, timeout=300, check=False)


def component_pids(env: dict) -> list[int]:
    run = Path(env["WAREHOUSE_LOCAL_DIR"]) / "airflow" / "run"
    return [int(p.read_text()) for p in run.glob("*.pid")]


def client(port: int, since: dt.datetime) -> httpx.Client:
    """A REST client with a token, once the dag-processor has parsed the DAG with this environment."""
    base = f"http://127.0.0.1:{port}"
    token = httpx.get(f"{base}/auth/token", timeout=30).json()["access_token"]
    api = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60)
    deadline = time.monotonic() + 300
    while True:
        found = api.get(f"/api/v2/dags/{DAG_ID}")
        parsed = found.json().get("last_parsed_time") if found.status_code == 200 else None
        if parsed and dt.datetime.fromisoformat(parsed) >= since:
            return api
        if time.monotonic() > deadline:
            raise SystemExit(f"{DAG_ID} not parsed within 300 s: {found.text}")
        time.sleep(1)


def range_run(api: httpx.Client, first: dt.date, last: dt.date) -> tuple[float, str]:
    """Trigger the range run and wait for it: (seconds from the trigger to its end, its run id)."""
    api.patch(f"/api/v2/dags/{DAG_ID}", json={"is_paused": False}).raise_for_status()
    start = time.perf_counter()
    triggered = api.post(
        f"/api/v2/dags/{DAG_ID}/dagRuns",
        json={"logical_date": None, "conf": {"business_date": first.isoformat(), "business_date_to": last.isoformat()}},
    )
    triggered.raise_for_status()
    run_id = triggered.json()["dag_run_id"]
    while True:
        state = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}").json()["state"]
        if state in ("success", "failed"):
            seconds = time.perf_counter() - start
            break
        time.sleep(0.5)
    if state != "success":
        raise SystemExit(f"the range run {run_id} failed: see its tasks in the UI")
    return seconds, run_id


def task_times(api: httpx.Client, run_id: str) -> dict[str, dict]:
    """Per task id: instances, seconds running (summed) and seconds queued (summed), from Airflow's record."""
    found = api.get(f"/api/v2/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", params={"limit": 1000}).json()
    tasks: dict[str, dict] = {}
    for ti in found["task_instances"]:
        entry = tasks.setdefault(ti["task_id"], {"instances": 0, "running": 0.0, "queued": 0.0})
        entry["instances"] += 1
        entry["running"] += ti["duration"] or 0.0
        if ti["queued_when"] and ti["start_date"]:
            queued = dt.datetime.fromisoformat(ti["start_date"]) - dt.datetime.fromisoformat(ti["queued_when"])
            entry["queued"] += queued.total_seconds()
    return tasks


def measure_run(bench: Bench, work: Path, landing: Path, days: list[dt.date], executor: str, env: dict) -> dict:
    """One range run of ``days`` through the scheduler, on a fresh database and landing folder."""
    url = bench.database("sched", template="empty")
    run_dir = work / "run"
    shutil.rmtree(run_dir, ignore_errors=True)
    shutil.copytree(landing, run_dir / "landing")
    port = _free_port()
    env = {
        **env,
        **{f"AIRFLOW_CONN_WAREHOUSE_{c}": url for c in ("DB", "OWNER_DB", "BACKUP_DB", "ANALYST_DB")},
        **{f"AIRFLOW_VAR_SAP_{k.upper()}_PATH": f"file://{run_dir / k}" for k in ("landing", "archive", "quarantine")},
        "AIRFLOW_VAR_WAREHOUSE_DATA_DOCS_PATH": f"file://{run_dir / 'data_docs'}",
        "AIRFLOW_VAR_SAP_FILES_DUE_TIME": "23:59",  # the scheduled run unpausing creates waits, holding no slot
        # The generated files are whole, and a backfill's files landed long ago: no quiet period to wait out.
        "AIRFLOW_VAR_SAP_FILE_STABLE_SECONDS": "0",
        "AIRFLOW__CORE__EXECUTOR": EXECUTORS[executor],
        "WAREHOUSE_AIRFLOW_PORT": str(port),
    }
    since = dt.datetime.now(dt.UTC)
    airflow_up(env)
    try:
        api = client(port, since)
        with PeakMemory(component_pids(env)) as memory:
            seconds, run_id = range_run(api, days[0], days[-1])
        tasks = task_times(api, run_id)
    finally:
        airflow_down(env)
        bench.drop("sched")
    return {"seconds": seconds, "tasks": tasks, "peak_mb": memory.peak_mb}


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30, help="business dates of the range run (default 30)")
    parser.add_argument("--rows", type=int, default=1000, help="lines a day of MB51, ZRSD004, ZRSD002 (1000)")
    parser.add_argument("--executor", choices=sorted(EXECUTORS), default="local")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-record", action="store_true", help="print only: no BENCHMARKS.md entry")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-sched-"))
    bench = Bench(work)
    env = dict(os.environ)
    try:
        lines = measure(bench, work, args, env)
    finally:
        for name in list(bench.databases):
            bench.drop(name.removeprefix("bench_scale_"))
        shutil.rmtree(work, ignore_errors=True)
    publish(lines, record=not args.no_record)


def measure(bench: Bench, work: Path, args: argparse.Namespace, env: dict) -> list[str]:
    from sap_warehouse_kit.scratch_db import migrate

    days = [FIRST + dt.timedelta(days=i) for i in range(args.days)]
    t0 = time.perf_counter()
    landing, csv_dir, types = generate(work, days, args.rows, days[-1] + dt.timedelta(days=1))
    shutil.rmtree(landing / (days[-1] + dt.timedelta(days=1)).isoformat())  # the day after: not in the range
    files = sorted(str(f) for f in landing.rglob("*") if f.is_file())
    print(f"generated {len(days)} dates, {len(files)} files in {time.perf_counter() - t0:.0f} s", flush=True)
    migrate(bench.database("empty"))
    runs, rows = [], 0
    for run in range(1, args.runs + 1):
        rows = measure_floor(bench, files, csv_dir, types)
        measured = measure_run(bench, work, landing, days, args.executor, env)
        bench.record("range run through the scheduler", measured["seconds"], measured["peak_mb"])
        runs.append(measured)
        print(f"run {run}/{args.runs}: range run {measured['seconds']:.1f} s", flush=True)
    return render(bench, args, runs, len(files), rows)


def render(bench: Bench, args: argparse.Namespace, runs: list[dict], files: int, rows: int) -> list[str]:
    med = statistics.median
    floors = [a + b for a, b in zip(bench.samples["floor: read"], bench.samples["floor: copy"], strict=True)]
    wall = bench.samples["range run through the scheduler"]
    command = f"scripts/dev exec python benchmarks/scheduler_path.py --days {args.days}"
    command += "".join(
        f" --{k} {v}"
        for k, v in (("rows", args.rows), ("executor", args.executor), ("runs", args.runs))
        if v != {"rows": 1000, "executor": "local", "runs": 3}[k]
    )
    lines = [
        f"### Range run through the scheduler: {args.days} dates, {EXECUTORS[args.executor]} ({dt.date.today()})",
        "",
        f"Machine: {machine()}. PostgreSQL 15 (local cluster of scripts/dev). Command: `{command}`",
        f"Data: {files:,} files, {rows:,} rows (the floor's tables).",
        "",
        "| measure | median s | min s | max s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, values in (("floor (read + copy)", floors), ("range run, trigger to success", wall)):
        lines.append(f"| {label} | {med(values):.1f} | {min(values):.1f} | {max(values):.1f} |")
    lines += [
        "",
        f"- range run / floor = {med(wall):.1f} / {med(floors):.1f} = **{med(wall) / med(floors):.2f}x** "
        "(target: at most 5x)",
        f"- peak resident memory of any process the executor started: **{max(r['peak_mb'] for r in runs):.0f} MB** "
        "(target: under 1 GB)",
        "",
        "Per task (the median run): instances, seconds running summed over them, seconds queued summed.",
        "",
        "| task | instances | running s | queued s |",
        "| --- | ---: | ---: | ---: |",
    ]
    middle = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    for task_id, entry in sorted(middle["tasks"].items(), key=lambda item: -item[1]["running"]):
        lines.append(f"| {task_id} | {entry['instances']} | {entry['running']:.1f} | {entry['queued']:.1f} |")
    return lines


if __name__ == "__main__":
    main()
