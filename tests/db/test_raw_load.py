"""Loading MB51 exports into raw_mb51: all rows in, idempotent, overlaps, rejects, quarantine."""

import datetime as dt
import io
from collections import Counter
from pathlib import Path

import openpyxl
import psycopg
import pytest

from sap_warehouse.core.registry import COLUMN_TYPES, reports
from sap_warehouse.ingest.raw_load import load as load_module
from sap_warehouse.ingest.raw_load import load_file, load_files, stage
from sap_warehouse.ingest.raw_load.stage import Scratch, stage_cells
from sap_warehouse.ingest.raw_load.typed import type_rows
from sap_warehouse.ingest.workbook import read_sheet
from sap_warehouse_kit.generator import MB51_HEADERS, Movement, mb51_movements, mb51_workbook
from tests.helpers import table_checksum

DAY = dt.date(2026, 1, 2)


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    landing, quarantine = tmp_path / "landing" / DAY.isoformat(), tmp_path / "quarantine"
    landing.mkdir(parents=True)
    return landing, quarantine


def _deliver(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _keys(movements: list[Movement]) -> set[tuple[Movement, int]]:
    """Identity of each line as the business key sees it: its content and its occurrence."""
    seen: Counter = Counter()
    keys = set()
    for m in movements:
        seen[m] += 1
        keys.add((m, seen[m]))
    return keys


def _workbook(rows: list[list]) -> bytes:
    book = openpyxl.Workbook()
    book.active.append(MB51_HEADERS)
    for row in rows:
        book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _row(m: Movement) -> list:
    return [
        m.posting_date.strftime("%d.%m.%Y"),
        m.movement_type,
        m.plant,
        m.storage_location,
        m.material,
        "desc",
        m.batch,
        float(m.quantity),
        m.unit,
        "",
        "",
        m.material_document,
        "",
        "",
        "",
        "",
    ]


def test_row_zero_export_loads_every_row_including_identical_lines(warehouse: str, dirs) -> None:
    landing, quarantine = dirs
    movements = mb51_movements(DAY, 1500, seed=3)
    identical_repeats = sum(count - 1 for count in Counter(movements).values())
    assert identical_repeats > 0, "fixture must contain lines identical in every column"
    path = _deliver(landing, "3f2c9a.xlsx", mb51_workbook(movements, 3, header_row_zero=True))

    result = load_file(path, DAY, quarantine_root=quarantine, conninfo=warehouse)

    assert (result.status, result.rows_read, result.rows_inserted) == ("loaded", len(movements), len(movements))
    with psycopg.connect(warehouse) as conn:
        total, repeats, named = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE occurrence > 1), "
            "count(*) FILTER (WHERE raw_data ->> 'Material Document' = material_document "
            "AND source_file = '3f2c9a.xlsx' AND source_row >= 2) FROM raw.raw_mb51"
        ).fetchone()
        ledger = conn.execute(
            "SELECT rows_read, rows_inserted + rows_updated + rows_unchanged + rows_rejected, sha256 IS NOT NULL "
            "FROM operations.etl_file_ledger"
        ).fetchone()
        quantity = conn.execute("SELECT sum(qty_in_unit_of_entry) FROM raw.raw_mb51").fetchone()[0]
    assert (total, repeats, named) == (len(movements), identical_repeats, len(movements))
    assert ledger == (len(movements), len(movements), True)
    assert quantity == sum(m.quantity for m in movements)


def test_loading_the_same_file_twice_changes_nothing(warehouse: str, dirs) -> None:
    landing, quarantine = dirs
    path = _deliver(landing, "a.xlsx", mb51_workbook(mb51_movements(DAY, 400, seed=4), 4, header_row_zero=False))
    load_file(path, DAY, quarantine_root=quarantine, conninfo=warehouse)
    with psycopg.connect(warehouse) as conn:
        before = table_checksum(conn, "raw.raw_mb51")

    again = load_file(path, DAY, quarantine_root=quarantine, conninfo=warehouse)

    with psycopg.connect(warehouse) as conn:
        assert table_checksum(conn, "raw.raw_mb51") == before
    assert (again.status, again.rows_inserted, again.rows_updated) == ("duplicate", 0, 0)


def test_the_result_says_how_long_reading_and_the_whole_load_took(warehouse: str, dirs) -> None:
    landing, quarantine = dirs
    path = _deliver(landing, "t.xlsx", mb51_workbook(mb51_movements(DAY, 2000, seed=5), 5, header_row_zero=True))

    result = load_file(path, DAY, quarantine_root=quarantine, conninfo=warehouse)
    again = load_file(path, DAY, quarantine_root=quarantine, conninfo=warehouse)

    assert 0 < result.seconds_read < result.seconds
    # A re-delivery is known by its sha256 and not parsed.
    assert (again.status, again.seconds_read) == ("duplicate", 0.0)


