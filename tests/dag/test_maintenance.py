"""Maintenance: VACUUM/ANALYZE chosen from real statistics, run outside transactions, health snapshots."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import psycopg
import pytest
from airflow.dag_processing.dagbag import DagBag

from sap_warehouse.operations import maintenance
from sap_warehouse_kit import exports
from tests.helpers import load_day, query

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def churn(url: str, rows: int = 3000, deleted: int = 2000) -> None:
    """Rows in operations.etl_run_log, most of them deleted again: dead tuples. Then ten holidays
    added: rows changed since the last analyze, no dead tuples. Autovacuum is off for both tables of
    this scratch database, so it cannot clean them up before the code under test sees them."""
    with psycopg.connect(url) as conn:
        for table in ("operations.etl_run_log", "dims.holiday_calendar"):
            conn.execute(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        conn.commit()
        conn.execute(
            "INSERT INTO operations.etl_run_log (dag_id, run_id, task_id, business_date, step, started_at) "
            "SELECT 'test', 'run ' || i, 'task', date '2026-01-01', 'step', now() FROM generate_series(1, %s) i",
            (rows,),
        )
        conn.commit()
        conn.execute("DELETE FROM operations.etl_run_log WHERE run_log_id <= %s", (deleted,))
        conn.execute(
            "INSERT INTO dims.holiday_calendar (calendar_date, holiday_name) "
            "SELECT date '2027-03-02' + i, 'test ' || i FROM generate_series(0, 9) i"
        )
        conn.commit()
        conn.execute("SELECT pg_stat_force_next_flush()")  # the statistics reach the others at once
        conn.commit()


def stats(url: str, table: str) -> tuple:
    schema, name = table.split(".")
    [row] = query(
        url,
        "SELECT n_dead_tup, n_mod_since_analyze, last_vacuum, last_analyze FROM pg_stat_user_tables "
        "WHERE schemaname = %s AND relname = %s",
        schema,
        name,
    )
    return row


def test_plan_follows_the_dead_tuple_and_change_statistics(warehouse: str) -> None:
    churn(warehouse)
    with psycopg.connect(warehouse) as conn:
        actions = {(a["schema"], a["table"]): a for a in maintenance.plan(conn, dead_ratio=0.5, min_dead=1000)}
        assert actions[("operations", "etl_run_log")]["action"] == "vacuum"
        assert "2000 dead tuples" in actions[("operations", "etl_run_log")]["reason"]
        assert actions[("dims", "holiday_calendar")]["action"] == "analyze"
        # Above the thresholds the same table is only analyzed.
        strict = {(a["schema"], a["table"]): a for a in maintenance.plan(conn, dead_ratio=0.9, min_dead=1000)}
        assert strict[("operations", "etl_run_log")]["action"] == "analyze"
        assert ("operations", "etl_run_log") not in {
            (a["schema"], a["table"]) for a in maintenance.plan(conn, min_dead=5000, min_changes=10_000)
        }


def test_vacuum_and_analyze_run_outside_a_transaction_and_dry_run_runs_nothing(warehouse: str) -> None:
    churn(warehouse)
    planned = maintenance.run(dead_ratio=0.5, dry_run=True, conninfo=warehouse)
    assert any(a["statement"] == 'VACUUM (ANALYZE) "operations"."etl_run_log"' for a in planned)
    assert stats(warehouse, "operations.etl_run_log")[2] is None, "a dry run vacuumed"

    done = maintenance.run(dead_ratio=0.5, conninfo=warehouse)
    assert {a["statement"] for a in done} >= {
        'VACUUM (ANALYZE) "operations"."etl_run_log"',
        'ANALYZE "dims"."holiday_calendar"',
    }
    assert not any("FULL" in a["statement"] for a in done), "VACUUM FULL without being asked"
    dead, _, last_vacuum, _ = stats(warehouse, "operations.etl_run_log")
    assert (dead, last_vacuum is not None) == (0, True)
    _, changed, _, last_analyze = stats(warehouse, "dims.holiday_calendar")
    assert (changed, last_analyze is not None) == (0, True)


def test_vacuum_full_only_when_asked_and_it_rewrites_the_table(warehouse: str) -> None:
    churn(warehouse)
    with psycopg.connect(warehouse) as conn:
        before = conn.execute("SELECT pg_relation_filenode('operations.etl_run_log')").fetchone()[0]
    done = maintenance.run(dead_ratio=0.5, full=True, conninfo=warehouse)
    assert 'VACUUM (FULL, ANALYZE) "operations"."etl_run_log"' in {a["statement"] for a in done}
    with psycopg.connect(warehouse) as conn:
        after = conn.execute("SELECT pg_relation_filenode('operations.etl_run_log')").fetchone()[0]
    assert after != before


def test_health_snapshot_records_tables_and_indexes(warehouse: str) -> None:
    churn(warehouse)
    counts = maintenance.snapshot(conninfo=warehouse)
    with psycopg.connect(warehouse) as conn:
        expected_tables = conn.execute(
            "SELECT count(*) FROM pg_stat_user_tables "
            "WHERE schemaname IN ('raw', 'dims', 'facts', 'marts', 'operations')"
        ).fetchone()[0]
        log_row = conn.execute(
            "SELECT dead_tuples, dead_ratio, total_bytes > 0 FROM operations.table_health "
            "WHERE schema_name = 'operations' AND table_name = 'etl_run_log'"
        ).fetchone()
        unique_pk = conn.execute(
            "SELECT is_unique FROM operations.index_health WHERE index_name = 'etl_run_log_pkey'"
        ).fetchone()
    assert counts["tables"] == expected_tables
    assert (log_row[0], log_row[2]) == (2000, True)
    assert float(log_row[1]) == pytest.approx(2000 / 3000, abs=1e-4)
    assert unique_pk == (True,)


def test_health_snapshot_records_size_connections_waits_long_runs_and_slow_statements(warehouse: str) -> None:
    """A session holding a lock for a while, one waiting for it, a statement run slowly a few times:
    the snapshot names the holder as long running, the waiter as waiting on it, the slow statement
    first among the statements, and counts the connections by state."""
    with psycopg.connect(warehouse, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("SELECT pg_stat_statements_reset()")
        for _ in range(3):
            conn.execute("SELECT pg_sleep(0.2), 'slow on purpose'")
    with psycopg.connect(warehouse) as conn:
        conn.execute(
            "INSERT INTO operations.table_restore_log (backup_name, table_name, rows_before, rows_restored) "
            "VALUES ('b', 't', 0, 0)"
        )
    holder = psycopg.connect(warehouse)  # a row lock held (table locks would hold up the size functions too)
    holder.execute("SELECT * FROM operations.table_restore_log FOR UPDATE")
    holder_pid = holder.info.backend_pid
    waiter = psycopg.connect(warehouse, autocommit=True)
    waiter_pid = waiter.info.backend_pid
    waiting = threading.Thread(target=waiter.execute, args=("UPDATE operations.table_restore_log SET rows_before = 1",))
    waiting.start()
    try:
        with psycopg.connect(warehouse) as probe:
            for _ in range(100):  # until the waiter is queued behind the lock
                if probe.execute("SELECT pg_blocking_pids(%s)", (waiter_pid,)).fetchone()[0]:
                    break
                time.sleep(0.05)
        time.sleep(1.1)
        counts = maintenance.snapshot(long_running_seconds=1, conninfo=warehouse)
    finally:
        holder.rollback()
        waiting.join()
        holder.close()
        waiter.close()
    with psycopg.connect(warehouse) as conn:
        size, connections, tracked = conn.execute(
            "SELECT database_bytes, connections, statements_tracked FROM operations.database_health"
        ).fetchone()
        actual_size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
        sessions = {
            pid: (concern, blocked_by)
            for pid, concern, blocked_by in conn.execute(
                "SELECT pid, concern, blocked_by FROM operations.session_health"
            )
        }
        slowest = conn.execute(
            "SELECT calls, query, mean_ms FROM operations.statement_health WHERE rank = 1"
        ).fetchone()
    assert counts["database"] == 1
    assert counts["statements"] >= 1
    assert abs(size - actual_size) < actual_size * 0.05
    assert connections["idle in transaction"] >= 1
    assert connections["active"] >= 1
    assert sessions[holder_pid] == ("long_running", [])
    assert sessions[waiter_pid] == ("waiting", [holder_pid])
    assert tracked is True
    assert slowest[:2] == (3, "SELECT pg_sleep($1), $2")
    assert slowest[2] >= 200

    with psycopg.connect(warehouse, autocommit=True) as conn:  # a server without the extension
        conn.execute("DROP EXTENSION pg_stat_statements")
    assert maintenance.snapshot(conninfo=warehouse)["statements"] == 0
    with psycopg.connect(warehouse) as conn:
        assert conn.execute(
            "SELECT statements_tracked FROM operations.database_health ORDER BY snapshot_at DESC LIMIT 1"
        ).fetchone() == (False,)


def test_maintenance_dag_runs_after_the_daily_refresh(warehouse: str, as_owner: str) -> None:
    """As the owner login the DAG really uses (not a superuser): it reads no server setting it may not
    read, and its health snapshot tracks statements (the warehouse preloads pg_stat_statements)."""
    bag = DagBag(dag_folder=str(PROJECT_ROOT / "dags"))
    dag = bag.get_dag("warehouse_maintenance")
    daily = bag.get_dag("sap_warehouse_daily")
    assert {a.name for a in daily.get_task("refresh_views").outlets} == {"sap_warehouse_marts"}
    churn(warehouse)
    started = dt.datetime.now(dt.UTC)
    assert str(dag.test().state) == "success"
    with psycopg.connect(warehouse) as conn:
        snapshots = conn.execute(
            "SELECT count(*) FROM operations.table_health WHERE snapshot_at >= %s", (started,)
        ).fetchone()[0]
    assert snapshots > 0
    assert stats(warehouse, "operations.etl_run_log")[2] is not None
    tracked = query(warehouse, "SELECT statements_tracked, snapshot_at >= %s FROM operations.database_health", started)
    assert tracked == [(True, True)]


def test_a_bulk_load_gets_fresh_statistics_before_the_gate(warehouse: str, as_loader: str, tmp_path: Path) -> None:
    """The loader (not the tables' owner) ANALYZEs the raw partitions a load changed much, and only those."""
    day = dt.date(2026, 3, 3)
    exports.write_day(tmp_path, day, rows=300, seed=4)
    load_day(warehouse, tmp_path / day.isoformat(), day)

    def changed() -> dict[str, int]:
        with psycopg.connect(warehouse) as conn:
            conn.execute("SELECT pg_stat_clear_snapshot()")
            return dict(
                conn.execute(
                    "SELECT relname, n_mod_since_analyze FROM pg_stat_user_tables "
                    "WHERE schemaname = 'raw' AND n_mod_since_analyze > 0"
                ).fetchall()
            )

    deadline = time.monotonic() + 30  # the loads' sessions report their statistics as they end
    while "raw_mb51_y2026m03" not in changed():
        assert time.monotonic() < deadline, "the load's changes never reached the statistics"
        time.sleep(0.5)
    before = changed()
    analyzed = maintenance.analyze_changed(("raw",), min_changes=100, min_ratio=0.1, conninfo=as_loader)
    names = {t["table"] for t in analyzed}
    assert "raw_mb51_y2026m03" in names
    assert names >= {table for table, rows in before.items() if rows >= 100}  # their rows: all new
    assert all(t["changed"] >= 100 for t in analyzed)
    after = changed()
    assert not names & set(after), "an analyzed partition still counts its changes"
    assert maintenance.analyze_changed(("raw",), min_changes=100, conninfo=as_loader) == []
