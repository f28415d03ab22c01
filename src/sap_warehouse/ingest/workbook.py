"""Reading SAP report exports (xlsx, or SAP's CSV/TXT downloads) into a header and text cells.

Reads the bytes of one file; writes nothing. Guards run before parsing: the content must match
the extension (.xlsx a zip, .csv/.txt text), size and zip expansion limits. calamine reads
workbooks; exports that write their header as ``<row r="0" spans="">`` (about 40% of real ones)
make calamine fail and openpyxl drop the header, so those sheets are repaired in memory (the
header row renumbered to 1) and read by calamine again. A workbook calamine cannot read otherwise
goes to openpyxl, which parses XML through defusedxml (entity bombs refused, asserted at import).
CSV/TXT: UTF-8 or UTF-16 (BOM), separated by semicolons, tabs, commas or SAP's list pipes.
The header row is found by matching the registry's aliases, not by position. Cells stay as the
text the export holds (numeric cells of number columns marked with an exponent, see _number_cell);
typing happens in PostgreSQL (see raw_load).
"""

from __future__ import annotations

import contextlib
import csv
import io
import math
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass

import openpyxl
import openpyxl.xml
from openpyxl.utils import column_index_from_string
from python_calamine import CalamineError, CalamineWorkbook

from sap_warehouse.core.registry import Report, reports

XLSX_MAGIC = b"PK\x03\x04"
# Memory bounds of one load (two loads run side by side): the file, its parts as they expand (the text
# a reader may hold), and the cells of its first sheet, which the readers hold as Python values (about
# 130 bytes each with the reader's own copy). At these bounds a load peaks well under 1 GB
# (benchmarks/load_memory.py). A 200,000-line MB51 workbook fits (16 MB, 156 MiB expanded, 3.2 million
# cells); a real daily export is a small fraction of that.
MAX_FILE_BYTES = 100 * 1024 * 1024
MAX_EXPANDED_BYTES = 192 * 1024 * 1024
MAX_EXPANSION_RATIO = 200
MAX_SHEET_CELLS = 4_000_000
EXCEL_MAX_ROWS = 1_048_576
# calamine holds a sheet as one dense rectangle, as high as its last row and as wide as its widest
# one: a stray cell at XFD1048576 of a small workbook would ask for 17 billion cells. Sheets whose
# rectangle is this large and mostly empty are streamed instead (openpyxl, present rows only).
MAX_DENSE_CELLS = MAX_SHEET_CELLS
# Values right of the last header cell are kept under "(column N)" names up to this many columns
# past the header; further out they are stray cells (counted in the ledger, not loaded).
MAX_UNNAMED_COLUMNS = 64
# Sheets larger than this (uncompressed) are taken at their own <dimension> when it is of a size a
# dense reader handles; smaller ones are always scanned (a few milliseconds).
TRUSTED_DIMENSION_BYTES = 4 * 1024 * 1024
_CELL = re.compile(rb'<c r="([A-Z]+)[0-9]+"[^>]*?(?:/>|>(.*?)</c>)', re.DOTALL)
_CELL_COLUMN = re.compile(rb'<c r="([A-Z]{1,3})[0-9]')
_ROW_NUMBER = re.compile(rb'<row r="([0-9]+)"')
# Sheets too large to trust their <dimension> are read in pieces of this size where the XML itself
# is looked at (sizes, the header row's number, stray far cells), never whole.
SCAN_CHUNK_BYTES = 1024 * 1024
HEADER_SEARCH_ROWS = 30
TEXT_EXTENSIONS = (".csv", ".txt")
DELIMITERS = (";", "\t", "|", ",")

# openpyxl must parse through defusedxml: without it an entity bomb would expand in memory.
if not openpyxl.xml.DEFUSEDXML:
    raise ImportError("defusedxml is not installed: openpyxl would parse untrusted XML unguarded")
_ROW_ZERO = re.compile(rb'<row r="0"( spans="[^"]*")?')


class BadFileError(Exception):
    """The file cannot be used at all; the message says why and what to do."""


@dataclass
class Sheet:
    report: Report
    headers: list[str]  # as in the file, duplicates made unique with " (2)", " (3)", ...
    column_of: dict[str, int]  # registry column name -> position in headers
    rows: list[list]  # the cells below the header row, as wide as the header; blank rows included
    first_row: int  # sheet row number (1-based, as Excel shows it) of rows[0]
    reader: str
    truncated: bool = False  # the sheet ends at Excel's last row: the export was probably cut off
    ignored_cells: int = 0  # values far right of the header (no column name), not loaded


