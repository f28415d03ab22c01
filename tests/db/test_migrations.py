"""The Alembic migrations build the whole warehouse schema (docs/layout.md) and unwind cleanly."""

import re

import psycopg
import pytest
from alembic import command
from psycopg import sql

from sap_warehouse.core import model
from sap_warehouse.core.db import row_count, table_name
from sap_warehouse.core.registry import SQL_DIR, sql_definition, sql_file, view_definition
from sap_warehouse_kit.scratch_db import admin_url, alembic_config, create_database, drop_database

RAW = [
    "raw_mb51",
    "raw_zrsd002",
    "raw_zrsd006",
    "raw_cooispi",
    "raw_zrfi005",
    "raw_cogs",
    "raw_zrsd004",
    "raw_zrmm024",
    "raw_zrpp062",
    "raw_target",
    "raw_mb52",
]
DIMS = [d.name for d in model.dimensions()] + ["holiday_calendar"]  # the calendar the plant edits
FACTS = [*model.facts(), "fact_alert"]  # the alerts' own fact, written by the alert step
OPERATIONS = ["etl_file_ledger", "etl_row_reject", "dq_validation_result", "etl_run_log"]
VIEWS = [v.name for v in model.views()]
RAW_COMMON = {"raw_data", "source_file", "source_row", "loaded_at", "row_hash", "business_date"}


def _tables(conn: psycopg.Connection) -> set[tuple[str, str]]:
    return set(
        conn.execute(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind IN ('r', 'p', 'm') AND NOT c.relispartition "
            "AND n.nspname IN ('raw', 'dims', 'facts', 'marts', 'operations')"
        ).fetchall()
    )


def test_upgrade_creates_the_design_schema(empty_database: str) -> None:
    command.upgrade(alembic_config(empty_database), "head")
    with psycopg.connect(empty_database) as conn:
        tables = _tables(conn)
        expected = (
            {("raw", t) for t in RAW}
            | {("dims", t) for t in DIMS}
            | {("facts", t) for t in FACTS}
            | {("operations", t) for t in OPERATIONS}
            | {("marts", v) for v in VIEWS}
        )
        assert expected <= tables, expected - tables
        for table in RAW:
            cols = {
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = %s",
                    (table,),
                )
            }
            assert RAW_COMMON <= cols, (table, RAW_COMMON - cols)
            unique = conn.execute(
                "SELECT count(*) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'u'", (f"raw.{table}",)
            ).fetchone()[0]
            assert unique == 1, f"{table} has no business key"
        for view in VIEWS:
            unique_index = conn.execute(
                "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                "WHERE c.oid = %s::regclass AND i.indisunique AND i.indpred IS NULL",
                (f"marts.{view}",),
            ).fetchone()[0]
            assert unique_index == 1, f"{view} cannot be refreshed CONCURRENTLY without a unique index"
        first, last, days = conn.execute(
            "SELECT min(calendar_date), max(calendar_date), count(*) FROM dims.dim_date"
        ).fetchone()
        assert (str(first), str(last), days) == ("2020-01-01", "2030-12-31", 4018)
        assert conn.execute("SELECT version_num FROM public.alembic_version").fetchone()[0] == "0023"
        partitions = conn.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'raw.raw_mb51'::regclass"
        ).fetchone()[0]
        assert partitions == 11 * 12 + 1  # one per month 2020..2030 and a default


def test_analyst_role_reads_but_cannot_write(empty_database: str) -> None:
    command.upgrade(alembic_config(empty_database), "head")
    with psycopg.connect(empty_database) as conn:
        conn.execute("SET ROLE warehouse_analyst")
        assert conn.execute("SELECT count(*) FROM dims.dim_date").fetchone()[0] == 4018
        for view in VIEWS:  # the views 0002 re-created are readable too
            row_count(conn, f"marts.{view}")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO dims.holiday_calendar VALUES ('2026-02-17', 'Tet')")
        conn.rollback()
        conn.execute("SET ROLE warehouse_analyst")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("CREATE TABLE raw.sneaky (x int)")


def test_upgrade_downgrade_upgrade(empty_database: str) -> None:
    cfg = alembic_config(empty_database)
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "0002")
    with psycopg.connect(empty_database) as conn:
        assert not {("operations", "backup_log"), ("operations", "retention_log")} & _tables(conn)
    command.downgrade(cfg, "0001")
    with psycopg.connect(empty_database) as conn:
        columns = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = 'fact_ar_aging'"
            )
        }
        assert "not_due_amount" in columns
        assert "collected_total_amount" not in columns
    command.upgrade(cfg, "head")
    command.downgrade(cfg, "base")
    with psycopg.connect(empty_database) as conn:
        assert _tables(conn) == set()
        schemas = conn.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname IN ('raw', 'dims', 'facts', 'marts', 'operations')"
        ).fetchone()[0]
        assert schemas == 0
    command.upgrade(cfg, "head")
    with psycopg.connect(empty_database) as conn:
        assert ("raw", "raw_mb51") in _tables(conn)


