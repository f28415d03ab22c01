"""What real SAP exports do to the loader: a cell problem costs no row unless the row cannot be
counted without it, SAP list totals are counted but neither loaded nor rejected, a file PostgreSQL
refuses is quarantined without costing the day, odd sheet extents are read within bounds, and the raw
gate judges a healthy plant's day without a critical failure."""

import csv
import datetime as dt
import io
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import psycopg
import pytest

from sap_warehouse.core.business_date import DateSpan
from sap_warehouse.core.registry import PROJECT_ROOT
from sap_warehouse.gates import quality
from sap_warehouse.ingest.raw_load import load_file
from sap_warehouse.ingest.workbook import EXCEL_MAX_ROWS
from sap_warehouse_kit import exports
from sap_warehouse_kit.generator import MB51_HEADERS, mb51_movements, mb51_workbook, unit_totals

DAY = dt.date(2026, 3, 2)


def _load(warehouse: str, tmp_path: Path, name: str, data: bytes, day: dt.date = DAY):
    folder = tmp_path / "landing" / day.isoformat()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    return load_file(folder / name, day, quarantine_root=tmp_path / "quarantine", conninfo=warehouse)


def _non_blank_rows_below_header(data: bytes) -> int:
    """Counted independently of the loader: openpyxl, every row after the first with a value."""
    sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))[1:]
    return sum(1 for row in rows if any(v not in (None, "") for v in row))


def _ledger(warehouse: str, file_name: str) -> dict:
    with psycopg.connect(warehouse) as conn:
        cur = conn.execute("SELECT * FROM operations.etl_file_ledger WHERE file_name = %s", (file_name,))
        return dict(zip([c.name for c in cur.description], cur.fetchone(), strict=True))


@pytest.mark.parametrize("code", ["zrsd002", "zrsd004", "zrmm024", "zrpp062", "cooispi"])
def test_list_totals_are_counted_not_loaded_and_the_ledger_adds_up(warehouse: str, tmp_path: Path, code: str) -> None:
    rows = exports.day_rows(DAY, 60, seed=31)[code]
    # SAP's totals at the end, and the subtotals some reports (ZRPP062) carry inside the list
    totals = exports.list_totals(code, rows) + [r for r in exports.with_subtotals(code, rows) if r.get("__subtotal__")]
    assert totals, "the generator must write list totals for this report"
    data = exports.render(code, rows, 31)

    result = _load(warehouse, tmp_path, f"{code}.xlsx", data)

    assert (result.status, result.rows_read, result.rows_summary, result.rows_rejected) == (
        "loaded",
        len(rows),
        len(totals),
        0,
    )
    ledger = _ledger(warehouse, f"{code}.xlsx")
    assert _non_blank_rows_below_header(data) == ledger["rows_read"] + ledger["rows_summary"]
    assert ledger["rows_read"] == sum(ledger[f"rows_{k}"] for k in ("inserted", "updated", "unchanged", "rejected"))


def test_mb51_totals_per_unit_are_summary_rows(warehouse: str, tmp_path: Path) -> None:
    movements = mb51_movements(DAY, 300, seed=32)
    data = mb51_workbook(movements, 32, header_row_zero=True)
    result = _load(warehouse, tmp_path, "mb51.xlsx", data)
    assert (result.rows_read, result.rows_summary, result.rows_rejected) == (
        len(movements),
        len(unit_totals(movements)),
        0,
    )


def test_a_row_without_its_identity_that_carries_a_code_is_a_reject_not_a_total(warehouse: str, tmp_path: Path) -> None:
    rows = exports.day_rows(DAY, 40, seed=33)["zrsd004"]
    orphan = dict(rows[0], delivery=None, line_item="000010")  # a material, a customer: a real line
    result = _load(warehouse, tmp_path, "orphan.xlsx", exports.render("zrsd004", [*rows, orphan], 33, totals=False))
    assert (result.rows_read, result.rows_summary, result.rows_rejected) == (len(rows) + 1, 0, 1)


