"""What one file's load came to (FileResult), and the words on-call reads about it: the notes on a
loaded sheet, the reason of a file over the reject ratio, and the entry of a file whose content is
already loaded (a duplicate, or a stale copy of another date's export). A loaded snapshot's note names
the report's ``snapshot_scope`` columns, the scopes whose missing lines it superseded (write.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field

from sap_warehouse.core.registry import reports
from sap_warehouse.ingest.raw_load.key import Keyed
from sap_warehouse.ingest.raw_load.typed import Typed
from sap_warehouse.ingest.raw_load.write import Written
from sap_warehouse.ingest.workbook import Sheet

TRUNCATED = (
    "the sheet ends at Excel's last row (1,048,576): the export was probably cut off there; its rows loaded, "
    "export the rest of the report (a narrower selection) and deliver it too"
)


@dataclass(frozen=True)
class Known:
    """A loaded file with the same content: its report, business date and name; ``same_rows`` when
    the bytes differ and the rows are the same (a re-saved copy)."""

    report: str
    business_date: dt.date
    file_name: str
    same_rows: bool = False


class AlreadyLoaded(Exception):
    """Another load of the same content committed while this one staged it."""

    def __init__(self, known: Known) -> None:
        super().__init__(known.report)
        self.known = known


@dataclass
class FileResult:
    file_name: str
    business_date: str
    status: str
    report: str | None = None
    rows_read: int = 0
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_rejected: int = 0
    rows_summary: int = 0  # SAP list totals: neither loaded nor rejected
    cell_issues: int = 0  # values that failed typing in a column that does not cost the row
    cell_issue_columns: dict[str, int] = field(default_factory=dict)  # header -> cell issues
    reason: str | None = None
    seconds_read: float = 0.0  # parsing the file (outside the transaction); 0 when it was not parsed
    seconds: float = 0.0  # the whole load of the file, reading included

    def as_dict(self) -> dict:
        return asdict(self)


def sheet_notes(sheet: Sheet) -> str | None:
    """What on-call should know about a loaded sheet's shape: cut off at Excel's last row, or stray
    values far right of the header that no column holds."""
    notes = [TRUNCATED] if sheet.truncated else []
    if sheet.ignored_cells:
        notes.append(
            f"{sheet.ignored_cells} value(s) lie far right of the last header column and belong to no column; "
            "they were not loaded (look at the sheet's used range)"
        )
    return "; ".join(notes) or None


def file_result(
    sheet: Sheet,
    file_name: str,
    business_date: dt.date,
    typed: Typed,
    *,
    reject_ratio_max: float,
    keyed: Keyed | None = None,
    written: Written | None = None,
    worst: str = "",
) -> FileResult:
    """The FileResult of a read sheet: quarantined over the reject ratio (nothing written, every row
    counted as refused), else loaded, with the notes on-call should read."""
    result = FileResult(
        file_name=file_name,
        business_date=business_date.isoformat(),
        status="loaded",
        report=sheet.report.code,
        rows_read=typed.rows_read,
        rows_summary=typed.summary,
        cell_issues=sum(typed.issue_columns.values()),
        cell_issue_columns=typed.issue_columns,
    )
    if written is None:
        result.status, result.rows_rejected = "quarantined", typed.rows_read
        result.reason = (
            f"{file_name}: {typed.rejected} of {typed.rows_read} rows rejected ({typed.reject_ratio():.1%}, limit "
            f"{reject_ratio_max:.1%}); worst columns: {worst}. The failing rows are in operations.etl_row_reject "
            "(and cell issues in operations.etl_cell_issue) under this file; ask SAP for a corrected export, or fix "
            "the column's type in include/config/sap_reports.yaml, then deliver the file again"
        )
        return result
    notes = [sheet_notes(sheet)]
    if written.superseded:
        scopes = ", ".join(sheet.report.snapshot_scope or ()) or "the report"
        notes.append(
            f"{written.superseded} line(s) of the scopes this file covers ({scopes}) are missing from it: marked "
            "superseded (kept in raw, left out of the facts)"
        )
    elif written.superseded is None:
        notes.append("rows were rejected, so this snapshot superseded no line (a rejected row may be one of them)")
    if written.newer:
        notes.append(
            f"{written.newer} row(s) differ from what a file of a later business date wrote: the newer rows were "
            "kept (counted as unchanged); load that later date again if this file is the correction"
        )
    result.reason = "; ".join(n for n in notes if n) or None
    # Rows of a business key repeated in this file are rejects (the last one was kept), so rows read
    # still add up: read = inserted + updated + unchanged + rejected.
    result.rows_inserted, result.rows_updated = written.inserted, written.updated
    result.rows_rejected = typed.rows_read - (keyed.kept if keyed is not None else 0)
    result.rows_unchanged = typed.rows_read - result.rows_rejected - written.inserted - written.updated
    return result


def repeat(known: Known, file_name: str, business_date: dt.date) -> FileResult:
    """The ledger entry of a file whose content is already loaded. For the same business date, or a
    report whose exports repeat by nature (master data, ``static`` in the registry), it is a
    duplicate: the date has its data. A non-static report's file loaded for another date is a stale
    copy (a re-send of an old export, byte for byte: a fresh SAP export is never identical, its
    workbook carries the time it was made; or re-saved, the same rows in other bytes): it does not
    count as the date's delivery."""
    day = business_date.isoformat()
    if known.business_date == business_date or reports()[known.report].static:
        return FileResult(
            file_name=file_name,
            business_date=day,
            status="duplicate",
            report=known.report,
            reason="same content (sha256) already loaded; nothing to do",
        )
    return FileResult(
        file_name=file_name,
        business_date=day,
        status="stale_copy",
        report=known.report,
        reason=(
            f"{'the same rows as' if known.same_rows else 'a copy of'} {known.file_name}, loaded for "
            f"{known.business_date} (a re-sent or re-saved old export): not an export of {day}, so {day} "
            f"has no {known.report} data; deliver {day}'s own {known.report} export and re-run {day}"
        ),
    )
