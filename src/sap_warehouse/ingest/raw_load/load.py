"""The load of landed files, stage by stage: each file in its own transaction under the business
date's shared lock, parsed before it; many files of a task on one connection (load_files)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from typing import Any

import psycopg

from sap_warehouse.build.layers import raw_retired_before
from sap_warehouse.core.db import connect, lock_business_date, lock_raw_table
from sap_warehouse.core.run_info import MANUAL, RunInfo
from sap_warehouse.ingest.raw_load.key import key_rows
from sap_warehouse.ingest.raw_load.land import Landed, land, parse
from sap_warehouse.ingest.raw_load.ledger import known_in, record_evidence, record_file, rows_digest, same_rows_in
from sap_warehouse.ingest.raw_load.result import AlreadyLoaded, FileResult, file_result, repeat
from sap_warehouse.ingest.raw_load.settle import settle, unreadable
from sap_warehouse.ingest.raw_load.stage import Scratch, stage_cells
from sap_warehouse.ingest.raw_load.typed import type_rows, worst_columns
from sap_warehouse.ingest.raw_load.write import write_rows
from sap_warehouse.ingest.workbook import BadFileError, Sheet

log = logging.getLogger(__name__)


REFUSED_CONTENT = ("22", "54")  # SQLSTATE classes a file's content can cause


def load_sheet(
    conn: psycopg.Connection,
    sheet: Sheet,
    landed: Landed,
    *,
    file_name: str,
    business_date: dt.date,
    reject_ratio_max: float,
    run: RunInfo,
) -> FileResult:
    """Stage, type, key, write and record one recognised sheet inside the caller's transaction.
    Staging and typing run without the raw table's lock, so two files of one report stage side by
    side; the lock is taken for the write, and the file's sha256 checked again under it (raises
    AlreadyLoaded when another load of the same content committed meanwhile). A file over the reject
    ratio writes no raw row: its ledger row says quarantined, with the worst columns, and its rejects
    and cell issues are kept as evidence."""
    scratch = Scratch.of(conn, sheet)
    stage_cells(conn, sheet, scratch)
    typed = type_rows(conn, sheet, scratch, business_date)
    digest = None
    if typed.reject_ratio() > reject_ratio_max:
        worst = worst_columns(conn, typed.table)
        result = file_result(sheet, file_name, business_date, typed, reject_ratio_max=reject_ratio_max, worst=worst)
    else:
        lock_raw_table(conn, sheet.report.raw_table)
        digest = rows_digest(conn, sheet.report, typed)
        stale, unchanged = same_rows_in(conn, sheet.report, digest, business_date)
        known = known_in(conn, landed.sha256, business_date) or stale
        if known is not None:
            raise AlreadyLoaded(known)
        keyed = key_rows(conn, sheet.report, scratch, typed)
        written = write_rows(conn, sheet.report, keyed, typed, file_name, business_date)
        result = file_result(
            sheet, file_name, business_date, typed, reject_ratio_max=reject_ratio_max, keyed=keyed, written=written
        )
        if unchanged is not None:
            note = (
                f"the same rows as {unchanged.file_name} of {unchanged.business_date}: nothing changed between "
                f"the two exports, or this is that file saved again; if SAP's export of {business_date} differs, "
                "deliver it and re-run the date"
            )
            result.reason = "; ".join(r for r in (result.reason, note) if r)
    file_id = record_file(
        conn,
        result,
        path=str(landed.path),
        sha256=landed.sha256,
        size=len(landed.data),
        reader=sheet.reader,
        run=run,
        started=landed.started,
        rows_digest=digest,
    )
    record_evidence(conn, typed.table, file_id, result)
    scratch.drop(conn)
    return result


def load_landed(
    conn: psycopg.Connection,
    landed: Landed,
    sheet: Sheet | None,
    problem: str | None,
    *,
    file_name: str,
    business_date: dt.date,
    reject_ratio_max: float,
    run: RunInfo,
) -> FileResult:
    """The file's one transaction, under the business date's shared lock: the sheet loaded, or the
    ledger row of a file already known (duplicate, stale copy) or unusable (quarantined)."""
    with conn.transaction():
        lock_business_date(conn, business_date, shared=True)
        known = known_in(conn, landed.sha256, business_date)  # again: another run may have loaded it meanwhile
        if known is None and sheet is not None:
            problem = _before_retention(conn, sheet, file_name, business_date)
        if known is None and sheet is not None and problem is None:
            try:
                with conn.transaction():
                    return load_sheet(
                        conn,
                        sheet,
                        landed,
                        file_name=file_name,
                        business_date=business_date,
                        reject_ratio_max=reject_ratio_max,
                        run=run,
                    )
            except BadFileError as exc:
                problem = str(exc)
            except psycopg.Error as exc:
                problem = _refused(file_name, exc)
            except AlreadyLoaded as exc:
                known = exc.known
        if problem is not None:
            result = FileResult(
                file_name=file_name, business_date=business_date.isoformat(), status="quarantined", reason=problem
            )
        else:
            assert known is not None  # no problem and no load: the file was known (AlreadyLoaded)
            result = repeat(known, file_name, business_date)
        record_file(
            conn,
            result,
            path=str(landed.path),
            sha256=landed.sha256,
            size=len(landed.data),
            reader=None,
            run=run,
            started=landed.started,
        )
    return result


def _refused(file_name: str, exc: psycopg.Error) -> str:
    """Why PostgreSQL refused the file, when the file's content is at fault: SQLSTATE classes 22 (data
    exception) and 54 (program limit exceeded), e.g. a NUL character in a cell, a header wider than a
    table can be; the file is quarantined, the others load. Anything else (a lost connection, a
    deadlock) is raised again: it fails the task, and its retry loads the file."""
    if not (exc.sqlstate or "").startswith(REFUSED_CONTENT):
        raise exc
    detail = str(exc).strip().splitlines()[0]
    return (
        f"{file_name}: PostgreSQL refused the file ({type(exc).__name__}: {detail}); "
        "fix the cell or ask for the export again, then deliver it again"
    )


def _before_retention(conn: psycopg.Connection, sheet: Sheet, file_name: str, business_date: dt.date) -> str | None:
    """Why a file of a date whose raw rows retention has retired is not loaded: its facts are kept
    for good and are not rebuilt (layers), so its rows would sit in raw and never reach them."""
    table = f"raw.{sheet.report.raw_table}"
    cutoff = raw_retired_before(conn).get(table)
    if cutoff is None or business_date >= cutoff:
        return None
    return (
        f"{file_name}: a {sheet.report.code.upper()} export of {business_date}, before the retention cutoff of {table} "
        f"({cutoff}): that date's raw rows were archived and its facts are kept as they are, so this file's rows "
        f"would never reach them. To change {business_date}, reload its rows from the retention archive "
        "(docs/runbook.md: What would retention delete?), then deliver this file again and re-run the date"
    )


def load_file(
    path,
    business_date: dt.date,
    *,
    quarantine_root,
    archive_root=None,
    reject_ratio_max: float = 0.05,
    run: RunInfo = MANUAL,
    conninfo: str | None = None,
    keep_source: bool = False,
) -> FileResult:
    """Load one landed file (an ObjectStoragePath or pathlib.Path) in one transaction (parsed
    first, outside it), then move it: to ``<archive_root>/<D>/`` when loaded or already known
    (kept, never deleted; left in place when archive_root is None), to ``<quarantine_root>/<D>/``
    when unusable (copied, the source left in place, with ``keep_source``: a file a writer may still
    hold). The move comes after the commit: if it fails, the next run finds the file, knows its
    sha256, and moves it. A file that cannot be read at all (gone, no permission) gets a quarantined
    ledger row with the reason and stays where it is."""
    with connect(conninfo, autocommit=True) as conn:
        return _load_one(
            conn,
            path,
            business_date,
            quarantine_root=quarantine_root,
            archive_root=archive_root,
            reject_ratio_max=reject_ratio_max,
            run=run,
            conninfo=conninfo,
            keep_source=keep_source,
        )


def load_files(
    files: list[tuple[Any, dt.date, bool]],
    *,
    quarantine_root,
    archive_root=None,
    reject_ratio_max: float = 0.05,
    run: RunInfo = MANUAL,
    conninfo: str | None = None,
) -> list[FileResult]:
    """Load many landed files, in the order given, each exactly as load_file loads one: its own
    transaction, its ledger row, its move after its commit. ``files``: (path, business date,
    keep_source). They share one connection, so a file pays no connection and no cold catalog
    caches of its own. A file's bad content quarantines that file and the next one loads. Any other
    error of one file (its move refused by the storage) is logged and the next file loads;
    FilesNotLoaded then names those files, so the task fails and its retry, finding the loaded files
    known by their sha256, tries them again. An error of the database or its connection (a lost
    connection, a deadlock) stops at once: every file after it would meet the same."""
    results, failed = [], []
    with connect(conninfo, autocommit=True) as conn:
        for path, business_date, keep_source in files:
            try:
                result = _load_one(
                    conn,
                    path,
                    business_date,
                    quarantine_root=quarantine_root,
                    archive_root=archive_root,
                    reject_ratio_max=reject_ratio_max,
                    run=run,
                    conninfo=conninfo,
                    keep_source=keep_source,
                )
            except psycopg.OperationalError:
                raise  # the database or the connection: every file after this one would fail the same way
            except Exception as error:  # this file's trouble (a move the storage refuses): the others go on
                log.exception("%s: its load stopped", path.name)
                failed.append(f"{path.name}: {type(error).__name__}: {error}")
                continue
            results.append(result)
    if failed:
        raise FilesNotLoaded(
            f"{len(failed)} of {len(files)} file(s) stopped (the others loaded; the log has each one's trace); "
            "fix the cause and retry the task, the loaded files are known by their sha256: " + "; ".join(failed)
        )
    return results


class FilesNotLoaded(RuntimeError):
    """Some files of a load task stopped on an error of their own; the task's other files loaded."""


