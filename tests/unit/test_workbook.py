"""Reading real-shaped exports: the r="0" header quirk, header search, and the guards."""

import datetime as dt
import io
import re
import zipfile

import openpyxl
import pandas as pd
import pytest
from python_calamine import CalamineError

from sap_warehouse.ingest.workbook import BadFileError, read_sheet
from sap_warehouse_kit import exports
from sap_warehouse_kit.generator import MB51_HEADERS, mb51_movements, mb51_workbook

DAY = dt.date(2026, 1, 2)


@pytest.fixture(scope="module")
def movements():
    return mb51_movements(DAY, 300, seed=7)


def test_row_zero_fixture_reproduces_the_real_quirk(movements) -> None:
    data = mb51_workbook(movements, 7, header_row_zero=True)
    sheet_xml = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    assert b'<row r="0" spans="">' in sheet_xml
    with pytest.raises(CalamineError, match="row component"):
        pd.read_excel(io.BytesIO(data), engine="calamine", header=None)
    first_row = next(openpyxl.load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))
    assert all(cell is None for cell in first_row), "openpyxl should drop the r=0 header (the real quirk)"


@pytest.mark.parametrize("header_row_zero", [False, True])
def test_header_found_and_no_data_row_lost(movements, header_row_zero: bool) -> None:
    sheet = read_sheet(mb51_workbook(movements, 7, header_row_zero=header_row_zero, totals=False), "export.xlsx")
    assert sheet.report.code == "mb51"
    assert sheet.headers[: len(MB51_HEADERS)] == MB51_HEADERS
    assert len(sheet.rows) == len(movements)
    assert sheet.first_row == 2  # Excel row number of the first data row
    documents = [row[sheet.column_of["material_document"]] for row in sheet.rows]
    assert documents == [m.material_document for m in movements]


