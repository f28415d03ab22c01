"""Reading SAP report exports (xlsx) into a header and a frame of text cells.

Reads the bytes of one file; writes nothing. Guards run before parsing (magic bytes, size,
zip expansion ratio). calamine reads the sheet; exports that write their header as
``<row r="0" spans="">`` (about 40% of real ones) make calamine fail and openpyxl drop the header,
so those sheets are repaired in memory (the header row renumbered to 1) and read by calamine again.
The header row is found by matching the registry's aliases, not by position. Cells stay as the
text the export holds (numeric cells of number columns marked with an exponent, see _number_cell);
typing happens in PostgreSQL (see raw_load).
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from dataclasses import dataclass

import pandas as pd
from python_calamine import CalamineError, CalamineWorkbook

from sap_warehouse.registry import Report, reports

XLSX_MAGIC = b"PK\x03\x04"
MAX_FILE_BYTES = 200 * 1024 * 1024
MAX_EXPANDED_BYTES = 2 * 1024 * 1024 * 1024
MAX_EXPANSION_RATIO = 200
HEADER_SEARCH_ROWS = 30
_ROW_ZERO = re.compile(rb'<row r="0"( spans="[^"]*")?')


class BadFileError(Exception):
    """The file cannot be used at all; the message says why and what to do."""


@dataclass
class Sheet:
    report: Report
    headers: list[str]  # as in the file, duplicates made unique with " (2)", " (3)", ...
    column_of: dict[str, int]  # registry column name -> position in headers
    rows: pd.DataFrame  # one column per header, object dtype; index = Excel row number
    reader: str


def check_container(data: bytes, name: str) -> None:
    """Reject what is not a plausible xlsx before any parser sees it."""
    if len(data) > MAX_FILE_BYTES:
        raise BadFileError(f"{name}: {len(data)} bytes exceeds the {MAX_FILE_BYTES}-byte limit; split the export")
    if not data.startswith(XLSX_MAGIC):
        raise BadFileError(f"{name}: not an xlsx workbook (no zip signature); export the report again as .xlsx")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            expanded = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise BadFileError(f"{name}: damaged or truncated xlsx ({exc}); ask for the export again") from exc
    if expanded > MAX_EXPANDED_BYTES or expanded > MAX_EXPANSION_RATIO * max(len(data), 1):
        raise BadFileError(f"{name}: expands to {expanded} bytes from {len(data)} (zip bomb guard); inspect the file")


def _repair_row_zero(data: bytes) -> bytes:
    """Renumber a ``<row r="0">`` header row to row 1 in every worksheet of the workbook."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                body = _ROW_ZERO.sub(b'<row r="1"', body, count=1)
            dst.writestr(info, body)
    return out.getvalue()


def read_cells(data: bytes, name: str) -> tuple[list[list], str]:
    """All cells of the first sheet, and which reader produced them."""
    check_container(data, name)
    reader = "calamine"
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        return book.get_sheet_by_index(0).to_python(skip_empty_area=False), reader
    except CalamineError as exc:
        if "row component" not in str(exc):
            raise BadFileError(f"{name}: unreadable workbook ({exc}); ask for the export again") from exc
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(_repair_row_zero(data)))
        return book.get_sheet_by_index(0).to_python(skip_empty_area=False), "calamine(row0-repaired)"
    except CalamineError as exc:
        raise BadFileError(f"{name}: unreadable workbook ({exc}); ask for the export again") from exc


def _unique_headers(cells: list) -> list[str]:
    seen: dict[str, int] = {}
    headers = []
    for i, cell in enumerate(cells):
        text = str(cell).strip() if cell not in (None, "") else f"(column {i + 1})"
        seen[text] = seen.get(text, 0) + 1
        headers.append(text if seen[text] == 1 else f"{text} ({seen[text]})")
    return headers


def recognise(cells: list[list], name: str) -> tuple[Report, int, dict[str, int]]:
    """The report whose required headers all appear in one of the first rows (the one matching
    most columns if several do), its header row index and the column positions. Raises
    BadFileError naming what is missing."""
    closest: tuple[int, str, list[str]] | None = None
    for index, row in enumerate(cells[:HEADER_SEARCH_ROWS]):
        if not any(isinstance(c, str) and c.strip() for c in row):
            continue
        present = {h: i for i, h in enumerate(_unique_headers(row))}
        matches = []
        for report in reports().values():
            found: dict[str, int] = {}
            missing = []
            for col in report.file_columns:
                pos = next((present[h] for h in col.headers if h in present), None)
                if pos is not None:
                    found[col.name] = pos
                elif not col.optional_header:
                    missing.append(col.headers[0])
            if not missing:
                matches.append((len(found), report, found))
            elif closest is None or len(found) > closest[0]:
                closest = (len(found), report.code, missing)
        if matches:
            _, report, found = max(matches, key=lambda m: m[0])
            return report, index, found
    if closest and closest[0] >= 3:
        raise BadFileError(
            f"{name}: looks like {closest[1].upper()} but lacks required column(s) {', '.join(closest[2])}; "
            "re-export with the standard layout or add the site's header alias to include/config/sap_reports.yaml"
        )
    raise BadFileError(
        f"{name}: no known SAP report header in the first {HEADER_SEARCH_ROWS} rows; "
        "check the file is an export of a registered report (include/config/sap_reports.yaml)"
    )


def _number_cell(value):
    """A numeric cell staged with an exponent, so PostgreSQL tells it from SAP text: the float
    4.77 stages as 4.77e0, while the text 4.770 is SAP's 4,770."""
    if isinstance(value, float):
        text = repr(value)
        return text if "e" in text or not math.isfinite(value) else text + "e0"
    return value


def read_sheet(data: bytes, name: str) -> Sheet:
    """Read, recognise and cut out the data rows of one export."""
    cells, reader = read_cells(data, name)
    if not cells:
        raise BadFileError(f"{name}: the first sheet is empty; ask for the export again")
    report, header_index, column_of = recognise(cells, name)
    headers = _unique_headers(cells[header_index])
    width = len(headers)
    body = [row[:width] for row in cells[header_index + 1 :]]
    frame = pd.DataFrame(body, columns=range(width), dtype=object)
    frame.index = pd.RangeIndex(header_index + 2, header_index + 2 + len(frame))
    frame = frame.replace("", None).dropna(how="all")
    for col in report.file_columns:
        if col.type == "number" and col.name in column_of:
            frame[column_of[col.name]] = frame[column_of[col.name]].map(_number_cell)
    return Sheet(report=report, headers=headers, column_of=column_of, rows=frame, reader=reader)
