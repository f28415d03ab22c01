"""Stage 8, after the commit: the file moves to the archive (loaded or known) or to quarantine, and
the log says what happened. Also the entries refused unread (a link, an unsupported type, a file
that cannot be read at all): their ledger row, and where they go."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os

from sap_warehouse.core.db import connect, lock_business_date
from sap_warehouse.core.run_info import MANUAL, RunInfo
from sap_warehouse.ingest.landing import move_file, shown_name
from sap_warehouse.ingest.raw_load.land import Landed
from sap_warehouse.ingest.raw_load.ledger import record_file
from sap_warehouse.ingest.raw_load.result import FileResult

log = logging.getLogger(__name__)


def settle(
    result: FileResult, landed: Landed, business_date: dt.date, *, quarantine_root, archive_root, keep_source: bool
) -> None:
    """After the commit: the file moves to quarantine or the archive, and the log says what happened."""
    if result.status == "quarantined":
        move_file(
            landed.path,
            quarantine_root / business_date.isoformat(),
            landed.data,
            landed.sha256,
            keep_source=keep_source and not landed.in_archive,
        )
        log.error("QUARANTINED %s", result.reason)
        return
    if result.status == "stale_copy":
        log.error("STALE COPY %s: %s", result.file_name, result.reason)
    if result.cell_issues:
        log.warning(
            "%s: %d cell(s) failed typing and were loaded as NULL (operations.etl_cell_issue): %s",
            result.file_name,
            result.cell_issues,
            ", ".join(f"{column} {count}" for column, count in result.cell_issue_columns.items()),
        )
    if result.status == "loaded" and result.reason:
        log.warning("%s: %s", result.file_name, result.reason)
    if archive_root is not None and not landed.in_archive:
        move_file(landed.path, archive_root / business_date.isoformat(), landed.data, landed.sha256)


def quarantine_entry(
    path, reason: str, business_date: dt.date, *, quarantine_root, run: RunInfo = MANUAL, conninfo: str | None = None
) -> FileResult:
    """Record a landing entry that must not be read (a link, an unsupported type) and take it out
    of the landing folder: a link is removed (its target is never touched), a file is moved to
    quarantine."""
    result = _quarantined_unread(path, reason, business_date, run=run, conninfo=conninfo)
    local = str(getattr(path, "path", path))
    if os.path.islink(local):
        os.unlink(local)
    else:
        data = path.read_bytes()
        # Under its shown name: a line break or a byte that is not UTF-8 does not travel further.
        move_file(
            path,
            quarantine_root / business_date.isoformat(),
            data,
            hashlib.sha256(data).hexdigest(),
            name=result.file_name,
        )
    return result


def _quarantined_unread(path, reason: str, business_date: dt.date, *, run: RunInfo, conninfo: str | None) -> FileResult:
    """The 'quarantined' ledger row (and log line) of an entry never read, under its shown name."""
    name = shown_name(path.name)
    result = FileResult(file_name=name, business_date=business_date.isoformat(), status="quarantined", reason=reason)
    with connect(conninfo) as conn:
        lock_business_date(conn, business_date, shared=True)
        record_file(conn, result, path=shown_name(str(path)), sha256=None, size=None, reader=None, run=run)
    log.error("QUARANTINED %s", reason)
    return result


def unreadable(
    path, business_date: dt.date, error: OSError, *, run: RunInfo = MANUAL, conninfo: str | None = None
) -> FileResult:
    """The ledger row of a landed file that cannot be read at all (it vanished, or its permissions
    keep the loader out): quarantined with the reason, the file left where it is (it cannot be moved
    unread). The date's other files still load."""
    reason = (
        f"{shown_name(path.name)}: cannot be read ({type(error).__name__}: {error.strerror or error}); if it is still "
        "in the landing folder, make it readable by the loader and re-run the date, else deliver it again"
    )
    return _quarantined_unread(path, reason, business_date, run=run, conninfo=conninfo)