def test_same_rows_in_a_differently_written_file_change_nothing(warehouse: str, dirs) -> None:
    landing, quarantine = dirs
    movements = mb51_movements(DAY, 400, seed=5)
    first = _deliver(landing, "first.xlsx", mb51_workbook(movements, 5, header_row_zero=True))
    load_file(first, DAY, quarantine_root=quarantine, conninfo=warehouse)
    with psycopg.connect(warehouse) as conn:
        before = table_checksum(conn, "raw.raw_mb51")
    # Same movements, other cell shapes (text dates, comma decimals drawn anew) and another name.
    second = _deliver(landing, "second.xlsx", mb51_workbook(movements, 99, header_row_zero=False))

    result = load_file(second, DAY, quarantine_root=quarantine, conninfo=warehouse)

    assert (result.status, result.rows_inserted, result.rows_updated, result.rows_unchanged) == (
        "loaded",
        0,
        0,
        len(movements),
    )
    with psycopg.connect(warehouse) as conn:
        assert table_checksum(conn, "raw.raw_mb51") == before


def test_overlapping_file_inserts_only_what_is_new(warehouse: str, dirs) -> None:
    landing, quarantine = dirs
    movements = mb51_movements(DAY, 900, seed=6)
    part_a, part_b = movements[:600], movements[300:]
    load_file(
        _deliver(landing, "a.xlsx", mb51_workbook(part_a, 1, header_row_zero=False)),
        DAY,
        quarantine_root=quarantine,
        conninfo=warehouse,
    )

    result = load_file(
        _deliver(landing, "b.xlsx", mb51_workbook(part_b, 2, header_row_zero=True)),
        DAY,
        quarantine_root=quarantine,
        conninfo=warehouse,
    )

    new = len(_keys(part_b) - _keys(part_a))
    assert (result.rows_inserted, result.rows_unchanged, result.rows_updated) == (new, len(part_b) - new, 0)
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("SELECT count(*) FROM raw.raw_mb51").fetchone()[0] == len(_keys(part_a) | _keys(part_b))


def test_bad_values_become_rejects_naming_row_and_column(warehouse: str, dirs) -> None:
    landing, quarantine = dirs
    movements = mb51_movements(DAY, 60, seed=8)
    rows = [_row(m) for m in movements]
    rows[4][0] = "Summary"  # placeholder text in a date column: Excel row 6
    rows[9][7] = "abc"  # text in the quantity column: Excel row 11
    rows[12][11] = None  # missing document number: Excel row 14
    path = _deliver(landing, "bad-rows.xlsx", _workbook(rows))

    result = load_file(path, DAY, quarantine_root=quarantine, reject_ratio_max=0.1, conninfo=warehouse)

    assert result.status == "loaded"
    assert result.rows_read == len(rows) == result.rows_inserted + result.rows_rejected
    assert result.rows_rejected == 3
    with psycopg.connect(warehouse) as conn:
        rejects = conn.execute(
            "SELECT source_file, source_row, column_name, value, reason FROM operations.etl_row_reject ORDER BY 2"
        ).fetchall()
    assert [(r[0], r[1], r[2], r[3]) for r in rejects] == [
        ("bad-rows.xlsx", 6, "Posting Date", "Summary"),
        ("bad-rows.xlsx", 11, "Qty in Un. of Entry", "abc"),
        ("bad-rows.xlsx", 14, "Material Document", None),
    ]
    assert "not a date" in rejects[0][4]
    assert "not a number" in rejects[1][4]
    assert "missing" in rejects[2][4]


def test_file_over_the_reject_threshold_is_quarantined_whole(warehouse: str, dirs) -> None:
    landing, quarantine = dirs
    rows = [_row(m) for m in mb51_movements(DAY, 20, seed=9)]
    for row in rows[:5]:
        row[7] = "n/a"
    path = _deliver(landing, "mostly-bad.xlsx", _workbook(rows))

    result = load_file(path, DAY, quarantine_root=quarantine, reject_ratio_max=0.05, conninfo=warehouse)

    assert result.status == "quarantined"
    assert "5 of 20 rows rejected" in result.reason
    # The reason names the worst column, its count and a sample (row and value) for on-call.
    assert "Qty in Un. of Entry 5 (e.g. row 2: 'n/a'" in result.reason
    assert not path.exists()
    assert (quarantine / DAY.isoformat() / "mostly-bad.xlsx").exists()
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("SELECT count(*) FROM raw.raw_mb51").fetchone()[0] == 0
        status, reason, read, rejected = conn.execute(
            "SELECT status, reason, rows_read, rows_rejected FROM operations.etl_file_ledger"
        ).fetchone()
        # The evidence outlives the refused rows: every failing row is kept under the ledger row.
        evidence = conn.execute(
            "SELECT r.source_row, r.column_name, r.value FROM operations.etl_row_reject r "
            "JOIN operations.etl_file_ledger l USING (file_id) WHERE l.status = 'quarantined' ORDER BY 1"
        ).fetchall()
    assert (status, read, rejected) == ("quarantined", 20, 20)
    assert "mostly-bad.xlsx" in reason
    assert evidence == [(row, "Qty in Un. of Entry", "n/a") for row in range(2, 7)]