def check_container(data: bytes, name: str) -> None:
    """Reject what is not a plausible export before any parser sees it."""
    if len(data) > MAX_FILE_BYTES:
        raise BadFileError(f"{name}: {len(data)} bytes exceeds the {MAX_FILE_BYTES}-byte limit; split the export")
    if name.lower().endswith(TEXT_EXTENSIONS):
        if data.startswith(XLSX_MAGIC) or (b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff"))):
            raise BadFileError(f"{name}: binary content in a text export; export the report again as text")
        return
    if not data.startswith(XLSX_MAGIC):
        raise BadFileError(f"{name}: not an xlsx workbook (no zip signature); export the report again as .xlsx")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            expanded = sum(info.file_size for info in zf.infolist())
    except zipfile.BadZipFile as exc:
        raise BadFileError(f"{name}: damaged or truncated xlsx ({exc}); ask for the export again") from exc
    if expanded > MAX_EXPANDED_BYTES or expanded > MAX_EXPANSION_RATIO * max(len(data), 1):
        raise BadFileError(f"{name}: expands to {expanded} bytes from {len(data)} (zip bomb guard); inspect the file")


def _chunks(fh, cut: bytes):
    """A zip member's bytes in pieces of about SCAN_CHUNK_BYTES, each ending just before an occurrence
    of ``cut`` (a tag start), so no element that holds no ``cut`` of its own is split between two."""
    carry = b""
    while chunk := fh.read(SCAN_CHUNK_BYTES):
        buf = carry + chunk
        at = buf.rfind(cut)
        if at <= 0:
            carry = buf
            continue
        yield buf[:at]
        carry = buf[at:]
    if carry:
        yield carry


def _copy_row_zero_repaired(src: zipfile.ZipFile, dst: zipfile.ZipFile) -> None:
    """Copy every member, a worksheet's ``<row r="0">`` header row renumbered to row 1, piece by
    piece (the header is near the start; the rest is copied as it is)."""
    for info in src.infolist():
        sheet = info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")
        with src.open(info) as fh, dst.open(info.filename, "w", force_zip64=True) as out:
            if not sheet:
                shutil.copyfileobj(fh, out, SCAN_CHUNK_BYTES)
                continue
            repaired = 0
            for part in _chunks(fh, b"<"):
                if not repaired:
                    part, repaired = _ROW_ZERO.subn(b'<row r="1"', part, count=1)
                out.write(part)


@contextlib.contextmanager
def _row_zero_repaired(data: bytes):
    """The workbook with its header rows renumbered, as a temporary file (stored, not deflated:
    compressing it again cost more than reading the sheet; on disk, not in memory: it is as large
    as the expanded workbook)."""
    with tempfile.NamedTemporaryFile(suffix=".xlsx") as tmp:
        with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED) as dst:
            _copy_row_zero_repaired(src, dst)
        tmp.flush()
        yield tmp.name


