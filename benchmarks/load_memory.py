"""Memory of one load at the bomb guard's bounds: how much a single file can make a load hold.

Each case is a workbook written for the purpose (a streamed zip, MB51's headers, no <dimension>
element, so the guard has to scan the sheet itself) and loaded end to end by
sap_warehouse.ingest.raw_load.load_file in a fresh process on a fresh scratch database; the process's
peak resident memory (VmHWM) is the figure. Two loads run side by side in a worker, so the bound
that matters is twice the worst case.

  dense, cell limit       short realistic values, as many cells as one load reads (MAX_SHEET_CELLS)
  dense, header at r=0    the same with its header row written as <row r="0"> (as many real exports
                          do), which the reader renumbers in a temporary copy before reading
  long text, both limits  text cells long enough that the sheet expands to just under
                          MAX_EXPANDED_BYTES while holding MAX_SHEET_CELLS cells
  sparse, cell limit      the dense sheet plus one stray cell at XFD1048576: the rectangle is too
                          large for the dense reader, so it is streamed
  over the cell limit     a line of short number cells more than MAX_SHEET_CELLS allows: refused
                          before it is read
  expanding to 2 GB       a small workbook whose sheet expands to 2 GB: refused by the zip guard

Prints a table and appends it to BENCHMARKS.md with the command and the machine. Not part of the
test command.

    scripts/dev exec python benchmarks/load_memory.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

from raw_load import machine, peak_mb, publish

DAY = dt.date(2026, 3, 2)
_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}
_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)


def _letters(number: int) -> str:
    text = ""
    while number:
        number, rest = divmod(number - 1, 26)
        text = chr(65 + rest) + text
    return text


def _row(number: int, values: list) -> bytes:
    cells = []
    for col, value in enumerate(values, start=1):
        ref = f"{_letters(col)}{number}"
        if isinstance(value, float):
            cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        elif value:
            cells.append(f'<c r="{ref}" t="inlineStr"><is><t>{escape(value)}</t></is></c>')
    return f'<row r="{number}">{"".join(cells)}</row>'.encode()


def _values(i: int, text: str | None) -> list:
    """One MB51 line in the export's column order (the generator's headers); text None: every cell
    a small number (the shortest cells XML has)."""
    if text is None:
        return [float(i % 7)] * 16
    return [
        DAY.strftime("%d.%m.%Y"),
        "101" if i % 3 else "261",
        "1201",
        "0001",
        f"10000{i % 5000:05d}",
        text,
        f"26008P{i % 999999:06d}",
        float(i % 997) + 0.5,
        "KG",
        "",
        "0013100000",
        f"49{i:08d}",
        text,
        "",
        "",
        "",
    ]


def write_case(
    path: Path, rows: int, text: str | None, *, stray: bool = False, repeat: int = 1, row_zero: bool = False
) -> int:
    """Write an MB51-shaped workbook of ``rows`` lines; returns the expanded size of its sheet."""
    from sap_warehouse_kit.generator import MB51_HEADERS

    expanded = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9 if repeat > 1 else 1) as zf:
        for name, body in _PARTS.items():
            zf.writestr(name, body)
        with zf.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as fh:
            header = _row(1, list(MB51_HEADERS))
            if row_zero:  # as 40 % of real exports write it: the reader repairs it on the way
                header = header.replace(b'<row r="1">', b'<row r="0">', 1)
            for chunk in [_SHEET_HEAD, header]:
                fh.write(chunk)
                expanded += len(chunk)
            # Repeated blocks are small enough for deflate's window: they compress about a hundredfold.
            size = 40 if repeat > 1 else 5000
            block: list[bytes] = []
            for i in range(rows):
                block.append(_row(i + 2, _values(i, text)))
                if len(block) == size or i == rows - 1:
                    body = b"".join(block) * repeat
                    fh.write(body)
                    expanded += len(body)
                    block = []
            tail = (b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>' if stray else b"") + (
                b"</sheetData></worksheet>"
            )
            fh.write(tail)
            expanded += len(tail)
    return expanded


def run_child(path: str, url: str) -> None:
    import sap_warehouse.ingest.raw_load  # noqa: F401  (imported before the clock starts, as in a warm worker)
    from sap_warehouse.ingest.raw_load import load_file

    start = time.perf_counter()
    result = load_file(Path(path), DAY, quarantine_root=Path(tempfile.mkdtemp()) / "q", conninfo=url, keep_source=True)
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_mb": peak_mb(), **result.as_dict()}))


def measure(path: Path, url: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path), url], capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise SystemExit(f"load of {path.name} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-record", action="store_true", help="print only; do not append to BENCHMARKS.md")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run_child(*args.child)
        return

    from sap_warehouse.ingest import workbook
    from sap_warehouse_kit.generator import MB51_HEADERS
    from sap_warehouse_kit.scratch_db import create_warehouse, drop_database

    width = len(MB51_HEADERS)
    dense_rows = workbook.MAX_SHEET_CELLS // width - 1
    # Long text: two text columns per line carry what the expanded bound leaves after the short cells.
    short = len(_row(2, _values(0, "")))
    filled = sum(1 for v in _values(0, "t") if v)  # cells a line writes (empty ones are left out)
    long_text = "x" * int((workbook.MAX_EXPANDED_BYTES * 0.9 / dense_rows - short - 120) // 2)
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-memory-"))
    cases = {
        "dense, cell limit": dict(rows=dense_rows, text="Vật tư 18L"),
        "dense, header at r=0": dict(rows=dense_rows, text="Vật tư 18L", row_zero=True),
        "long text, both limits": dict(rows=dense_rows, text=long_text),
        "sparse, cell limit": dict(rows=dense_rows - 1, text="Vật tư 18L", stray=True),
        "over the cell limit": dict(rows=workbook.MAX_SHEET_CELLS // width + 1, text=None),
        "a sheet expanding to 2 GB": dict(rows=int(2e9 / 15 / short), text="Vật tư 18L", repeat=15),
    }
    lines = [
        f"### Memory of one load at the bomb guard's bounds ({dt.date.today()})",
        "",
        f"Machine: {machine()}. PostgreSQL 15 (local cluster of scripts/dev). Command: "
        "`scripts/dev exec python benchmarks/load_memory.py`. Bounds: "
        f"{workbook.MAX_SHEET_CELLS:,} cells, {workbook.MAX_EXPANDED_BYTES // 2**20} MiB expanded, "
        f"ratio {workbook.MAX_EXPANSION_RATIO}.",
        "",
        "| case | file MB | sheet expands to MB | cells written | outcome | seconds | peak RSS MB |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    try:
        for name, spec in cases.items():
            path = workdir / (name.split(",")[0].replace(" ", "_").replace(">", "") + ".xlsx")
            expanded = write_case(path, **spec)
            url = create_warehouse("bench_load_memory")
            r = measure(path, url)
            drop_database("bench_load_memory")
            per_line = width if spec["text"] is None else filled
            cells = spec["rows"] * spec.get("repeat", 1) * per_line + width
            outcome = r["status"] if r["status"] != "quarantined" else f"refused: {r['reason'][:70]}..."
            lines.append(
                f"| {name} | {path.stat().st_size / 1e6:.1f} | {expanded / 1e6:,.0f} | {cells:,} | {outcome} | "
                f"{r['seconds']:.1f} | {r['peak_mb']:.0f} |"
            )
            print(lines[-1], flush=True)
            path.unlink()
    finally:
        drop_database("bench_load_memory")
    publish(lines, record=not args.no_record)


if __name__ == "__main__":
    main()
