"""Backups: pg_dump of a real warehouse, verified by restoring it, rotation, failures that keep the old ones."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import ObjectStoragePath

from sap_warehouse.core.db import row_count
from sap_warehouse.ingest.raw_load import load_file
from sap_warehouse.operations import backup
from sap_warehouse_kit import exports
from sap_warehouse_kit.scratch_db import drop_database
from tests.helpers import asset_event_extras, build_day, table_checksum, warehouse_checksums

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 2, 2)
T0 = dt.datetime(2026, 2, 3, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def loaded(warehouse: str, tmp_path: Path) -> str:
    """The warehouse with one business date of every report loaded into raw."""
    exports.write_day(tmp_path / "landing", DAY, rows=40, seed=5)
    for path in sorted((tmp_path / "landing" / DAY.isoformat()).iterdir()):
        assert load_file(path, DAY, quarantine_root=tmp_path / "quarantine", conninfo=warehouse).status == "loaded"
    return warehouse


def counts(url: str) -> dict[str, int]:
    """Row counts of the tables that matter, counted here table by table."""
    tables = ["raw.raw_mb51", "raw.raw_zrsd002", "raw.raw_cooispi", "operations.etl_file_ledger", "dims.dim_date"]
    with psycopg.connect(url) as conn:
        return {t: row_count(conn, t) for t in tables}


def files(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()} if folder.exists() else {}


def test_backup_verifies_and_restores_with_equal_row_counts(
    loaded: str, as_backup: str, as_owner: str, tmp_path: Path
) -> None:
    """On a warehouse made as scripts/dev makes it (owned by warehouse_owner, pg_stat_statements
    created by the superuser): the backup login dumps and verifies, the owner login restores the
    whole database with its owners and grants; the extension, which neither may create, is left out
    and named."""
    folder = tmp_path / "backups"
    location = ObjectStoragePath(f"file://{folder}")
    source = counts(loaded)
    assert source["raw.raw_mb51"] > 0
    with psycopg.connect(loaded) as conn:
        assert conn.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_stat_statements'").fetchone()
        assert conn.execute(
            "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = 'raw.raw_mb51'::regclass"
        ).fetchone() == ("warehouse_owner",)

    manifest = backup.dump(location, now=T0)  # the backup connection
    assert sorted(files(folder)) == [f"{manifest['name']}.dump", f"{manifest['name']}.json"], "no partial left"
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert {t: manifest["table_rows"][t] for t in source} == source
    assert manifest["sha256"] == hashlib.sha256((folder / manifest["dump"]).read_bytes()).hexdigest()

    verified = backup.verify(location, manifest["name"])
    assert verified["status"] == "verified"
    assert json.loads((folder / f"{manifest['name']}.json").read_text())["status"] == "verified"
    with psycopg.connect(loaded) as conn:
        assert conn.execute("SELECT status FROM operations.backup_log").fetchall() == [("verified",)]
        scratch = conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE '%%_verify'").fetchone()[0]
        search_path = conn.execute("SHOW search_path").fetchone()[0]
    assert scratch == 0, "the verification database was not dropped"

    # The documented restore command, into a named database, as the owner login.
    into = f"wh_restored_{uuid.uuid4().hex[:8]}"
    out = io.StringIO()
    try:
        argv = ["restore", "--location", f"file://{folder}", "--backup", manifest["name"], "--into", into]
        assert backup.main(argv, out=out) == 0
        assert "extension pg_stat_statements not created" in out.getvalue()
        restored_url = psycopg.conninfo.make_conninfo(loaded, dbname=into)
        assert counts(restored_url) == source
        with psycopg.connect(restored_url) as conn:
            assert conn.execute("SHOW search_path").fetchone()[0] == search_path
            owners = conn.execute(
                "SELECT DISTINCT pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname IN ('raw', 'dims', 'facts', 'marts', 'operations')"
            ).fetchall()
            assert owners == [("warehouse_owner",)]
            assert conn.execute(
                "SELECT has_table_privilege('warehouse_loader', 'raw.raw_mb51', 'INSERT'), "
                "has_table_privilege('warehouse_analyst', 'facts.fact_billing', 'SELECT')"
            ).fetchone() == (True, True)
        assert backup.main(argv, out=io.StringIO()) == 1, "restoring over an existing database needs --replace"
        # A session of the owner's left connected to it (a superuser's could not be ended by the owner).
        with psycopg.connect(psycopg.conninfo.make_conninfo(as_owner, dbname=into), autocommit=True) as held:
            assert backup.main([*argv, "--replace"], out=io.StringIO()) == 0
            with pytest.raises(psycopg.OperationalError):  # the replaced database's session was ended
                held.execute("SELECT 1")
        assert counts(restored_url) == source
    finally:
        drop_database(into)
    listing = io.StringIO()
    assert backup.main(["list", "--location", f"file://{folder}", "--json"], out=listing) == 0
    assert [(b["name"], b["status"]) for b in json.loads(listing.getvalue())] == [(manifest["name"], "verified")]
    table = io.StringIO()
    assert backup.main(["list", "--location", f"file://{folder}"], out=table) == 0
    line = next(line for line in table.getvalue().splitlines() if manifest["name"] in line)
    assert "verified" in line
    assert f"{sum(manifest['table_rows'].values()):,}" in line


def test_the_backup_role_cannot_write_the_warehouse(loaded: str, as_backup: str) -> None:
    """warehouse_backup_db: a login that reads everything and may create the scratch database, and
    owns nothing: writing raw rows or dropping a table fails."""
    with psycopg.connect(as_backup, autocommit=True) as conn:
        for statement in ("DELETE FROM raw.raw_mb51", "DROP TABLE raw.raw_mb51", "TRUNCATE dims.dim_date"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_a_damaged_dump_fails_verification_and_is_marked_failed(loaded: str, tmp_path: Path) -> None:
    location = ObjectStoragePath(f"file://{tmp_path}")
    manifest = backup.dump(location, conninfo=loaded, now=T0)
    dump = tmp_path / manifest["dump"]
    data = bytearray(dump.read_bytes())
    data[len(data) // 2] ^= 0xFF
    dump.write_bytes(bytes(data))
    with pytest.raises(backup.BackupError, match="sha256"):
        backup.verify(location, manifest["name"], conninfo=loaded)
    assert json.loads((tmp_path / f"{manifest['name']}.json").read_text())["status"] == "failed"
    with psycopg.connect(loaded) as conn:
        assert conn.execute("SELECT status FROM operations.backup_log").fetchone()[0] == "failed"


FULL_DISK = """
import datetime as dt, resource, signal, sys
from airflow.sdk import ObjectStoragePath
from sap_warehouse.operations import backup
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (64 * 1024, 64 * 1024))  # the location fills up after 64 KiB
try:
    backup.dump(ObjectStoragePath(sys.argv[1]), now=dt.datetime(2026, 2, 4, 2, 0, tzinfo=dt.UTC))
