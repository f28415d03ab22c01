"""Stage 7: the file ledger (operations.etl_file_ledger) and its evidence (etl_row_reject,
etl_cell_issue); how a file's content is recognised as already loaded (sha256, or the same rows in
other bytes: rows_digest); and the ledger rows of what did not load: entries skipped on purpose,
reports that never arrived, files waiting in earlier dates' folders."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from sap_warehouse.core.db import connect, lock_business_date
from sap_warehouse.core.registry import Report
from sap_warehouse.core.run_info import MANUAL, RunInfo
from sap_warehouse.ingest.landing import shown_name
from sap_warehouse.ingest.raw_load.result import FileResult, Known
from sap_warehouse.ingest.raw_load.typed import Typed

log = logging.getLogger(__name__)


def record_file(
    conn: psycopg.Connection,
    result: FileResult,
    *,
    path: str,
    sha256: str | None,
    size: int | None,
    reader: str | None,
    run: RunInfo,
    started: float | None = None,
    rows_digest: str | None = None,
) -> int:
    row = conn.execute(
        """INSERT INTO operations.etl_file_ledger
               (path, file_name, report, business_date, sha256, size_bytes, status, reader, rows_read,
                rows_inserted, rows_updated, rows_unchanged, rows_rejected, rows_summary, cell_issues,
                cell_issue_columns, reason, dag_id, run_id, seconds, rows_digest)
           VALUES (%(path)s, %(file_name)s, %(report)s, %(business_date)s, %(sha256)s, %(size)s, %(status)s,
                   %(reader)s, %(rows_read)s, %(rows_inserted)s, %(rows_updated)s, %(rows_unchanged)s,
                   %(rows_rejected)s, %(rows_summary)s, %(cell_issues)s, %(cell_issue_columns)s, %(reason)s,
                   %(dag_id)s, %(run_id)s, %(seconds_so_far)s, %(rows_digest)s)
           RETURNING file_id""",
        {
            **result.as_dict(),
            "cell_issue_columns": Jsonb(result.cell_issue_columns),
            "path": path,
            "sha256": sha256,
            "size": size,
            "reader": reader,
            "dag_id": run.dag_id,
            "run_id": run.run_id,
            "seconds_so_far": None if started is None else round(time.perf_counter() - started, 3),
            "rows_digest": rows_digest if result.status == "loaded" else None,
        },
    ).fetchone()
    return row[0]


def record_evidence(conn: psycopg.Connection, typed: sql.Identifier, file_id: int, result: FileResult) -> None:
    """The file's rejects (etl_row_reject) and cell issues (etl_cell_issue), from the typed rows; a
    file with none of a kind does not scan for them."""
    kinds = (("etl_row_reject", "problems", result.rows_rejected), ("etl_cell_issue", "issues", result.cell_issues))
    for table, array, count in kinds:
        if not count:
            continue
        conn.execute(
            sql.SQL(
                "INSERT INTO operations.{} (file_id, source_file, source_row, column_name, value, reason) "
                "SELECT %s, %s, t.source_row, p.column_name, p.value, p.reason FROM {} t, unnest(t.{}) p"
            ).format(sql.Identifier(table), typed, sql.Identifier(array)),
            (file_id, result.file_name),
        )


_KNOWN = (
    "SELECT report, business_date, file_name FROM operations.etl_file_ledger WHERE sha256 = %s "
    "AND status = 'loaded' ORDER BY business_date = %s DESC, recorded_at LIMIT 1"
)


def known_in(conn: psycopg.Connection, sha256: str, business_date: dt.date) -> Known | None:
    """The already loaded file with this content, if any (the one of ``business_date`` first)."""
    row = conn.execute(_KNOWN, (sha256, business_date)).fetchone()
    return Known(*row) if row else None


def rows_digest(conn: psycopg.Connection, report: Report, typed: Typed) -> str | None:
    """A fingerprint of the file's rows, order ignored: their typed values (not how the workbook
    wrote them, nor the business date the load gives them). Equal for a workbook opened and saved
    again; None for a file without data rows (an empty export of a quiet day is no copy of anything).
    Each row's md5 is cut into two 60-bit numbers; their sums and the row count make the fingerprint,
    so the rows need no sort."""
    row = sql.SQL("md5(ROW({})::text)").format(
        sql.SQL(", ").join(sql.Identifier(c.name) for c in report.columns if c.source != "business_date")
    )
    found = conn.execute(
        sql.SQL(
            "SELECT md5(count(*) || ':' || sum(('x' || substr(h, 1, 15))::bit(60)::bigint::numeric) || ':' "
            "|| sum(('x' || substr(h, 16, 15))::bit(60)::bigint::numeric)) "
            "FROM (SELECT {} AS h FROM {} WHERE NOT is_summary) r HAVING count(*) > 0"
        ).format(row, typed.table)
    ).fetchone()
    return found[0] if found else None


# The loaded file of another date with the same rows, and whether that date is a neighbour of D: the
# nearest date before D, or after it, with a loaded file of the report.
_SAME_ROWS = """
    WITH neighbours AS (
        SELECT (SELECT max(business_date) FROM operations.etl_file_ledger
                 WHERE report = %(report)s AND status = 'loaded' AND business_date < %(day)s) AS before,
               (SELECT min(business_date) FROM operations.etl_file_ledger
                 WHERE report = %(report)s AND status = 'loaded' AND business_date > %(day)s) AS after
    )
    SELECT l.report, l.business_date, l.file_name, true,
           l.business_date IN (n.before, n.after) AS neighbour
      FROM operations.etl_file_ledger l, neighbours n
     WHERE l.report = %(report)s AND l.rows_digest = %(digest)s AND l.status = 'loaded'
       AND l.business_date <> %(day)s
     ORDER BY l.business_date IN (n.before, n.after), l.business_date DESC, l.recorded_at
     LIMIT 1"""


def same_rows_in(
    conn: psycopg.Connection, report: Report, digest: str | None, business_date: dt.date
) -> tuple[Known | None, Known | None]:
    """(stale, unchanged): the loaded file of another business date whose rows this file repeats
    exactly, for a report that is not static master data. Of a neighbouring date (the nearest one
    before or after with a file of the report) it may be either a quiet day's export, where nothing
    changed, or that file opened and saved again: the data cannot tell, so the file loads and its
    reason says so (unchanged). Of any other date it is an old export saved again: a quiet day cannot
    bring back the rows of an older date after a neighbour's differed (stale). An export with no data
    rows is never a copy."""
    if digest is None or report.static:
        return None, None
    row = conn.execute(_SAME_ROWS, {"report": report.code, "digest": digest, "day": business_date}).fetchone()
    if row is None:
        return None, None
    known = Known(*row[:4])
    return (None, known) if row[4] else (known, None)


def record_skipped(
    business_date: dt.date, skipped: list[tuple[Any, str]], *, run: RunInfo = MANUAL, conninfo: str | None = None
) -> list[str]:
    """A 'skipped' ledger row for each landing entry left alone on purpose (landing.Listing.skipped),
    once per date and name; returns the names recorded now."""
    if not skipped:
        return []
    rows = [(shown_name(path.name), shown_name(str(path)), reason) for path, reason in skipped]
    with connect(conninfo) as conn:
        recorded = conn.execute(
            """INSERT INTO operations.etl_file_ledger (path, file_name, business_date, status, reason, dag_id, run_id)
               SELECT s.path, s.file_name, %(day)s, 'skipped', s.reason, %(dag_id)s, %(run_id)s
                 FROM unnest(%(names)s::text[], %(paths)s::text[], %(reasons)s::text[]) AS s(file_name, path, reason)
                WHERE NOT EXISTS (SELECT FROM operations.etl_file_ledger l
                                   WHERE l.business_date = %(day)s AND l.file_name = s.file_name
                                     AND l.status = 'skipped')
               RETURNING file_name""",
            {
                "day": business_date,
                "names": [r[0] for r in rows],
                "paths": [r[1] for r in rows],
                "reasons": [r[2] for r in rows],
                "dag_id": run.dag_id,
                "run_id": run.run_id,
            },
        ).fetchall()
    for _, _, reason in rows:
        log.warning("SKIPPED %s", reason)
    return [r[0] for r in recorded]


def record_missing(
    business_date: dt.date, expected: list[str], *, landing: str, run: RunInfo = MANUAL, conninfo: str | None = None
) -> list[str]:
    """Ledger rows with status 'missing' for the expected reports that no file of the business
    date delivered (loaded or already known); recorded once per date and report."""
    with connect(conninfo) as conn:
        lock_business_date(conn, business_date)
        rows = conn.execute(
            """INSERT INTO operations.etl_file_ledger (path, file_name, report, business_date, status, reason,
                                                       dag_id, run_id)
               SELECT %(landing)s, '(none)', r.report, %(day)s, 'missing',
                      'no file of this report arrived for the business date by the deadline', %(dag_id)s, %(run_id)s
                 FROM unnest(%(expected)s::text[]) AS r(report)
                WHERE NOT EXISTS (SELECT FROM operations.etl_file_ledger l
                                   WHERE l.business_date = %(day)s AND l.report = r.report
                                     AND l.status IN ('loaded', 'duplicate', 'missing'))
               RETURNING report""",
            {
                "landing": landing,
                "day": business_date,
                "expected": expected,
                "dag_id": run.dag_id,
                "run_id": run.run_id,
            },
        ).fetchall()
    missing = [r[0] for r in rows]
    if missing:
        log.warning("%s: no file arrived for %s", business_date, ", ".join(missing))
    return missing


_WAITING = """
    SELECT f.business_date, f.file_name FROM operations.late_file f
     WHERE f.business_date >= %s AND f.business_date < %s
       AND NOT EXISTS (SELECT FROM operations.etl_file_ledger l
                        WHERE l.business_date = f.business_date AND l.file_name = f.file_name
                          AND l.recorded_at > f.modified_at)
     ORDER BY 1, 2"""


def record_late_files(
    business_date: dt.date, found: list[tuple[dt.date, Any]], lookback_days: int, *, conninfo: str | None = None
) -> list[str]:
    """Replace what operations.late_file holds for the ``lookback_days`` dates before
    ``business_date`` with ``found`` (date, file): the files waiting in those dates' landing folders.
    Returns (and logs) those no run of their date has recorded in the file ledger since their last
    change: the late_file alert names each of them. A file a run did record and leave in place (an
    unfinished workbook given up, copied to quarantine) is not waiting."""
    rows = []
    for day, path in found:
        try:
            stat = path.stat()
            size, modified = stat.st_size, dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
        except FileNotFoundError:
            continue
        rows.append((day, path.name, str(path), size, modified, business_date))
    first = business_date - dt.timedelta(days=lookback_days)
    with connect(conninfo) as conn:
        conn.execute(
            "DELETE FROM operations.late_file WHERE business_date >= %s AND business_date < %s", (first, business_date)
        )
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO operations.late_file (business_date, file_name, path, size_bytes, modified_at,
                                                     seen_by_business_date)
                   VALUES (%s, %s, %s, %s, %s, %s)""",
                rows,
            )
        waiting = conn.execute(_WAITING, (first, business_date)).fetchall()
    names = [f"{day}/{name}" for day, name in waiting]
    if names:
        log.error("files waiting in the landing folders of earlier dates (re-run those dates): %s", ", ".join(names))
    return names
