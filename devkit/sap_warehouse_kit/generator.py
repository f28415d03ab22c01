"""Realistic MB51 exports, and the workbook-writing helpers every generated export shares.

Writes .xlsx workbooks shaped like real SAP GUI exports (see docs/sap_exports.md): the real header row,
Excel serial dates in date-styled cells mixed with dd.mm.yyyy text, signed quantities written as
numbers, comma-decimal text and SAP trailing-minus text, codes with leading zeros, Vietnamese text
(some of it in decomposed Unicode), documents holding lines identical in every column, a few
customer-defined movement types (Z71/Z72), SAP's list totals per unit at the end, and on chosen
files the header row written as ``<row r="0" spans="">``. Deterministic for a seed.
Alongside each workbook it returns the truth: the movements as typed values, so tests can compute
expected results without going through the pipeline. The other reports, and the command line that
writes a landing zone of every report, are in exports.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import random
import re
import unicodedata
import zipfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from sap_warehouse.core.registry import reports

# SAP's default header of every column an MB51 layout always has ("Order" is added when asked for).
MB51_HEADERS = [c.headers[0] for c in reports()["mb51"].file_columns if not c.optional_header]
MB51_ORDER_HEADER = next(c.headers[0] for c in reports()["mb51"].columns if c.name == "order_number")

MATERIALS = [
    # code, description, unit, level
    ("1000012345", "Sơn nước nội thất trắng 18L", "PC", "FG"),
    ("1000012346", "Sơn nước ngoại thất xanh 5L", "PC", "FG"),
    ("1000012347", "Sơn dầu Alkyd đỏ 3L", "PC", "FG"),
    ("1000012348", "Sơn chống thấm 20KG", "PC", "FG"),
    ("2000004501", "Bán thành phẩm sơn trắng (liquid)", "KG", "SFG"),
    ("2000004502", "Bán thành phẩm sơn xanh (liquid)", "KG", "SFG"),
    ("2000004503", "Bán thành phẩm Alkyd đỏ (liquid)", "KG", "SFG"),
    ("000300001", "Titanium dioxide R-902", "KG", "RAW"),
    ("000300002", "Nhựa Acrylic emulsion", "KG", "RAW"),
    ("000300003", "Bột đá CaCO3", "KG", "RAW"),
    ("000300004", "Dung môi xylene", "L", "RAW"),
    ("000300005", "Chất phân tán", "KG", "RAW"),
    ("4000000101", "Thùng nhựa 18L", "PC", "PACK"),
    ("4000000102", "Lon thiếc 3L", "PC", "PACK"),
]
# The site's own material types (ZRSD006 "Mat. Type", MB52 "Material Type") of each level.
SITE_MATERIAL_TYPE = {"FG": "ZFGD", "SFG": "ZSFG", "RAW": "ZRAW", "PACK": "ZPKG"}
FACTORY, DC = "1201", "1401"
SLOCS = {FACTORY: ["0101", "0102", "0201"], DC: ["1001", "1002"]}
TEXTS = ["Nhập kho thành phẩm", "Xuất cho lệnh sản xuất", "Giao hàng cho khách", "Chuyển kho nội bộ", ""]


@dataclass(frozen=True)
class Movement:
    """One MB51 line as the pipeline should understand it."""

    posting_date: dt.date
    movement_type: str
    plant: str
    storage_location: str
    material: str
    unit: str
    quantity: Decimal  # signed: stock in > 0, stock out < 0
    material_document: str
    batch: str
    text: str
    purchase_order: str
    order: str = ""  # production order of a 261 issue or 101 receipt (MB51 writes it without leading zeros)
    reference: str = ""  # the delivery a 601 goods issue shipped


def excel_serial(day: dt.date) -> int:
    return (day - dt.date(1899, 12, 30)).days


def sap_number_text(value: Decimal) -> str:
    """A number as SAP writes it into text cells: dot thousands, comma decimals, trailing minus."""
    text = f"{abs(value):,f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return text + ("-" if value < 0 else "")


def _quantity_cell(qty: Decimal, rnd: random.Random):
    """The quantity as a real export writes it: mostly a number, sometimes SAP-style text."""
    roll = rnd.random()
    if roll < 0.08:
        return sap_number_text(qty)
    if roll < 0.14:
        return str(qty).replace(".", ",")
    return float(qty)


def mb51_movements(business_date: dt.date, rows: int, seed: int) -> list[Movement]:
    """About ``rows`` movements posted mostly on the business date, some the day before (late
    postings), grouped in documents; transfers come as out/in line pairs."""
    rnd = random.Random(f"mb51:{business_date.isoformat()}:{seed}")
    doc_base = 4900000000 + (business_date.toordinal() % 10000) * 10000
    out: list[Movement] = []
    doc_no = 0
    while len(out) < rows:
        doc_no += 1
        doc = str(doc_base + doc_no)
        posting = business_date if rnd.random() > 0.03 else business_date - dt.timedelta(days=1)
        code, _, unit, level = rnd.choice(MATERIALS)
        batch = f"{posting:%y}{rnd.choice('ABCDEFGH')}{rnd.randint(1, 99999):05d}"
        qty = Decimal(rnd.randint(1, 500_000)) / 1000 if unit != "PC" else Decimal(rnd.randint(1, 400))
        plant = FACTORY if level != "FG" or rnd.random() < 0.6 else DC
        sloc = rnd.choice(SLOCS[plant])
        kind = rnd.random()
        lines: list[tuple[str, str, str, Decimal]]
        if kind < 0.30:
            lines = [("101", plant, sloc, qty)]
        elif kind < 0.55:
            lines = [("261", FACTORY, rnd.choice(SLOCS[FACTORY]), -qty)]
        elif kind < 0.72:
            lines = [("601", plant, sloc, -qty)]
        elif kind < 0.82:
            src, dst = rnd.sample(SLOCS[FACTORY], 2)
            lines = [("311", FACTORY, src, -qty), ("311", FACTORY, dst, qty)]
        elif kind < 0.88:
            lines = [("351", FACTORY, rnd.choice(SLOCS[FACTORY]), -qty)]
        elif kind < 0.92:
            lines = [("413", plant, sloc, -qty), ("413", plant, sloc, qty)]
        elif kind < 0.99:
            mvt, sign = rnd.choice([("102", -1), ("262", 1), ("602", 1)])
            lines = [(mvt, FACTORY, rnd.choice(SLOCS[FACTORY]), sign * qty)]
        else:
            # Customer-defined movement types (Z71 in, Z72 out) that the site configuration does not
            # map: real exports carry them beside the standard three digits.
            mvt, sign = rnd.choice([("Z71", 1), ("Z72", -1)])
            lines = [(mvt, FACTORY, rnd.choice(SLOCS[FACTORY]), sign * qty)]
        text = rnd.choice(TEXTS)
        for mvt, line_plant, line_sloc, line_qty in lines:
            po = f"45000{rnd.randint(10000, 99999)}" if mvt == "101" else ""
            if mvt == "101" and doc_no % 29 == 0:
                line_sloc = ""  # a receipt posted at plant level: real exports leave the location blank
            out.append(Movement(posting, mvt, line_plant, line_sloc, code, unit, line_qty, doc, batch, text, po))
        if rnd.random() < 0.01:
            # Real documents hold lines identical in every column: separate movements, all kept.
            out.append(out[-1])
    return out


def mb51_workbook(
    movements: list[Movement], seed: int, *, header_row_zero: bool, with_order: bool = False, totals: bool = True
) -> bytes:
    """The .xlsx bytes of an MB51 export of ``movements``; with ``totals``, SAP's list totals at the
    end (one row per unit: the quantity and the unit, nothing else)."""
    descriptions = {code: desc for code, desc, _, _ in MATERIALS}
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sheet1")
    sheet.append(MB51_HEADERS + ([MB51_ORDER_HEADER] if with_order else []))
    for m in movements:
        # How a line's cells are written varies with the seed; lines identical in content are
        # written identically, as in real exports.
        rnd = random.Random(f"mb51-cells:{seed}:{m!r}")
        if rnd.random() < 0.15:
            date_cell = m.posting_date.strftime("%d.%m.%Y")
        else:
            date_cell = WriteOnlyCell(sheet, value=excel_serial(m.posting_date))
            date_cell.number_format = "dd.mm.yyyy"
        desc = descriptions.get(m.material, "Vật tư chưa có trong danh mục")
        if rnd.random() < 0.2:
            desc = unicodedata.normalize("NFD", desc)
        row = [
            date_cell,
            m.movement_type,
            m.plant,
            m.storage_location,
            m.material,
            desc,
            m.batch,
            _quantity_cell(m.quantity, rnd),
            m.unit,
            "CC1201" if m.movement_type == "261" else "",
            "0051100000" if m.quantity < 0 else "0013100000",
            m.material_document,
            m.text,
            m.reference,
            "",
            m.purchase_order,
        ]
        if with_order:
            row.append(m.order)
        sheet.append(row)
    if totals:
        width = len(MB51_HEADERS) + (1 if with_order else 0)
        for unit, qty in sorted(unit_totals(movements).items()):
            row = [""] * width
            row[7], row[8] = float(qty), unit
            sheet.append(row)
    buf = io.BytesIO()
    book.save(buf)
    return finalise_workbook(buf.getvalue(), header_row_zero=header_row_zero)


def unit_totals(movements: list[Movement]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = {}
    for m in movements:
        totals[m.unit] = totals.get(m.unit, Decimal(0)) + m.quantity
    return totals


_STAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(<)")


def finalise_workbook(data: bytes, *, header_row_zero: bool) -> bytes:
    """Fix the bytes a save leaves time-dependent (zip entry times, document properties) so the
    same seed gives the same file, and optionally write the header row as ``<row r="0" spans="">``,
    as about 40% of real exports do."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":
                body = _STAMP.sub(rb"\g<1>2026-01-01T00:00:00Z\g<2>", body)
            if header_row_zero and info.filename == "xl/worksheets/sheet1.xml":
                body = body.replace(b'<row r="1"', b'<row r="0" spans=""', 1)
            dst.writestr(zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0)), body, zipfile.ZIP_DEFLATED)
    return out.getvalue()


def export_name(report: str, business_date: dt.date, seed: int, part: int = 0) -> str:
    """A file name like real exports have: a hex digest, nothing that names the report."""
    digest = hashlib.sha1(f"{report}:{business_date}:{seed}:{part}".encode()).hexdigest()
    return f"{digest[:24]}.xlsx"


def write_mb51_days(landing: Path, start: dt.date, end: dt.date, rows: int, seed: int) -> dict[dt.date, list[Movement]]:
    """Write one MB51 export per business date into ``landing/<YYYY-MM-DD>/``; every other file has
    its header at r="0". Returns the movements written per business date."""
    written: dict[dt.date, list[Movement]] = {}
    day = start
    while day <= end:
        movements = mb51_movements(day, rows, seed)
        folder = landing / day.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        data = mb51_workbook(movements, seed, header_row_zero=day.toordinal() % 2 == 0)
        (folder / export_name("mb51", day, seed)).write_bytes(data)
        written[day] = movements
        day += dt.timedelta(days=1)
    return written