except backup.BackupError as error:
    print(error)
    sys.exit(3)
"""


def test_a_dump_into_a_full_or_unwritable_location_fails_and_keeps_the_older_backups(
    loaded: str, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    location = ObjectStoragePath(f"file://{folder}")
    older = backup.dump(location, conninfo=loaded, now=T0)
    backup.verify(location, older["name"], conninfo=loaded)
    before = files(folder)

    full = subprocess.run(
        [sys.executable, "-c", FULL_DISK, f"file://{folder}"], capture_output=True, text=True, check=False
    )
    assert full.returncode == 3, full.stderr
    assert "full or not writable" in full.stdout
    assert files(folder) == before, "the failed dump left a file or touched an older backup"

    (tmp_path / "not-a-directory").write_text("x")
    with pytest.raises(backup.BackupError, match="cannot create the backup location"):
        backup.dump(ObjectStoragePath(f"file://{tmp_path / 'not-a-directory' / 'backups'}"), conninfo=loaded)
    assert files(folder) == before
    with psycopg.connect(loaded) as conn:
        assert conn.execute("SELECT backup_name, status FROM operations.backup_log").fetchall() == [
            (older["name"], "verified")
        ]


def backups_at(times: list[dt.datetime], status: str = "verified") -> list[dict]:
    return [{"name": f"warehouse_{t:%Y%m%dT%H%M%SZ}", "started_at": t.isoformat(), "status": status} for t in times]


def test_rotation_keeps_7_daily_4_weekly_12_monthly_and_the_newest_verified() -> None:
    last = dt.datetime(2026, 11, 22, 2, 0, tzinfo=dt.UTC)  # a Sunday
    times = [last - dt.timedelta(days=n) for n in range(400)]
    keep = backup.plan_rotation(backups_at(times))

    def name(day: dt.date) -> str:
        return f"warehouse_{day:%Y%m%d}T020000Z"

    daily = {name(last.date() - dt.timedelta(days=n)) for n in range(7)}
    # Each of the last 4 ISO weeks is kept by its newest backup: the Sundays.
    weekly = {name(dt.date(2026, 11, 22) - dt.timedelta(weeks=n)) for n in range(4)}
    # Each of the last 12 months by its last day (this month: today).
    month_ends = (
        [dt.date(2026, 11, 22)]
        + [dt.date(2026, m + 1, 1) - dt.timedelta(days=1) for m in range(10, 0, -1)]
        + [dt.date(2025, 12, 31)]
    )
    monthly = {name(d) for d in month_ends}
    assert len(monthly) == 12
    assert keep == daily | weekly | monthly

    # The newest verified backup is kept even when a newer one failed, and whatever the counts say.
    failed = backups_at([last + dt.timedelta(days=1)], status="failed")
    keep = backup.plan_rotation(backups_at(times[:3]) + failed, daily=0, weekly=0, monthly=0)
    assert keep == {name(last.date()), failed[0]["name"]}
    # An unverified backup older than the newest verified one goes.
    stale = backups_at([last - dt.timedelta(days=1, hours=1)], status="dumped")
    assert stale[0]["name"] not in backup.plan_rotation(backups_at(times[:1]) + stale)


def test_rotate_deletes_dump_and_manifest_of_what_the_plan_drops(warehouse: str, tmp_path: Path) -> None:
    times = [T0 - dt.timedelta(days=n) for n in range(10)]
    for manifest in backups_at(times):
        (tmp_path / f"{manifest['name']}.dump").write_bytes(b"dump")
        (tmp_path / f"{manifest['name']}.json").write_text(json.dumps(manifest))
    (tmp_path / ".warehouse_20260101T000000Z.dump.partial").write_bytes(b"left by a killed dump")
    os.utime(tmp_path / ".warehouse_20260101T000000Z.dump.partial", (0, 0))

    result = backup.rotate(ObjectStoragePath(f"file://{tmp_path}"), daily=3, weekly=1, monthly=1, conninfo=warehouse)
    kept = {f"warehouse_{t:%Y%m%dT%H%M%SZ}" for t in times[:3]}  # 3 days; the week's and month's newest is T0
    assert set(result["kept"]) == kept
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{n}.{ext}" for n in kept for ext in ("dump", "json"))
    assert backup.rotate(ObjectStoragePath(f"file://{tmp_path}"), daily=3, conninfo=warehouse)["deleted"] == []


def test_backup_dag_dumps_verifies_and_rotates(
    loaded: str, as_backup: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As the backup login, on a warehouse made the real way: verified, the asset fires (retention
    runs after it), rotation ran."""
    folder = tmp_path / "dag-backups"
    monkeypatch.setenv("AIRFLOW_VAR_WAREHOUSE_BACKUP_PATH", f"file://{folder}")
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags" / "warehouse_backup.py"))
    assert set(bag.dag_ids) == {"warehouse_backup"}
    run = bag.get_dag("warehouse_backup").test()
    assert str(run.state) == "success"
    (manifest,) = backup.manifests(ObjectStoragePath(f"file://{folder}"))
    assert manifest["status"] == "verified"
    assert asset_event_extras("warehouse_backup", run.run_id) == [{"backup": manifest["name"]}]
    assert {t: manifest["table_rows"][t] for t in counts(loaded)} == counts(loaded)


