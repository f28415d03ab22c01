"""Maintenance: VACUUM/ANALYZE chosen from real statistics, run outside transactions, health snapshots."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pytest
from airflow.dag_processing.dagbag import DagBag

from sap_warehouse import maintenance

PROJECT_ROOT = Path(__file__).resolve().parents[1]


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
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT n_dead_tup, n_mod_since_analyze, last_vacuum, last_analyze FROM pg_stat_user_tables "
            "WHERE schemaname = %s AND relname = %s",
            (schema, name),
        ).fetchone()


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


@pytest.mark.dag
def test_maintenance_dag_runs_after_the_daily_refresh(warehouse: str) -> None:
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