def test_header_below_title_rows_is_found(movements) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["Material Document List"])
    ws.append([])
    ws.append(MB51_HEADERS)
    for m in movements[:5]:
        ws.append(
            [
                m.posting_date.strftime("%d.%m.%Y"),
                m.movement_type,
                m.plant,
                m.storage_location,
                m.material,
                "",
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
        )
    buf = io.BytesIO()
    book.save(buf)
    sheet = read_sheet(buf.getvalue(), "titled.xlsx")
    assert len(sheet.rows) == 5
    assert sheet.first_row == 4


def test_not_an_xlsx_is_refused_before_parsing() -> None:
    with pytest.raises(BadFileError, match=r"report\.xlsx: not an xlsx workbook"):
        read_sheet(b"Material;Plant\n1;2\n", "report.xlsx")


def test_truncated_workbook_is_refused(movements) -> None:
    data = mb51_workbook(movements, 7, header_row_zero=False)
    with pytest.raises(BadFileError, match="damaged or truncated"):
        read_sheet(data[: len(data) // 2], "cut.xlsx")


def test_unknown_layout_names_the_file() -> None:
    book = openpyxl.Workbook()
    book.active.append(["Foo", "Bar", "Baz"])
    book.active.append([1, 2, 3])
    buf = io.BytesIO()
    book.save(buf)
    with pytest.raises(BadFileError, match=r"other\.xlsx: no known SAP report header"):
        read_sheet(buf.getvalue(), "other.xlsx")


def test_missing_required_column_is_named(movements) -> None:
    book = openpyxl.Workbook()
    book.active.append([h for h in MB51_HEADERS if h != "Movement Type"])
    buf = io.BytesIO()
    book.save(buf)
    with pytest.raises(BadFileError, match=r"looks like MB51 but lacks required column.*Movement Type"):
        read_sheet(buf.getvalue(), "mb51.xlsx")


def test_entity_bomb_is_refused_without_expansion() -> None:
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML, "openpyxl must parse through defusedxml"
    data = exports.bad_file("entity_bomb", DAY, 1)
    with pytest.raises(BadFileError, match="unreadable workbook"):
        read_sheet(data, "bomb.xlsx")


@pytest.mark.parametrize(
    "kind", ["wrong_type", "truncated", "zip_bomb", "empty_sheet", "missing_column", "unknown_layout"]
)
def test_each_bad_file_kind_is_refused_with_its_reason(kind: str) -> None:
    reasons = {
        "wrong_type": "not an xlsx workbook",
        "truncated": "damaged or truncated",
        "zip_bomb": "zip bomb guard",
        "empty_sheet": "empty",
        "missing_column": "lacks required column",
        "unknown_layout": "no known SAP report header",
    }
    with pytest.raises(BadFileError, match=reasons[kind]):
        read_sheet(exports.bad_file(kind, DAY, 1), f"{kind}.xlsx")


def test_xlsx_content_in_a_text_export_is_refused() -> None:
    with pytest.raises(BadFileError, match="binary content in a text export"):
        read_sheet(mb51_workbook(mb51_movements(DAY, 5, 1), 1, header_row_zero=False), "export.csv")


def test_a_workbook_beyond_the_memory_bounds_of_a_load_is_refused_unread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bounds (the expanded parts, the cells of the first sheet) hold before any reader runs:
    here lowered to what a small export exceeds, so the test needs no gigabyte of its own."""
    from sap_warehouse.ingest import workbook

    data = mb51_workbook(mb51_movements(DAY, 40, 1), 1, header_row_zero=False)
    assert read_sheet(data, "mb51.xlsx").rows, "the export itself is readable"
    monkeypatch.setattr(workbook, "MAX_SHEET_CELLS", 100)
    monkeypatch.setattr(workbook, "MAX_DENSE_CELLS", 100)
    with pytest.raises(BadFileError, match=r"cells, more than the 100 one load reads"):
        read_sheet(data, "mb51.xlsx")
    monkeypatch.setattr(workbook, "MAX_EXPANDED_BYTES", 10_000)
    with pytest.raises(BadFileError, match="zip bomb guard"):
        read_sheet(data, "mb51.xlsx")


@pytest.mark.parametrize("header_row_zero", [True, False])
def test_a_sheet_read_in_small_pieces_reads_as_read_whole(
    monkeypatch: pytest.MonkeyPatch, movements, header_row_zero: bool
) -> None:
    """Sheets are scanned (sizes, the r="0" header, stray far cells) and repaired piece by piece,
    never whole: with pieces of 7 bytes, so that tags and cells are cut everywhere, the sizes, the
    repaired header, the rows and the stray value count are those of the sheet read in one piece."""
    from sap_warehouse.ingest import workbook

    data = mb51_workbook(movements, 1, header_row_zero=header_row_zero)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        xml = zf.read("xl/worksheets/sheet1.xml")
    assert (b'<row r="0"' in xml) is header_row_zero
    last_row = max(int(n) for n in re.findall(rb'<row r="([0-9]+)"', xml))
    book = openpyxl.Workbook()
    book.active.append(MB51_HEADERS)
    for line in range(40):
        book.active.append(["02.01.2026", "101", "1201", "0001", f"10000{line:05d}"])
    book.active.cell(row=40, column=16384, value="far")  # below the rows the header is looked for in
    buf = io.BytesIO()
    book.save(buf)
    stray = buf.getvalue()

    def read() -> tuple:
        monkeypatch.setattr(workbook, "MAX_DENSE_CELLS", 1000)  # the stray cell's sheet is streamed
        streamed = workbook.read_cells(stray, "stray.xlsx")
        monkeypatch.setattr(workbook, "MAX_DENSE_CELLS", workbook.MAX_SHEET_CELLS)
        return workbook.sheet_size(data), workbook.read_cells(data, "mb51.xlsx"), streamed

    monkeypatch.setattr(workbook, "SCAN_CHUNK_BYTES", 10 * len(xml))
    whole = read()
    assert whole[0] == (last_row * len(MB51_HEADERS), xml.count(b"<c "))
    assert whole[1][0][0] == MB51_HEADERS
    assert whole[1][1] == ("calamine(row0-repaired)" if header_row_zero else "calamine")
    assert (whole[2][1], whole[2][2]) == ("openpyxl(sparse)", 1)
    monkeypatch.setattr(workbook, "SCAN_CHUNK_BYTES", 7)
    assert read() == whole