def _repair_row_zero(data: bytes) -> bytes:
    """The workbook's bytes with ``<row r="0">`` header rows renumbered to row 1 (small workbooks)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        _copy_row_zero_repaired(src, dst)
    return out.getvalue()


def _read_text(data: bytes, name: str) -> tuple[list[list], str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise BadFileError(f"{name}: not UTF-8 or UTF-16 text ({exc}); export the report as Unicode text") from exc
    lines = [line for line in text.splitlines() if line.strip() and not set(line.strip()) <= {"-", "|"}]
    if not lines:
        raise BadFileError(f"{name}: the export is empty; ask for the export again")
    sample = lines[:HEADER_SEARCH_ROWS]
    delimiter = max(DELIMITERS, key=lambda d: sum(line.count(d) for line in sample))
    try:
        rows = list(csv.reader(lines, delimiter=delimiter))
    except csv.Error as exc:  # a cell longer than the csv module's field limit (131,072 characters), ...
        raise BadFileError(
            f"{name}: not a readable {delimiter!r}-separated export ({exc}); no SAP field is that long: check the "
            "file is the report's export and export it again"
        ) from exc
    if delimiter == "|":
        # SAP's list download frames every line in pipes: drop the empty first and last fields.
        rows = [row[1:-1] if len(row) > 1 and row[0].strip() == "" and row[-1].strip() == "" else row for row in rows]
    return [[cell.strip() for cell in row] for row in rows], f"text({encoding}, {delimiter!r})"


def _read_openpyxl(data: bytes, name: str) -> list[list]:
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    except Exception as exc:  # openpyxl raises many types for damaged files; all mean "unreadable"
        raise BadFileError(
            f"{name}: unreadable workbook ({type(exc).__name__}: {exc}); ask for the export again"
        ) from exc


def _column_number(letters: bytes) -> int:
    return column_index_from_string(letters.decode("ascii"))


def _first_sheet_name(zf: zipfile.ZipFile) -> str | None:
    names = sorted(n for n in zf.namelist() if n.startswith("xl/worksheets/") and n.endswith(".xml"))
    return "xl/worksheets/sheet1.xml" if "xl/worksheets/sheet1.xml" in names else (names[0] if names else None)


def _area(first: bytes, last: bytes) -> int:
    """Cells of a range such as A1:P20001 (column letters and row digits of its two corners)."""
    corners = [re.match(rb"([A-Z]+)([0-9]+)", corner) for corner in (first, last)]
    split = [corner.groups() for corner in corners if corner is not None]  # <dimension>'s pattern matched
    (c1, r1), (c2, r2) = split
    return (abs(_column_number(c2) - _column_number(c1)) + 1) * (abs(int(r2) - int(r1)) + 1)


@dataclass
class SheetScan:
    """What a pass over a sheet's XML finds, piece by piece (never the whole sheet in memory)."""

    last_row: int = 0
    last_column: int = 0
    cells: int = 0  # <c> elements
    row_zero: bool = False  # a header row written as <row r="0">
    beyond: int = 0  # values right of the column given to scan_sheet

    @property
    def area(self) -> int:
        """The rectangle a dense reader allocates (the cells, where the sheet gives no references)."""
        return self.last_row * self.last_column if self.last_row and self.last_column else self.cells


def scan_sheet(zf: zipfile.ZipFile, name: str, width: int | None = None) -> SheetScan:
    """The first sheet's last row, widest column, cells and header row shape; with ``width``, the
    values right of that column (they belong to no header)."""
    scan = SheetScan()
    with zf.open(name) as fh:
        for part in _chunks(fh, b"<c "):
            scan.cells += part.count(b"<c ")
            scan.last_row = max([scan.last_row, *map(int, _ROW_NUMBER.findall(part))])
            scan.last_column = max([scan.last_column, *map(_column_number, set(_CELL_COLUMN.findall(part)))])
            scan.row_zero = scan.row_zero or _ROW_ZERO.search(part) is not None
            if width is not None:
                scan.beyond += sum(
                    1
                    for column, body in _CELL.findall(part)
                    if _column_number(column) > width and (b"<v>" in body or b"<t" in body)
                )
    return scan


def sheet_size(data: bytes) -> tuple[int, int | None]:
    """The first sheet's rectangle (last row x widest column) and the cells it holds (None when a
    large sheet's own used range, <dimension> at its start, is taken at its word: a normal export
    costs a few kilobytes of reading here). Other sheets are scanned piece by piece."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        name = _first_sheet_name(zf)
        if name is None:
            return 0, 0
        with zf.open(name) as fh:
            head = fh.read(4096)
        used = re.search(rb'<dimension ref="([A-Z]+[0-9]+):([A-Z]+[0-9]+)"', head)
        if used and zf.getinfo(name).file_size > TRUSTED_DIMENSION_BYTES and _area(*used.groups()) <= MAX_DENSE_CELLS:
            return _area(*used.groups()), None
        scan = scan_sheet(zf, name)
    return scan.area, scan.cells


def _read_streaming(data: bytes, name: str) -> tuple[list[list], int]:
    """The first sheet row by row (openpyxl, read-only), as wide as the widest of the first rows
    (where the header is), and how many values lie further right (they belong to no column). Rows
    missing from the sheet come back as one shared empty row, so a lone far cell costs no memory."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet_name = _first_sheet_name(zf) or ""
        row_zero = bool(sheet_name) and scan_sheet(zf, sheet_name).row_zero
    try:
        with contextlib.ExitStack() as stack:
            source = stack.enter_context(_row_zero_repaired(data)) if row_zero else io.BytesIO(data)
            book = openpyxl.load_workbook(source, read_only=True, data_only=True)
            stack.callback(book.close)
            sheet = book.worksheets[0]
            width = 0
            for row in sheet.iter_rows(max_row=HEADER_SEARCH_ROWS, values_only=True):
                filled = [i + 1 for i, v in enumerate(row) if v not in (None, "")]
                width = max(width, filled[-1] if filled else 0)
            blank = [None] * width
            rows = []
            for row in sheet.iter_rows(max_col=max(width, 1), values_only=True):
                rows.append(list(row) if any(v is not None for v in row) else blank)
    except Exception as exc:  # openpyxl raises many types for damaged files; all mean "unreadable"
        raise BadFileError(
            f"{name}: unreadable workbook ({type(exc).__name__}: {exc}); ask for the export again"
        ) from exc
    while rows and rows[-1] is blank:
        rows.pop()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        ignored = scan_sheet(zf, sheet_name, width).beyond if sheet_name else 0
    return rows, ignored