def _load_one(
    conn: psycopg.Connection,
    path,
    business_date: dt.date,
    *,
    quarantine_root,
    archive_root,
    reject_ratio_max: float,
    run: RunInfo,
    conninfo: str | None,
    keep_source: bool,
) -> FileResult:
    """One file of load_files: land, parse unless its sha256 is known, load, settle, log."""
    started = time.perf_counter()
    try:
        landed = land(path, business_date, archive_root)
    except OSError as error:
        return unreadable(path, business_date, error, run=run, conninfo=conninfo)
    # Parse before the file's transaction and lock: reading is the CPU-bound part, and the files of
    # one date read side by side. A file known by its sha256 is not parsed at all.
    sheet, problem, seconds_read = None, None, 0.0
    if known_in(conn, landed.sha256, business_date) is None:
        parsing = time.perf_counter()
        sheet, problem = parse(landed, path.name)
        seconds_read = time.perf_counter() - parsing
    result = load_landed(
        conn,
        landed,
        sheet,
        problem,
        file_name=path.name,
        business_date=business_date,
        reject_ratio_max=reject_ratio_max,
        run=run,
    )
    settle(
        result,
        landed,
        business_date,
        quarantine_root=quarantine_root,
        archive_root=archive_root,
        keep_source=keep_source,
    )
    result.seconds_read = round(seconds_read, 3)
    result.seconds = round(time.perf_counter() - started, 3)
    _log(result)
    return result


def _log(result: FileResult) -> None:
    """The file's line in the task's log: what it was and did, and how long it took."""
    counts = ("rows_read", "rows_inserted", "rows_updated", "rows_unchanged", "rows_rejected", "rows_summary")
    log.info(
        "%s: %s %s, %s rows read, %s inserted, %s updated, %s unchanged, %s rejected, %s list totals, "
        "%.2f s (reading %.2f s)",
        result.file_name,
        result.report,
        result.status,
        *(getattr(result, count) for count in counts),
        result.seconds,
        result.seconds_read,
    )