def test_failed_values_outside_keys_cost_no_row(warehouse: str, tmp_path: Path) -> None:
    rows = exports.day_rows(DAY, 40, seed=34)["zrsd002"]
    for row in rows[:12]:  # 30 % of the file: would have quarantined it as rejects
        row["__cells__"] = {"tax": "n/a", "so_date": "31.02.2026"}
    rows[12]["__cells__"] = {"net_value": "abc"}  # fact-critical: revenue cannot be counted
    result = _load(warehouse, tmp_path, "billing.xlsx", exports.render("zrsd002", rows, 34))

    assert (result.status, result.rows_read, result.rows_inserted, result.rows_rejected) == (
        "loaded",
        len(rows),
        len(rows) - 1,
        1,
    )
    assert (result.cell_issues, result.cell_issue_columns) == (24, {"SO Date.": 12, "Tax": 12})
    with psycopg.connect(warehouse) as conn:
        tax, so_date, raw_tax = conn.execute(
            "SELECT tax, so_date, raw_data ->> 'Tax' FROM raw.raw_zrsd002 WHERE billing_document = %s "
            "AND billing_item = %s",
            (rows[0]["billing_document"], rows[0]["billing_item"]),
        ).fetchone()
        issues = conn.execute(
            "SELECT source_row, column_name, value FROM operations.etl_cell_issue ORDER BY 1, 2"
        ).fetchall()
        reject = conn.execute("SELECT source_row, column_name, value FROM operations.etl_row_reject").fetchall()
        ledger = conn.execute("SELECT cell_issues, cell_issue_columns FROM operations.etl_file_ledger").fetchone()
    assert (tax, so_date, raw_tax) == (None, None, "n/a")  # NULL typed, the text kept in raw_data
    assert issues[:2] == [(2, "SO Date.", "31.02.2026"), (2, "Tax", "n/a")]
    assert len(issues) == 24
    assert reject == [(14, "Net Value", "abc")]
    assert ledger == (24, {"SO Date.": 12, "Tax": 12})
    # 12 of 40 values of a column failed: the raw gate warns of column drift; nothing is critical.
    results = quality.validate_gate("raw", DAY, conninfo=warehouse)
    drift = next(r for r in results if r.suite == "etl_file_ledger")
    assert {(f["check"], f["severity"]) for f in drift.failures} == {
        ("column_drift", "warning"),
        ("rejected_rows", "warning"),
    }
    assert {row["column_name"] for f in drift.failures if f["check"] == "column_drift" for row in f["sample"]} == {
        "SO Date.",
        "Tax",
    }


def test_a_value_beyond_a_column_range_is_a_cell_issue(warehouse: str, tmp_path: Path) -> None:
    rows = exports.day_rows(DAY, 20, seed=35)["zrsd002"]
    rows[3]["__cells__"] = {"tax": 1e30}  # numeric(18,2) holds 16 digits before the point
    result = _load(warehouse, tmp_path, "huge.xlsx", exports.render("zrsd002", rows, 35))
    assert (result.status, result.rows_inserted, result.cell_issue_columns) == ("loaded", len(rows), {"Tax": 1})


def test_real_shapes_load_as_values(warehouse: str, tmp_path: Path) -> None:
    """Discount conditions as text, SG Actual as comma-decimal text or ?, a blank AR channel."""
    day = exports.day_rows(DAY, 120, seed=36)
    conditions = [r["discount"] for r in day["zrsd002"] if r["discount"]]
    assert conditions
    assert all(c.startswith("|") for c in conditions)
    unknown = [r for r in day["zrpp062"] if r["__cells__"]["sg_actual"] == "?"]
    assert unknown, "the generator must plant ? in SG Actual"
    for code in ("zrsd002", "zrpp062"):
        result = _load(warehouse, tmp_path, f"{code}.xlsx", exports.render(code, day[code], 36))
        assert (result.status, result.rows_rejected, result.cell_issues) == ("loaded", 0, 0)
    with psycopg.connect(warehouse) as conn:
        loaded = {r[0] for r in conn.execute("SELECT discount FROM raw.raw_zrsd002 WHERE discount IS NOT NULL")}
        sg = dict(conn.execute("SELECT process_order, sg_actual FROM raw.raw_zrpp062").fetchall())
    assert loaded == set(conditions)
    for row in day["zrpp062"]:
        assert sg[row["process_order"]] == row["sg_actual"]