def read_cells(data: bytes, name: str) -> tuple[list[list], str, int]:
    """All cells of the first sheet, which reader produced them, and how many values it left out
    (a sparse sheet's values right of the header region)."""
    check_container(data, name)
    if name.lower().endswith(TEXT_EXTENSIONS):
        return (*_read_text(data, name), 0)
    try:
        area, held = sheet_size(data)
    except zipfile.BadZipFile as exc:
        raise BadFileError(f"{name}: damaged xlsx ({exc}); ask for the export again") from exc
    if (area if held is None else held) > MAX_SHEET_CELLS:
        raise BadFileError(
            f"{name}: its first sheet holds {area if held is None else held:,} cells, more than the "
            f"{MAX_SHEET_CELLS:,} one load reads (the memory bound of a load); export the report in parts "
            "(a shorter date range or a narrower selection) and deliver them all"
        )
    if area > MAX_DENSE_CELLS:  # large and mostly empty (a stray far cell): only the present rows
        rows, ignored = _read_streaming(data, name)
        return rows, "openpyxl(sparse)", ignored
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        return book.get_sheet_by_index(0).to_python(skip_empty_area=False), "calamine", 0
    except CalamineError as exc:
        if "row component" not in str(exc):
            return _read_openpyxl(data, name), "openpyxl", 0
    try:
        with _row_zero_repaired(data) as repaired:
            book = CalamineWorkbook.from_path(repaired)
            return book.get_sheet_by_index(0).to_python(skip_empty_area=False), "calamine(row0-repaired)", 0
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
    """Read, recognise and cut out the data rows of one export. Blank rows stay (the loader drops
    them in SQL); numeric cells of number columns get their exponent mark."""
    cells, reader, ignored = read_cells(data, name)
    if not cells:
        raise BadFileError(f"{name}: the first sheet is empty; ask for the export again")
    report, header_index, column_of = recognise(cells, name)
    rows = cells[header_index + 1 :]
    named = _named_width(cells[header_index])
    # Values right of the header: kept as unnamed columns when they lie close to it, stray cells
    # (one at XFD3, say) when they lie far out: those are counted, not loaded.
    reach = 0
    if max(map(len, rows), default=0) > named:
        reach = max(
            (named + i + 1 for row in rows for i, v in enumerate(row[named:]) if v not in (None, "")), default=0
        )
    if reach - named > MAX_UNNAMED_COLUMNS:
        ignored += sum(1 for row in rows for v in row[named:] if v not in (None, ""))
        reach = 0
    width = max(named, reach)
    headers = _unique_headers((list(cells[header_index]) + [None] * width)[:width])
    truncated = reader.startswith(("calamine", "openpyxl")) and len(cells) >= EXCEL_MAX_ROWS
    if any(len(row) != width for row in rows):
        fitted: dict[int, list] = {}  # rows shared by identity (a streamed sheet's empty row) stay shared

        def fit(row: list) -> list:
            if id(row) not in fitted:
                fitted[id(row)] = (list(row) + [None] * width)[:width]
            return fitted[id(row)]

        rows = [fit(row) for row in rows]
    for position in (column_of[c.name] for c in report.file_columns if c.type == "number" and c.name in column_of):
        for row in rows:
            if type(row[position]) is float:
                row[position] = _number_cell(row[position])
    return Sheet(
        report=report,
        headers=headers,
        column_of=column_of,
        rows=rows,
        first_row=header_index + 2,
        reader=reader,
        truncated=truncated,
        ignored_cells=ignored,
    )


def _named_width(header: list) -> int:
    """Columns up to the last non-empty header cell."""
    filled = [i for i, v in enumerate(header) if v not in (None, "")]
    return filled[-1] + 1 if filled else 0
