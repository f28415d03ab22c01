"""Every registered report loads from a real-shaped export: each typed value arrives as generated,
rows read = inserted + updated + unchanged + rejected, re-delivery changes nothing, and a corrected
file updates exactly what changed."""

import datetime as dt
import io
import itertools
from pathlib import Path

import psycopg
import pytest
from openpyxl import Workbook
from psycopg import sql

from sap_warehouse.core.registry import reports
from sap_warehouse.ingest.raw_load import load_file
from sap_warehouse_kit import exports
from tests.helpers import table_checksum

DAY = dt.date(2026, 1, 5)
REPORTS = [code for code in reports() if code != "mb51"]  # MB51 has its own tests (test_raw_load.py)


def _load(warehouse: str, tmp_path: Path, name: str, data: bytes):
    folder = tmp_path / "landing" / DAY.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return load_file(folder / name, DAY, quarantine_root=tmp_path / "quarantine", conninfo=warehouse)


def _rows_in_table(warehouse: str, code: str) -> list[dict]:
    report = reports()[code]
    names = [c.name for c in report.columns]
    with psycopg.connect(warehouse) as conn:
        cur = conn.execute(
            sql.SQL("SELECT {} FROM {}").format(
                sql.SQL(", ").join(map(sql.Identifier, names)), sql.Identifier("raw", report.raw_table)
            )
        )
        return [dict(zip(names, row, strict=True)) for row in cur]


def _key(report_code: str):
    key = reports()[report_code].key
    return lambda row: tuple(str(row[k]) for k in key)


def _ledger_adds_up(warehouse: str) -> None:
    with psycopg.connect(warehouse) as conn:
        bad = conn.execute(
            "SELECT file_name FROM operations.etl_file_ledger "
            "WHERE rows_read <> rows_inserted + rows_updated + rows_unchanged + rows_rejected"
        ).fetchall()
    assert bad == []


@pytest.mark.parametrize("header_row_zero", [False, True], ids=["row1-header", "row0-header"])
@pytest.mark.parametrize("code", REPORTS)
def test_report_loads_every_value_as_generated(
    warehouse: str, tmp_path: Path, code: str, header_row_zero: bool
) -> None:
    rows = exports.day_rows(DAY, 40, seed=21)[code]
    expected = sorted(exports.truth(rows), key=_key(code))

    result = _load(warehouse, tmp_path, f"{code}.xlsx", exports.render(code, rows, 21, header_row_zero=header_row_zero))

    assert (result.report, result.status, result.rows_read) == (code, "loaded", len(rows))
    assert result.rows_inserted == len(rows)
    actual = sorted(_rows_in_table(warehouse, code), key=_key(code))
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        assert got == want
    _ledger_adds_up(warehouse)


def test_title_rows_above_the_header_are_skipped(warehouse: str, tmp_path: Path) -> None:
    rows = exports.day_rows(DAY, 20, seed=22)["zrsd004"]
    result = _load(warehouse, tmp_path, "titled.xlsx", exports.render("zrsd004", rows, 22, title=True))
    assert (result.status, result.rows_inserted) == ("loaded", len(rows))


@pytest.mark.parametrize("code", ["zrsd002", "zrmm024", "zrfi005"])
def test_redelivery_in_other_cell_shapes_changes_nothing(warehouse: str, tmp_path: Path, code: str) -> None:
    rows = exports.day_rows(DAY, 40, seed=23)[code]
    _load(warehouse, tmp_path, "first.xlsx", exports.render(code, rows, 23))
    table = f"raw.{reports()[code].raw_table}"
    with psycopg.connect(warehouse) as conn:
        before = table_checksum(conn, table)

    again = _load(warehouse, tmp_path, "again.xlsx", exports.render(code, rows, 99, header_row_zero=True))

    assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (0, 0, len(rows))
    with psycopg.connect(warehouse) as conn:
        assert table_checksum(conn, table) == before


def test_corrected_file_updates_changed_rows_and_inserts_new_ones(warehouse: str, tmp_path: Path) -> None:
    rows = exports.day_rows(DAY, 40, seed=24)["zrsd002"]
    _load(warehouse, tmp_path, "billing.xlsx", exports.render("zrsd002", rows[:30], 24))
    corrected = [dict(r) for r in rows]
    for row in corrected[:5]:
        row["net_value"] = row["net_value"] + 1
    result = _load(warehouse, tmp_path, "billing-corrected.xlsx", exports.render("zrsd002", corrected, 24))

    assert (result.rows_updated, result.rows_inserted, result.rows_unchanged) == (5, 10, 25)
    stored = {(r["billing_document"], r["billing_item"]): r["net_value"] for r in _rows_in_table(warehouse, "zrsd002")}
    for row in corrected:
        assert stored[(row["billing_document"], row["billing_item"])] == row["net_value"]
    _ledger_adds_up(warehouse)


def test_duplicate_keys_in_one_file_keep_the_last_row_and_count_the_rest(warehouse: str, tmp_path: Path) -> None:
    rows = exports.day_rows(DAY, 10, seed=25)["zrsd004"]
    later = dict(rows[0], delivery_qty=rows[0]["delivery_qty"] + 7)
    result = _load(warehouse, tmp_path, "dup.xlsx", exports.render("zrsd004", [*rows, later], 25))

    assert (result.rows_read, result.rows_inserted, result.rows_rejected) == (len(rows) + 1, len(rows), 1)
    stored = {(r["delivery"], r["line_item"]): r["delivery_qty"] for r in _rows_in_table(warehouse, "zrsd004")}
    assert stored[(later["delivery"], later["line_item"])] == later["delivery_qty"]
    with psycopg.connect(warehouse) as conn:
        reason = conn.execute("SELECT reason FROM operations.etl_row_reject").fetchone()[0]
    assert "duplicate business key" in reason


