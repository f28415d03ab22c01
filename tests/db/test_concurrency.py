"""Two runs of one business date at once, and a load killed mid-transaction, on a real PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg

from sap_warehouse.core.db import row_count
from sap_warehouse.ingest.raw_load import load_file
from sap_warehouse_kit import exports
from sap_warehouse_kit.generator import mb51_movements, mb51_workbook
from sap_warehouse_kit.scratch_db import create_database, drop_database
from tests.helpers import WAREHOUSE_TABLES, build_day, load_day, warehouse_checksums

DAY = dt.date(2026, 3, 9)

# The whole daily job for one date (the functions the DAG tasks call), started at a signal.
RUN_DATE = """
import datetime as dt, sys, time
from pathlib import Path
from sap_warehouse.build import layers
from sap_warehouse.core.business_date import DateSpan
from sap_warehouse.ingest.raw_load import load_file
url, folder, go = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
day = dt.date.fromisoformat(folder.name)
while not go.exists():
    time.sleep(0.005)
for path in sorted(folder.iterdir()):
    load_file(path, day, quarantine_root=folder.parent / "quarantine", conninfo=url)
layers.rebuild(DateSpan.of(day), conninfo=url)
"""


def run_date_once(url: str, folder: Path) -> None:
    load_day(url, folder, DAY)
    build_day(url, DAY)


def test_two_runs_of_one_date_at_once_give_the_result_of_one(warehouse: str, migrated_template: str, tmp_path):
    exports.write_day(tmp_path, DAY, rows=80, seed=31)
    folder = tmp_path / DAY.isoformat()
    go = tmp_path / "go"
    runs = [
        subprocess.Popen([sys.executable, "-c", RUN_DATE, warehouse, str(folder), str(go)], stderr=subprocess.PIPE)
        for _ in range(2)
    ]
    time.sleep(1.0)  # both interpreters up and waiting
    go.touch()
    for run in runs:
        _, err = run.communicate(timeout=300)
        assert run.returncode == 0, err.decode()

    name = f"wh_once_{uuid.uuid4().hex[:10]}"
    once = create_database(name, template=migrated_template)
    try:
        run_date_once(once, folder)
        assert warehouse_checksums(warehouse) == warehouse_checksums(once)
        raw = [t for t in WAREHOUSE_TABLES if t.startswith("raw.")] + ["raw.raw_zrsd002", "raw.raw_cooispi"]
        with psycopg.connect(warehouse) as a, psycopg.connect(once) as b:
            for table in raw:
                assert row_count(a, table) == row_count(b, table), table
            ledger = a.execute(
                "SELECT file_name, count(*) FILTER (WHERE status = 'loaded'), count(*) FILTER (WHERE status = "
                "'duplicate') FROM operations.etl_file_ledger GROUP BY 1"
            ).fetchall()
    finally:
        drop_database(name)
    assert {(loaded, duplicate) for _, loaded, duplicate in ledger} == {(1, 1)}, "each file loads exactly once"
    assert len(ledger) == len(list(folder.iterdir()))


KILLED_LOAD = """
import datetime as dt, sys
from pathlib import Path
from sap_warehouse.ingest.raw_load import load_file
load_file(Path(sys.argv[2]), dt.date.fromisoformat(sys.argv[3]), quarantine_root=Path(sys.argv[2]).parent / "q",
          conninfo=sys.argv[1])
"""


ADVISORY_LOCKS = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
    "AND database = (SELECT oid FROM pg_database WHERE datname = %s)"
)


def backends(conn: psycopg.Connection, database: str) -> list[tuple]:
    return conn.execute(
        "SELECT pid, xact_start IS NOT NULL FROM pg_stat_activity WHERE datname = %s AND application_name = "
        "'sap_warehouse' AND pid <> pg_backend_pid()",
        (database,),
    ).fetchall()


def test_a_load_killed_mid_transaction_leaves_nothing_and_its_retry_finishes(warehouse: str, tmp_path: Path):
    movements = mb51_movements(DAY, 60_000, seed=3)
    path = tmp_path / DAY.isoformat() / "mb51.xlsx"
    path.parent.mkdir()
    path.write_bytes(mb51_workbook(movements, seed=3, header_row_zero=False))
    database = psycopg.conninfo.conninfo_to_dict(warehouse)["dbname"]

    child = subprocess.Popen([sys.executable, "-c", KILLED_LOAD, warehouse, str(path), DAY.isoformat()])
    with psycopg.connect(warehouse, autocommit=True) as watch:
        deadline = time.monotonic() + 120
        # Wait until the load's transaction is open and holds the date's advisory lock...
        while not watch.execute(ADVISORY_LOCKS, (database,)).fetchone()[0]:
            assert child.poll() is None, "the load finished before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.3)
        # ... then kill the task's process outright, as an OOM killer or a lost worker would.
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        while backends(watch, database):
            assert time.monotonic() < deadline, "the killed load's backend lingers"
            time.sleep(0.1)
        assert watch.execute("SELECT count(*) FROM raw.raw_mb51").fetchone()[0] == 0
        assert watch.execute("SELECT count(*) FROM operations.etl_file_ledger").fetchone()[0] == 0
        assert watch.execute(ADVISORY_LOCKS, (database,)).fetchone()[0] == 0, "a lock outlived its holder"

    retry = load_file(path, DAY, quarantine_root=tmp_path / "q", conninfo=warehouse)
    assert (retry.status, retry.rows_read, retry.rows_inserted) == ("loaded", len(movements), len(movements))