def _scratch_tables(warehouse: str) -> list[str]:
    with psycopg.connect(warehouse) as conn:
        rows = conn.execute(
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'operations' AND relname LIKE 'load\\_%'"
        ).fetchall()
    return [r[0] for r in rows]


@pytest.mark.parametrize("parallel_cells", [0, stage.PARALLEL_CELLS], ids=["unlogged", "temporary"])
def test_staging_tables_never_outlive_the_load(warehouse: str, dirs, monkeypatch, parallel_cells: int) -> None:
    """The load stages in tables of its own transaction (unlogged for a large file, temporary for a
    small one): gone after a load, and after a file refused half-way (over the reject ratio: staged
    and typed, then rolled back)."""
    monkeypatch.setattr(stage, "PARALLEL_CELLS", parallel_cells)
    landing, quarantine = dirs
    good = _deliver(landing, "good.xlsx", mb51_workbook(mb51_movements(DAY, 30, seed=21), 21, header_row_zero=False))
    rows = [_row(m) for m in mb51_movements(DAY, 20, seed=22)]
    for row in rows[:10]:
        row[0] = "31.02.2026"
    bad = _deliver(landing, "bad-dates.xlsx", _workbook(rows))

    assert load_file(good, DAY, quarantine_root=quarantine, conninfo=warehouse).status == "loaded"
    assert _scratch_tables(warehouse) == []
    assert load_file(bad, DAY, quarantine_root=quarantine, conninfo=warehouse).status == "quarantined"
    assert _scratch_tables(warehouse) == []


def test_a_large_sheet_stages_where_parallel_workers_can_scan_it(warehouse: str) -> None:
    """Temporary tables for a sheet too small to scan in parallel; unlogged ones in operations for a
    sheet at PARALLEL_CELLS or more (parallel workers cannot read temporary tables)."""
    sheet = read_sheet(mb51_workbook(mb51_movements(DAY, 20, seed=31), 31, header_row_zero=False), "MB51.xlsx")
    width = len(sheet.headers)
    with psycopg.connect(warehouse) as conn:
        small = Scratch.of(conn, sheet)
        sheet.rows.extend([[None] * width] * (stage.PARALLEL_CELLS // width))
        large = Scratch.of(conn, sheet)
    assert (small.persistence.as_string(None), small.stage.as_string(None)[:9]) == ("TEMP", '"pg_temp"')
    assert (large.persistence.as_string(None), large.stage.as_string(None)[:12]) == ("UNLOGGED", '"operations"')


def test_typed_rows_match_the_raw_tables_key_types(warehouse: str) -> None:
    """The typed rows' business key and row_hash have the raw table's types, so the probe of an
    unchanged row is one look-up in the key index (a text hash against the char(32) column could
    use only part of the key and read every line of the material document)."""
    sheet = read_sheet(mb51_workbook(mb51_movements(DAY, 20, seed=32), 32, header_row_zero=False), "MB51.xlsx")
    types = (
        "SELECT attname, atttypid::regtype::text FROM pg_attribute WHERE attrelid = %s::regclass "
        "AND attname = ANY(%s) ORDER BY attname"
    )
    key = [*sheet.report.key, "row_hash"]
    with psycopg.connect(warehouse) as conn:
        scratch = Scratch.of(conn, sheet)
        stage_cells(conn, sheet, scratch)
        typed = type_rows(conn, sheet, scratch, DAY)
        typed_types = conn.execute(types, (typed.table.as_string(conn), key)).fetchall()
        raw_types = conn.execute(types, ("raw.raw_mb51", key)).fetchall()
        conn.rollback()
    assert len(raw_types) == len(key)
    assert typed_types == raw_types


def test_every_registry_column_type_has_its_cell_parser_in_the_database(warehouse: str) -> None:
    """The loader calls operations.sap_<type>(text) for a column of each type the registry allows."""
    with psycopg.connect(warehouse) as conn:
        missing = [
            kind
            for kind in COLUMN_TYPES
            if conn.execute("SELECT to_regprocedure(%s)", (f"operations.sap_{kind}(text)",)).fetchone()[0] is None
        ]
    assert missing == []
    assert set(COLUMN_TYPES) == {c.type for r in reports().values() for c in r.columns}


def test_unusable_file_is_quarantined_and_the_next_still_loads(warehouse: str, dirs) -> None:
    landing, quarantine = dirs
    bad = _deliver(landing, "renamed.xlsx", b"%PDF-1.7 this is not a workbook")
    good = _deliver(landing, "good.xlsx", mb51_workbook(mb51_movements(DAY, 50, seed=10), 10, header_row_zero=False))

    results = [load_file(p, DAY, quarantine_root=quarantine, conninfo=warehouse) for p in (bad, good)]

    assert [r.status for r in results] == ["quarantined", "loaded"]
    assert "not an xlsx workbook" in results[0].reason
    assert (quarantine / DAY.isoformat() / "renamed.xlsx").read_bytes().startswith(b"%PDF")


def test_two_loads_of_one_file_at_once_load_it_once(warehouse: str, dirs) -> None:
    from concurrent.futures import ThreadPoolExecutor

    landing, quarantine = dirs
    movements = mb51_movements(DAY, 3000, seed=15)
    path = _deliver(landing, "same.xlsx", mb51_workbook(movements, 15, header_row_zero=False))

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: load_file(path, DAY, quarantine_root=quarantine, conninfo=warehouse), [1, 2]))

    assert sorted(r.status for r in results) == ["duplicate", "loaded"]
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("SELECT count(*) FROM raw.raw_mb51").fetchone()[0] == len(movements)