def test_restore_tables_puts_damaged_tables_back_from_a_verified_backup_or_refuses(
    loaded: str, as_backup: str, as_owner: str, tmp_path: Path
) -> None:
    """A bad manual fix on fact_billing: restore-tables brings it back as the backup holds it, logs
    the restore, refreshes the views that read it, and leaves no side schema or scratch database."""
    build_day(loaded, DAY)
    folder = tmp_path / "backups"
    location = ObjectStoragePath(f"file://{folder}")
    with psycopg.connect(loaded) as conn:
        good = warehouse_checksums(loaded)
        billed = conn.execute("SELECT count(*) FROM facts.fact_billing").fetchone()
        ledger_rows = row_count(conn, "operations.etl_file_ledger")
    assert billed[0] > 10
    manifest = backup.dump(location, conninfo=loaded, now=T0)
    with pytest.raises(backup.BackupError, match="not verified"):
        backup.restore_tables(location, manifest["name"], ["facts.fact_billing"])
    backup.verify(location, manifest["name"])

    with psycopg.connect(loaded) as conn:  # the bad fix, and a refresh that spread it to the views
        conn.execute(
            "DELETE FROM facts.fact_billing WHERE billing_document IN "
            "(SELECT DISTINCT billing_document FROM facts.fact_billing ORDER BY 1 LIMIT 3)"
        )
        conn.execute("UPDATE facts.fact_billing SET sales_amount = 0")
        conn.execute("REFRESH MATERIALIZED VIEW marts.view_sales_performance")
        damaged = row_count(conn, "facts.fact_billing")
    assert warehouse_checksums(loaded)["marts.view_sales_performance"] != good["marts.view_sales_performance"]

    out = io.StringIO()
    argv = ["restore-tables", "--location", f"file://{folder}", "--backup", manifest["name"]]
    assert backup.main([*argv, "--table", "facts.fact_billing"], out=out) == 0
    assert f"facts.fact_billing: {damaged:,} rows replaced by {billed[0]:,}" in out.getvalue()
    assert warehouse_checksums(loaded) == good, "every table and view as before the bad fix"
    with psycopg.connect(loaded) as conn:
        assert conn.execute(
            "SELECT backup_name, table_name, rows_before, rows_restored FROM operations.table_restore_log"
        ).fetchall() == [(manifest["name"], "facts.fact_billing", damaged, billed[0])]
        assert conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'restore\\_%%'").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE '%%\\_tables'").fetchone()[0] == 0

    # The ledger is referenced by rejects and cell issues: alone it is refused, with them it is
    # restored and its identity continues after the restored ids.
    with pytest.raises(
        backup.BackupError, match=r"operations\.etl_row_reject \(references operations\.etl_file_ledger\)"
    ):
        backup.restore_tables(location, manifest["name"], ["operations.etl_file_ledger"])
    family = ["operations.etl_row_reject", "operations.etl_cell_issue", "operations.etl_file_ledger"]
    with psycopg.connect(loaded) as conn:
        conn.execute("DELETE FROM operations.etl_file_ledger")
    backup.restore_tables(location, manifest["name"], family)
    with psycopg.connect(loaded) as conn:
        assert row_count(conn, "operations.etl_file_ledger") == ledger_rows
        top = conn.execute("SELECT max(file_id) FROM operations.etl_file_ledger").fetchone()[0]
        new_id = conn.execute(
            """INSERT INTO operations.etl_file_ledger (business_date, report, path, file_name, status)
               VALUES (%s, 'MB51', 'late.xlsx', 'late.xlsx', 'missing') RETURNING file_id""",
            (DAY,),
        ).fetchone()[0]
    assert new_id > top

    # What cannot be put back whole is refused, and the live table stays as it is.
    name = manifest["name"]
    with pytest.raises(backup.BackupError, match=r"raw\.nonesuch: not in backup"):
        backup.restore_tables(location, name, ["raw.nonesuch"])
    with pytest.raises(backup.BackupError, match="materialized views are refreshed"):
        backup.restore_tables(location, name, ["marts.view_ar_aging"])
    with psycopg.connect(loaded) as conn:  # the schema moved on since the backup
        conn.execute("ALTER TABLE raw.raw_cooispi ADD COLUMN remark text")
        before = table_checksum(conn, "raw.raw_cooispi")
    with pytest.raises(backup.BackupError, match=r"raw.raw_cooispi: the backup's columns .* differ"):
        backup.restore_tables(location, name, ["raw.raw_cooispi"])
    with psycopg.connect(loaded) as conn:
        assert table_checksum(conn, "raw.raw_cooispi") == before, "the live table is untouched"
        assert conn.execute("SELECT count(*) FROM operations.table_restore_log").fetchone()[0] == 4
