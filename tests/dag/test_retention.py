"""Retention on a real warehouse: archive, verify, delete; never past the last verified backup; idempotent."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import threading
import time
from pathlib import Path

import psycopg
import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk import ObjectStoragePath

from sap_warehouse.build import layers
from sap_warehouse.core.business_date import DateSpan
from sap_warehouse.core.db import row_count
from sap_warehouse.ingest.raw_load import load_file
from sap_warehouse.operations import backup, retention
from sap_warehouse_kit import exports
from tests.helpers import table_checksum

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RECENT, OLD, OLD_LATE = dt.date(2026, 11, 2), dt.date(2022, 1, 10), dt.date(2022, 3, 20)
TODAY = dt.date(2026, 11, 22)
TABLES = list(retention.policies())


def load(url: str, landing: Path, day: dt.date) -> None:
    exports.write_day(landing, day, rows=30, seed=9)
    for path in sorted((landing / day.isoformat()).iterdir()):
        status = load_file(path, day, quarantine_root=landing / "quarantine", conninfo=url).status
        assert status in ("loaded", "duplicate"), path.name  # master data files repeat day after day


def counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {t: row_count(conn, t) for t in TABLES}


def checksums(url: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return {t: table_checksum(conn, t) for t in TABLES}


def archived_records(folder: Path) -> dict[str, int]:
    found: dict[str, int] = {}
    for file in folder.rglob("*.csv.gz"):
        with gzip.open(file, "rt", encoding="utf-8", newline="") as fh:
            found[file.parent.name] = found.get(file.parent.name, 0) + sum(1 for _ in csv.reader(fh)) - 1
    return found


def verified_backup(url: str, folder: Path) -> None:
    location = ObjectStoragePath(f"file://{folder}")
    backup.verify(location, backup.dump(location, conninfo=url)["name"], conninfo=url)


@pytest.fixture
def aged(warehouse: str, tmp_path: Path) -> tuple[str, dict[str, int], dict[str, int]]:
    """A recent business date and one four years old, loaded; counts with the recent one only and
    with both."""
    load(warehouse, tmp_path / "landing", RECENT)
    recent_only = counts(warehouse)
    load(warehouse, tmp_path / "landing", OLD)
    both = counts(warehouse)
    assert both["raw.raw_mb51"] > recent_only["raw.raw_mb51"] > 0
    return warehouse, recent_only, both


def test_nothing_is_deleted_without_a_verified_backup(aged, tmp_path: Path) -> None:
    url, _, both = aged
    archive = ObjectStoragePath(f"file://{tmp_path / 'archive'}")
    assert retention.apply(TODAY, archive, dry_run=False, conninfo=url) == {}
    assert counts(url) == both


def test_retention_archives_then_deletes_the_old_rows_and_a_second_run_changes_nothing(aged, tmp_path: Path) -> None:
    url, recent_only, both = aged
    verified_backup(url, tmp_path / "backups")
    load(url, tmp_path / "landing", OLD_LATE)  # old data loaded after the backup: the backup lacks it
    with_late = counts(url)
    archive = ObjectStoragePath(f"file://{tmp_path / 'archive'}")

    before = checksums(url)
    report = retention.apply(TODAY, archive, dry_run=True, run_id="dry", conninfo=url)
    assert checksums(url) == before, "a dry run changed data"
    assert not (tmp_path / "archive").exists(), "a dry run wrote archives"
    would_go = {t: sum(a["rows"] for a in actions) for t, actions in report.items() if actions}

    done = retention.apply(TODAY, archive, dry_run=False, run_id="real", conninfo=url)
    gone = {t: sum(a["rows"] for a in actions) for t, actions in done.items() if actions}
    assert gone == would_go
    expected_gone = {t: both[t] - recent_only[t] for t in TABLES if both[t] != recent_only[t]}
    assert gone == expected_gone
    assert archived_records(tmp_path / "archive") == expected_gone
    after = counts(url)
    # What is left: the recent date, plus the old date loaded after the backup.
    assert after == {t: recent_only[t] + with_late[t] - both[t] for t in TABLES}
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT to_regclass('raw.raw_mb51_y2022m01')").fetchone()[0] is None, "partition kept"
        assert conn.execute("SELECT to_regclass('raw.raw_mb51_y2022m03')").fetchone()[0] is not None
        logged = conn.execute(
            "SELECT dry_run, action, sum(rows_affected) FROM operations.retention_log GROUP BY 1, 2 ORDER BY 1, 2"
        ).fetchall()
    assert ("drop_partition" in {a for dry, a, _ in logged if not dry}) is True
    with psycopg.connect(url) as conn:
        recorded = conn.execute(
            "SELECT archive_path, archive_sha256 FROM operations.retention_log WHERE archive_path IS NOT NULL"
        ).fetchall()
    assert recorded, "no archive recorded"
    for path, sha in recorded:  # the recorded digest is the archive file's own
        assert hashlib.sha256(ObjectStoragePath(path).read_bytes()).hexdigest() == sha, path
    assert sum(n for dry, _, n in logged if not dry) == sum(gone.values())

    settled = checksums(url)
    again = retention.apply(TODAY, archive, dry_run=False, run_id="again", conninfo=url)
    assert all(actions == [] for actions in again.values())
    assert checksums(url) == settled


def test_a_load_committed_while_retention_waits_for_its_lock_is_archived_before_the_partition_goes(
    aged, tmp_path: Path
) -> None:
    """A load holds the old partition when retention starts; retention waits, the load commits, and
    its row must be in the archive (retention's snapshot is taken after the lock, not before)."""
    url, recent_only, both = aged
    verified_backup(url, tmp_path / "backups")
    archive = ObjectStoragePath(f"file://{tmp_path / 'archive'}")
    with psycopg.connect(url) as loader:
        loader.execute(  # an old row written before the backup, under a new document number
            """INSERT INTO raw.raw_mb51
               SELECT (jsonb_populate_record(NULL::raw.raw_mb51, to_jsonb(r) || '{"material_document": "RACE-1"}')).*
               FROM raw.raw_mb51 r WHERE posting_date = %s LIMIT 1""",
            (OLD,),
        )
        done: dict = {}
        worker = threading.Thread(
            target=lambda: done.update(retention.apply(TODAY, archive, dry_run=False, run_id="race", conninfo=url))
        )
        worker.start()
        deadline = time.monotonic() + 60
        with psycopg.connect(url, autocommit=True) as watch:
            while not watch.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sap_warehouse' "
                "AND wait_event_type = 'Lock'"
            ).fetchone()[0]:
                assert time.monotonic() < deadline, "retention never waited for the loader's lock"
                time.sleep(0.05)
        loader.commit()
    worker.join(120)
    assert not worker.is_alive()
    gone = sum(a["rows"] for a in done["raw.raw_mb51"])
    assert gone == both["raw.raw_mb51"] - recent_only["raw.raw_mb51"] + 1
    with gzip.open(tmp_path / "archive" / "retention" / "raw.raw_mb51" / "raw_mb51_y2022m01.csv.gz", "rt") as fh:
        assert "RACE-1" in {row["material_document"] for row in csv.DictReader(fh)}
    assert counts(url)["raw.raw_mb51"] == recent_only["raw.raw_mb51"]