def test_snapshot_date_of_ar_aging_is_the_business_date(warehouse: str, tmp_path: Path) -> None:
    rows = exports.day_rows(DAY, 10, seed=26)["zrfi005"]
    _load(warehouse, tmp_path, "ar.xlsx", exports.render("zrfi005", rows, 26))
    assert {r["snapshot_date"] for r in _rows_in_table(warehouse, "zrfi005")} == {DAY}


def test_registry_columns_are_the_raw_tables_columns(migrated_template: str) -> None:
    from sap_warehouse_kit.scratch_db import database_url

    with psycopg.connect(database_url(migrated_template)) as conn:
        for report in reports().values():
            cols = {
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = %s",
                    (report.raw_table,),
                )
            }
            registry = {c.name for c in report.columns}
            assert registry <= cols, (report.code, registry - cols)
            extra = (
                cols - registry - {"business_date", "source_file", "source_row", "row_hash", "raw_data", "loaded_at"}
            )
            superseding = {"superseded_on", "superseded_by"}  # where a newer snapshot marks a line it lacks
            if report.snapshot_scope is not None:
                assert superseding <= cols, report.code
            assert extra <= {"occurrence", *superseding}, (report.code, extra)


@pytest.mark.parametrize(
    ("code", "suffix", "delimiter", "encoding"),
    [
        ("zrsd002", ".csv", ";", "utf-8-sig"),
        ("zrmm024", ".txt", "\t", "utf-16"),
        ("cooispi", ".txt", "|", "utf-8"),
    ],
    ids=["csv-semicolon-utf8", "txt-tab-utf16", "sap-list-pipes"],
)
def test_text_exports_load_through_the_same_registry(
    warehouse: str, tmp_path: Path, code: str, suffix: str, delimiter: str, encoding: str
) -> None:
    rows = exports.day_rows(DAY, 30, seed=27)[code]
    data = exports.render_text(code, rows, delimiter=delimiter, encoding=encoding)

    result = _load(warehouse, tmp_path, f"export{suffix}", data)

    assert (result.report, result.status, result.rows_inserted) == (code, "loaded", len(rows))
    actual = sorted(_rows_in_table(warehouse, code), key=_key(code))
    assert actual == sorted(exports.truth(rows), key=_key(code))


def test_zrpp062_subtotal_rows_inside_the_list_are_list_totals_not_rejects(warehouse: str, tmp_path: Path) -> None:
    """Real ZRPP062 lists carry subtotals between the lines: Process Order blank, Material Description
    "S U B T O T A L", the MRP controller (and on some the product group) beside the sums. Counted as
    summary rows, like the totals at the end: no reject, no rejected_rows signal."""
    rows = exports.day_rows(DAY, 40, seed=21)["zrpp062"]
    written = exports.with_subtotals("zrpp062", rows)
    subtotals = [r for r in written if r.get("__subtotal__")]
    assert subtotals, "the generator writes subtotals"
    assert any(r.get("product_group_1") for r in subtotals)
    assert any(not r.get("product_group_1") for r in subtotals)
    assert any(
        not after.get("__subtotal__") for before, after in itertools.pairwise(written) if before.get("__subtotal__")
    ), "inside the list, not only at its end"

    result = _load(warehouse, tmp_path, "zrpp062.xlsx", exports.render("zrpp062", rows, 21))

    assert (result.status, result.rows_read, result.rows_rejected) == ("loaded", len(rows), 0)
    assert result.rows_summary == len(subtotals) + len(exports.list_totals("zrpp062", rows))
    _ledger_adds_up(warehouse)


def test_an_mb52_variant_layout_without_batches_or_values_loads_as_mb52(warehouse: str, tmp_path: Path) -> None:
    """A plant's MB52 variant: older header names (Unrestr., SLoc, BUn), no batch, description, names or
    value columns. Recognised as MB52; each line keyed by plant, location and material, blank batch."""
    count = [r for r in exports.day_rows(DAY, 10, seed=28)["mb52"] if not r["batch"]]
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sheet1")
    sheet.append(["Plnt", "SLoc", "Material", "BUn", "Unrestr.", "Blocked"])
    for r in count:
        sheet.append(
            [
                r["plant"],
                r["storage_location"],
                r["material"],
                r["base_unit_of_measure"],
                float(r["unrestricted"]),
                float(r["blocked"]),
            ]
        )
    buf = io.BytesIO()
    book.save(buf)

    result = _load(warehouse, tmp_path, "stock.xlsx", buf.getvalue())

    assert (result.report, result.status, result.rows_inserted) == ("mb52", "loaded", len(count))
    with psycopg.connect(warehouse) as conn:
        loaded = conn.execute(
            "SELECT plant, storage_location, material, batch, unrestricted, blocked, in_quality_insp, snapshot_date "
            "FROM raw.raw_mb52 ORDER BY 1, 2, 3"
        ).fetchall()
    assert loaded == sorted(
        (r["plant"], r["storage_location"], r["material"], None, r["unrestricted"], r["blocked"], None, DAY)
        for r in count
    )