def test_each_view_has_one_current_definition_in_its_sql_file(warehouse: str) -> None:
    """include/sql/marts/<view>.sql is what the migrated database holds: dropping the view and running
    the file gives the same definition and the same unique index."""
    assert sorted(p.stem for p in (SQL_DIR / "marts").glob("*.sql")) == sorted(VIEWS)
    definition = (
        "SELECT pg_get_viewdef(%(v)s::regclass), "
        "(SELECT array_agg(pg_get_indexdef(indexrelid) ORDER BY indexrelid::regclass::text) "
        "FROM pg_index WHERE indrelid = %(v)s::regclass)"
    )
    with psycopg.connect(warehouse) as conn:
        for view in VIEWS:
            live = conn.execute(definition, {"v": f"marts.{view}"}).fetchone()
            with conn.transaction(force_rollback=True):
                conn.execute(sql.SQL("DROP MATERIALIZED VIEW {}").format(table_name(f"marts.{view}")))
                conn.execute(sql_file(f"marts/{view}.sql"))
                assert conn.execute(definition, {"v": f"marts.{view}"}).fetchone() == live, view


def test_every_whole_row_upsert_names_its_tables_columns_in_order(warehouse: str) -> None:
    """A build that updates a conflicting row whole (SET (every column) = ROW (excluded.*)) names the
    target's columns in the table's order: a column added later, or two listed the other way round,
    fails here rather than updating the wrong column or none."""
    upserts = {}
    for path in sorted(SQL_DIR.glob("*/*.sql")):
        text = path.read_text(encoding="utf-8")
        whole_row = re.search(r"SET \(([^)]*)\) = ROW\s*\(excluded\.\*\)", text)
        if whole_row:
            target = re.search(r"INSERT INTO (\w+\.\w+)", text).group(1)
            upserts[target] = [name.strip() for name in whole_row.group(1).split(",")]
    assert {"dims.dim_material", "facts.fact_production"} <= set(upserts)
    with psycopg.connect(warehouse) as conn:
        for target, listed in upserts.items():
            columns = conn.execute(
                "SELECT array_agg(attname::text ORDER BY attnum) FROM pg_attribute "
                "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                (target,),
            ).fetchone()[0]
            assert listed == columns, target


def test_the_cell_parsers_the_warehouse_holds_are_their_current_file(warehouse: str) -> None:
    """include/sql/parsers/cell_parsers.sql is what the migrated database runs: running the file again
    changes no function; the parsers as 0001 made them are kept in history/ for that migration."""
    functions = (
        "SELECT p.proname, pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'operations' AND p.proname LIKE 'sap\\_%' ORDER BY 1"
    )
    current = sql_file("parsers/cell_parsers.sql")
    with psycopg.connect(warehouse) as conn:
        live = conn.execute(functions).fetchall()
        assert {name for name, _ in live} == {
            "sap_make_date",
            "sap_date",
            "sap_text_number",
            "sap_number",
            "sap_nfc",
            "sap_code",
            "sap_text",
        }
        with conn.transaction(force_rollback=True):
            conn.execute(current)
            assert conn.execute(functions).fetchall() == live
    older = sql_definition("parsers/cell_parsers", "0001")
    assert "sap_nfc" not in older
    assert "CREATE FUNCTION operations.sap_code" in older


def test_a_migration_names_the_view_definition_it_needs() -> None:
    current = sql_file("marts/view_ar_aging.sql")
    assert view_definition("view_ar_aging", current.splitlines()[0].removeprefix("-- revision: ")) == current
    older = view_definition("view_ar_aging", "0001")
    assert "not_due_amount" in older
    assert "outstanding_amount" not in older
    with pytest.raises(FileNotFoundError, match=r"no definition of marts/view_ar_aging for migration 0007"):
        view_definition("view_ar_aging", "0007")


def test_warehouse_databases_collate_in_byte_order(warehouse: str) -> None:
    """docs/decisions/0016-c-collation.md (byte order, the code point order C.UTF-8 gives, compared with memcmp)."""
    with psycopg.connect(warehouse) as conn:
        collate = conn.execute("SELECT datcollate FROM pg_database WHERE datname = current_database()").fetchone()[0]
    assert collate == "C"


def test_a_file_copy_of_a_database_writes_next_to_no_wal(warehouse: str) -> None:
    """scratch_db.create_database(file_copy=True): the benchmarks copy a loaded year in seconds."""
    template = warehouse.rsplit("/", 1)[1]
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        size = conn.execute("SELECT pg_database_size(%s)", (template,)).fetchone()[0]
        before = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
        copy = create_database(f"{template}_copy", template=template, file_copy=True)
        wal = conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (before,)).fetchone()[0]
    try:
        with psycopg.connect(copy) as other:
            assert other.execute("SELECT count(*) FROM dims.dim_date").fetchone()[0] == 4018
    finally:
        drop_database(f"{template}_copy")
    assert wal < size / 10  # a block-by-block copy (the default) writes about 40% of the size here