def fact_slices(url: str) -> dict[str, tuple]:
    """Rows and totals of the old date's fact slices."""
    with psycopg.connect(url) as conn:
        return {
            "inventory": conn.execute(
                "SELECT count(*), sum(net_qty) FROM facts.fact_inventory WHERE movement_date < '2023-01-01'"
            ).fetchone(),
            "billing": conn.execute(
                "SELECT count(*), sum(sales_amount) FROM facts.fact_billing WHERE billing_date < '2023-01-01'"
            ).fetchone(),
            "ar_aging": conn.execute(
                "SELECT count(*) FROM facts.fact_ar_aging WHERE snapshot_date < '2023-01-01'"
            ).fetchone(),
        }


def test_rebuilding_a_date_whose_raw_rows_were_retired_keeps_its_facts(aged, tmp_path: Path) -> None:
    """Facts are kept for good, raw rows for three years: a rebuild of a retired date must not
    delete its facts and re-insert nothing (and the reconciliation must not pass on 0 = 0)."""
    url, _, _ = aged
    layers.rebuild(DateSpan.of(OLD), conninfo=url)
    built = fact_slices(url)
    assert all(slice_[0] > 0 for slice_ in built.values()), built
    verified_backup(url, tmp_path / "backups")
    retention.apply(TODAY, ObjectStoragePath(f"file://{tmp_path / 'archive'}"), dry_run=False, conninfo=url)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM raw.raw_mb51 WHERE posting_date < '2023-01-01'").fetchone()[0] == 0

    layers.rebuild(DateSpan(OLD, OLD + dt.timedelta(days=1)), conninfo=url)
    assert fact_slices(url) == built
    with psycopg.connect(url) as conn:
        details = conn.execute(
            "SELECT details FROM operations.etl_run_log WHERE step = 'reconcile' ORDER BY run_log_id DESC LIMIT 1"
        ).fetchone()[0]
    assert details["raw_retired"]["business_dates"] == [OLD.isoformat(), (OLD + dt.timedelta(days=1)).isoformat()]
    assert OLD.isoformat() in details["raw_retired"]["movement_dates"]
    assert details["checks"] == [], "nothing of the retired dates is left to check against the raw layer"

    # A new export of the retired date is refused with what to do, not loaded into raw where it would
    # never reach the kept facts.
    exports.write_day(tmp_path / "late", OLD, rows=10, seed=10)
    mb51 = next(p for p in (tmp_path / "late" / OLD.isoformat()).iterdir() if p.read_bytes()[:2] == b"PK")
    result = load_file(mb51, OLD, quarantine_root=tmp_path / "quarantine", conninfo=url)
    assert result.status == "quarantined"
    assert "before the retention cutoff" in result.reason
    assert "retention archive" in result.reason
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM raw.raw_mb51 WHERE posting_date < '2023-01-01'").fetchone()[0] == 0


def test_an_archive_that_cannot_be_written_deletes_nothing(aged, tmp_path: Path) -> None:
    url, _, both = aged
    verified_backup(url, tmp_path / "backups")
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(OSError):  # noqa: PT011 - the storage layer's own error, whatever its subclass
        retention.apply(TODAY, ObjectStoragePath(f"file://{tmp_path / 'file'}"), dry_run=False, conninfo=url)
    assert counts(url) == both


def test_retention_dag_is_a_dry_run_when_triggered_by_hand(aged, tmp_path: Path, monkeypatch) -> None:
    url, _, both = aged
    verified_backup(url, tmp_path / "backups")
    monkeypatch.setenv("AIRFLOW_VAR_SAP_ARCHIVE_PATH", f"file://{tmp_path / 'archive'}")
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags" / "warehouse_retention.py"))
    assert set(bag.dag_ids) == {"warehouse_retention"}
    assert str(bag.get_dag("warehouse_retention").test().state) == "success"
    assert counts(url) == both
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT bool_and(dry_run), count(*) > 0 FROM operations.retention_log").fetchone() == (
            True,
            True,
        )