def test_ar_lines_without_a_channel_load_once_and_redeliver_unchanged(warehouse: str, tmp_path: Path) -> None:
    rows = exports.zrfi005_rows(DAY, seed=37)
    for row in rows:
        row["distribution_channel"] = row["distribution_channel"] or "10"
    rows[0]["distribution_channel"] = None
    first = _load(warehouse, tmp_path, "ar.xlsx", exports.render("zrfi005", rows, 37))
    again = _load(warehouse, tmp_path, "ar-again.xlsx", exports.render("zrfi005", rows, 99, header_row_zero=True))
    assert (first.rows_inserted, first.rows_rejected) == (len(rows), 0)
    assert (again.rows_inserted, again.rows_updated, again.rows_unchanged) == (0, 0, len(rows))
    with psycopg.connect(warehouse) as conn:
        blank = conn.execute("SELECT count(*) FROM raw.raw_zrfi005 WHERE distribution_channel IS NULL").fetchone()[0]
    assert blank == 1


def _movement_row(day: dt.date, document: str) -> list:
    return [
        day.strftime("%d.%m.%Y"),
        "101",
        "1201",
        "0101",
        "000300001",
        "d",
        "B1",
        5,
        "KG",
        "",
        "",
        document,
        "",
        "",
        "",
        "",
    ]


def _mb51_csv(rows: int, bad_cell: str) -> bytes:
    movements = mb51_movements(DAY, rows, seed=38)
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";")
    writer.writerow(MB51_HEADERS)
    for i, m in enumerate(movements):
        text = bad_cell if i == len(movements) - 1 else m.text
        writer.writerow(
            [
                m.posting_date.strftime("%d.%m.%Y"),
                m.movement_type,
                m.plant,
                m.storage_location,
                m.material,
                "desc",
                m.batch,
                str(m.quantity).replace(".", ","),
                m.unit,
                "",
                "",
                m.material_document,
                text,
                "",
                "",
                "",
            ]
        )
    return buf.getvalue().encode()


def test_files_postgresql_refuses_are_quarantined_and_the_day_goes_on(warehouse: str, tmp_path: Path) -> None:
    nul = _mb51_csv(200, "bad\x00cell")  # the NUL lies past the binary-content guard's first 4 KB
    wide_book = openpyxl.Workbook()
    wide_book.active.append([*MB51_HEADERS, *(f"Extra {i}" for i in range(1700))])
    wide_book.active.append(
        ["02.03.2026", "101", "1201", "0101", "000300001", "d", "B1", 1, "KG", "", "", "4900000001"]
    )
    wide = io.BytesIO()
    wide_book.save(wide)
    good = mb51_workbook(mb51_movements(DAY, 30, seed=39), 39, header_row_zero=False)

    results = {
        name: _load(warehouse, tmp_path, name, data)
        for name, data in (("nul.csv", nul), ("wide.xlsx", wide.getvalue()), ("good.xlsx", good))
    }

    assert results["nul.csv"].status == "quarantined"
    assert "PostgreSQL refused the file" in results["nul.csv"].reason
    assert "0x00" in results["nul.csv"].reason
    assert results["wide.xlsx"].status == "quarantined"
    assert "1600 columns" in results["wide.xlsx"].reason
    assert results["good.xlsx"].status == "loaded"
    assert (tmp_path / "quarantine" / DAY.isoformat() / "wide.xlsx").exists()
    with psycopg.connect(warehouse) as conn:
        sources = {r[0] for r in conn.execute("SELECT DISTINCT source_file FROM raw.raw_mb51")}
    assert sources == {"good.xlsx"}