def test_blank_rows_are_not_rows_and_row_numbers_stay_true(warehouse: str, dirs) -> None:
    landing, quarantine = dirs
    rows = [_row(m) for m in mb51_movements(DAY, 6, seed=16)]
    rows[2][7] = "oops"  # a bad quantity; it lands on sheet row 5, after a blank row
    sheet_rows = [rows[0], rows[1], [None] * 16, rows[2], [None] * 16, [None] * 16, *rows[3:]]
    path = _deliver(landing, "gaps.xlsx", _workbook(sheet_rows))

    result = load_file(path, DAY, quarantine_root=quarantine, reject_ratio_max=0.5, conninfo=warehouse)

    assert (result.rows_read, result.rows_inserted, result.rows_rejected) == (6, 5, 1)
    with psycopg.connect(warehouse) as conn:
        assert conn.execute("SELECT source_row FROM operations.etl_row_reject").fetchone()[0] == 5
        stored = sorted(r[0] for r in conn.execute("SELECT source_row FROM raw.raw_mb51"))
    assert stored == [2, 3, 8, 9, 10]


def test_a_file_whose_move_fails_does_not_stop_the_other_files_of_its_task(warehouse: str, tmp_path: Path) -> None:
    """A load task's files go on past one that stops on its own error (here its archive folder is a
    plain file): they load and move, and the task then fails naming that one file."""
    days = [DAY + dt.timedelta(days=i) for i in range(3)]
    paths = []
    for number, day in enumerate(days):
        folder = tmp_path / "landing" / day.isoformat()
        folder.mkdir(parents=True)
        movements = mb51_movements(day, 20, seed=60 + number)
        paths.append(
            _deliver(folder, f"mb51_{number}.xlsx", mb51_workbook(movements, 60 + number, header_row_zero=False))
        )
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / days[1].isoformat()).write_text("not a folder")
    with pytest.raises(load_module.FilesNotLoaded, match=r"1 of 3 file\(s\).*mb51_1\.xlsx"):
        load_files(
            [(p, d, False) for p, d in zip(paths, days, strict=True)],
            quarantine_root=tmp_path / "q",
            archive_root=archive,
            conninfo=warehouse,
        )
    with psycopg.connect(warehouse) as conn:
        ledger = "SELECT file_name, status FROM operations.etl_file_ledger WHERE file_name LIKE 'mb51_%'"
        loaded = dict(conn.execute(ledger).fetchall())
    assert loaded == dict.fromkeys(["mb51_0.xlsx", "mb51_1.xlsx", "mb51_2.xlsx"], "loaded")  # committed before the move
    assert (archive / days[2].isoformat() / "mb51_2.xlsx").is_file()  # the file after it loaded and moved
    assert not paths[2].exists()
    assert paths[1].exists()  # left in the landing folder for the retry
