"""Stage 1 and 2 of a load: land (the file's bytes and sha256, from the landing zone or, when another
run moved it, from the archive) and parse (the recognised sheet, or why the file cannot be used).
Both run before the file's transaction: parsing is the CPU-bound part."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from dataclasses import dataclass

from sap_warehouse.ingest.landing import archived_copy
from sap_warehouse.ingest.workbook import BadFileError, Sheet, read_sheet

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Landed:
    """A file as read from the landing zone, or from the archive when another run moved it there."""

    path: object  # ObjectStoragePath or pathlib.Path
    data: bytes
    sha256: str
    in_archive: bool
    started: float  # time.perf_counter() when the load of the file began (the ledger's seconds)


def land(path, business_date: dt.date, archive_root) -> Landed:
    """The file's bytes. A file another run of the date (or this task's earlier try) loaded and
    moved to the archive is read from there: the ledger then knows it as a duplicate."""
    started = time.perf_counter()
    try:
        data, in_archive = path.read_bytes(), False
    except FileNotFoundError:
        archived = archived_copy(archive_root, business_date, path.name)
        if archived is None:
            raise FileNotFoundError(
                f"{path}: the file left the landing folder and is not in the archive of {business_date}; "
                "look for it in the quarantine folder or deliver it again"
            ) from None
        path, data, in_archive = archived, archived.read_bytes(), True
    return Landed(path, data, hashlib.sha256(data).hexdigest(), in_archive, started)


def parse(landed: Landed, file_name: str) -> tuple[Sheet | None, str | None]:
    """The recognised sheet, or why the file cannot be used. Whatever a reader raises on the file's
    bytes (BadFileError for what the guards foresee; a parser's own error or MemoryError for what
    they do not) is about this file: it is quarantined with the error, the date's other files load."""
    try:
        return read_sheet(landed.data, file_name), None
    except BadFileError as exc:
        return None, str(exc)
    except Exception as exc:  # any reader failure on this file's bytes means the file is unusable
        log.exception("%s: the reader failed", file_name)
        return None, (
            f"{file_name}: could not be read ({type(exc).__name__}: {str(exc)[:300]}); export the report again; "
            "if a fresh export fails the same way, keep this file for the warehouse team"
        )