FAR_CELL_READER = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (3 * 1024 ** 3, 3 * 1024 ** 3))
from sap_warehouse.ingest.workbook import read_sheet
sheet = read_sheet(open(sys.argv[1], "rb").read(), "far.xlsx")
filled = sum(1 for row in sheet.rows if any(v not in (None, "") for v in row))
print(sheet.reader, len(sheet.headers), filled, sheet.truncated, sheet.ignored_cells)
"""


def _far_cell_workbook(row: int, column: int, lines: int = 1) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(MB51_HEADERS)
    for line in range(lines):
        sheet.append(_movement_row(DAY, f"{4900000001 + line}"))
    sheet.cell(row=row, column=column, value="x")
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("row", "column", "rows", "truncated", "ignored"),
    [(EXCEL_MAX_ROWS, 16384, 1, False, 1), (EXCEL_MAX_ROWS, 1, 2, True, 0), (3, 16384, 1, False, 1)],
    ids=["XFD1048576", "A1048576", "XFD3"],
)
def test_a_far_cell_does_not_allocate_the_rectangle(tmp_path: Path, row, column, rows, truncated, ignored) -> None:
    """Read in a process limited to 3 GB of address space: calamine's dense rectangle up to
    XFD1048576 would need hundreds of gigabytes. A value far right of the header belongs to no
    column: counted as ignored, not loaded; a value on Excel's last row marks the export as cut off."""
    path = tmp_path / "far.xlsx"
    path.write_bytes(_far_cell_workbook(row, column))
    out = subprocess.run(
        [sys.executable, "-c", FAR_CELL_READER, str(path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
        cwd=PROJECT_ROOT,
    ).stdout.split()
    assert out[-4:] == [str(len(MB51_HEADERS)), str(rows), str(truncated), str(ignored)]


def test_a_sheet_ending_at_excels_last_row_loads_and_is_flagged(warehouse: str, tmp_path: Path) -> None:
    result = _load(warehouse, tmp_path, "cut.xlsx", _far_cell_workbook(EXCEL_MAX_ROWS, 1, lines=40))
    # The far row holds only "x" in Posting Date: a reject (date and the rest missing); the others load.
    assert (result.status, result.rows_inserted, result.rows_rejected) == ("loaded", 40, 1)
    assert "Excel's last row" in result.reason
    results = quality.validate_gate("raw", DAY, conninfo=warehouse)
    ledger = next(r for r in results if r.suite == "etl_file_ledger")
    assert {f["check"] for f in ledger.failures} == {"truncated_export", "rejected_rows"}


@pytest.mark.parametrize(("ahead", "critical"), [(1, False), (3, True)])
def test_postings_dated_after_the_business_date(warehouse: str, tmp_path: Path, ahead: int, critical: bool) -> None:
    """An export taken on the morning of D+1 carries D+1 postings: a warning. Beyond the allowed
    window (one day by default) the date's numbers would be wrong: critical."""
    book = openpyxl.Workbook()
    book.active.append(MB51_HEADERS)
    book.active.append(_movement_row(DAY, "4900000001"))
    book.active.append(_movement_row(DAY + dt.timedelta(days=ahead), "4900000002"))
    buf = io.BytesIO()
    book.save(buf)
    _load(warehouse, tmp_path, "mb51.xlsx", buf.getvalue())
    if critical:
        with pytest.raises(quality.QualityGateError, match="posting_date beyond the allowed days"):
            quality.validate_gate("raw", DAY, conninfo=warehouse)
        return
    results = quality.validate_gate("raw", DAY, conninfo=warehouse)
    mb51 = next(r for r in results if r.suite == "raw_mb51")
    assert [(f["severity"], f["column"], f["unexpected_count"]) for f in mb51.failures] == [
        ("warning", "posting_date", 1)
    ]


def test_customer_defined_movement_types_pass_the_gate_and_land_in_other_qty(warehouse: str, tmp_path: Path) -> None:
    from sap_warehouse.build import layers

    book = openpyxl.Workbook()
    book.active.append(MB51_HEADERS)
    row = _movement_row(DAY, "4900000003")
    row[1] = "Z71"
    book.active.append(row)
    buf = io.BytesIO()
    book.save(buf)
    _load(warehouse, tmp_path, "z71.xlsx", buf.getvalue())
    results = quality.validate_gate("raw", DAY, conninfo=warehouse)
    mb51 = next(r for r in results if r.suite == "raw_mb51")
    assert [(f["severity"], f["sample"]) for f in mb51.failures] == [("warning", ["Z71"])]
    layers.build_dimensions(DateSpan.of(DAY), conninfo=warehouse)
    layers.build_fact("fact_inventory", DateSpan.of(DAY), conninfo=warehouse)
    with psycopg.connect(warehouse) as conn:
        other, net = conn.execute("SELECT other_qty, net_qty FROM facts.fact_inventory").fetchone()
    assert (other, net) == (Decimal(5), Decimal(5))


def test_a_stray_far_value_is_counted_in_the_ledger(warehouse: str, tmp_path: Path) -> None:
    result = _load(warehouse, tmp_path, "stray.xlsx", _far_cell_workbook(3, 16384, lines=5))
    assert (result.status, result.rows_inserted) == ("loaded", 5)
    assert result.reason.startswith("1 value(s) lie far right of the last header column")
