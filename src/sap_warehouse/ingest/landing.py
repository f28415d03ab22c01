"""Locations (landing, archive, quarantine, backups), a business date's files, moving files.

Locations are Airflow Variables holding ObjectStoragePath URLs (file:// by default, s3:// etc.
in production), so no task relies on a file another task left on local disk. scan() reads the
landing listing only, and sorts every entry into files, refused and skipped (nothing passes
unrecorded); move_file() writes the target and then removes the source. settle() waits until files
are no longer being written, still_written() tells a workbook whose writer paused from a finished
one; late_files() finds files left in the folders of earlier dates (dropped there after their
date's run, or never loaded).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
import zipfile
from collections.abc import Callable
from typing import NamedTuple

import pendulum

from sap_warehouse.core import settings
from sap_warehouse.core.business_date import BUSINESS_TIMEZONE
from sap_warehouse.core.registry import daily_reports
from sap_warehouse.ingest.workbook import XLSX_MAGIC

log = logging.getLogger(__name__)

LOCATION_VARIABLES = {
    "landing": "sap_landing_path",
    "archive": "sap_archive_path",
    "quarantine": "sap_quarantine_path",
    "backup": "warehouse_backup_path",
    "data_docs": "warehouse_data_docs_path",  # the quality gates' GX Data Docs site
}


def default_url(kind: str) -> str:
    """A location's default URL (under WAREHOUSE_LOCAL_DIR)."""
    return settings.default(LOCATION_VARIABLES[kind])


def location(kind: str):
    """The ObjectStoragePath of a location from its Variable (default under WAREHOUSE_LOCAL_DIR)."""
    from airflow.sdk import ObjectStoragePath

    return ObjectStoragePath(settings.value(LOCATION_VARIABLES[kind]))


SUPPORTED_SUFFIXES = (".xlsx", ".csv", ".txt")
# Longest file name (UTF-8 bytes) taken: the archive may add ".<sha256[:12]>" to a name that is taken,
# and Linux allows 255 bytes.
MAX_NAME_BYTES = 200


class Listing(NamedTuple):
    """A business date's landing folder, every entry in one of three lists (nothing passed over):
    ``files`` to load, ``refused`` (entry, reason) to quarantine unread, ``skipped`` (entry, reason)
    left alone on purpose and recorded (hidden files, lock files, partial downloads)."""

    files: list
    refused: list[tuple[object, str]]
    skipped: list[tuple[object, str]]


def shown_name(name: str) -> str:
    """A file name as logs, the ledger and pages can hold it: bytes that are not UTF-8 and control
    characters (a line break) written as escapes, everything else as it is."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _is_link_or_escapes(path, folder) -> str | None:
    """Why a listed entry must not be read, for local paths (object stores have no links)."""
    if getattr(path, "protocol", "file") not in ("file", "local", ""):
        return None
    local, base = str(getattr(path, "path", path)), str(getattr(folder, "path", folder))
    if os.path.islink(local):
        return (
            f"{shown_name(path.name)}: a symbolic link (to {shown_name(os.readlink(local))}); links are not followed, "
            "deliver the file itself"
        )
    if not os.path.realpath(local).startswith(os.path.realpath(base) + os.sep):
        return f"{shown_name(path.name)}: resolves outside the landing folder; deliver the file itself"
    return None


def _skip_reason(name: str) -> str | None:
    if name.startswith("~$"):
        return f"{shown_name(name)}: an Excel lock file (the workbook is open somewhere): skipped, never loaded"
    if name.startswith("."):
        return f"{shown_name(name)}: a hidden file (its name starts with '.'): skipped; drop the dot to have it loaded"
    if name.endswith((".tmp", ".part")):
        return f"{shown_name(name)}: a partial download ({name.rsplit('.', 1)[1]}): skipped until it is renamed"
    return None


def _name_problem(name: str) -> str | None:
    """Why a file name cannot travel through the pipeline (URLs, logs, the ledger, the archive)."""
    shown = shown_name(name)
    if shown != name:
        return (
            f"{shown}: the file name holds a control character (a line break, a tab) or bytes that are not UTF-8; "
            "rename the file and deliver it again"
        )
    if len(name.encode()) > MAX_NAME_BYTES:
        return f"{shown[:60]}...: a file name over {MAX_NAME_BYTES} bytes; rename the file shorter and deliver it again"
    return None


def scan(landing_root, business_date: dt.date) -> Listing:
    """Every entry of ``<landing>/<YYYY-MM-DD>/``, in name order: files to load, entries refused with
    the reason (links, names that cannot travel, unsupported types), entries skipped with the reason
    (see Listing). Folders inside the date's folder are not deliveries and are not looked into."""
    folder = landing_root / business_date.isoformat()
    listing = Listing([], [], [])
    if not folder.exists():
        return listing
    for p in sorted(folder.iterdir(), key=lambda p: p.name):
        skipped = _skip_reason(p.name)
        if skipped:
            listing.skipped.append((p, skipped))
            continue
        problem = _is_link_or_escapes(p, folder)
        if problem is None and not p.is_file():
            continue
        problem = problem or _name_problem(p.name)
        if problem is None and not p.name.lower().endswith(SUPPORTED_SUFFIXES):
            problem = f"{p.name}: not a supported export type ({', '.join(SUPPORTED_SUFFIXES)}); export as .xlsx"
        if problem:
            listing.refused.append((p, problem))
        else:
            listing.files.append(p)
    return listing


def still_written(path) -> bool:
    """Whether a workbook is visibly unfinished: empty, or begun as a zip (its signature) whose end
    (the central directory, written last) is not there yet. Reads the first bytes and the tail only.
    A file that is not a zip at all is not unfinished: it is something else, quarantined as such."""
    if not path.name.lower().endswith(".xlsx"):
        return False
    try:
        with path.open("rb") as fh:
            head = fh.read(len(XLSX_MAGIC))
            if not head:
                return True
            return head == XLSX_MAGIC and not zipfile.is_zipfile(fh)
    except FileNotFoundError:
        return False


def age_seconds(path, now: float | None = None) -> float:
    """Seconds since the file was last written."""
    return (time.time() if now is None else now) - path.stat().st_mtime


def _signature(path) -> tuple[int, float] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_size, stat.st_mtime


def quiet(files: list, stable_seconds: float, now: float | None = None) -> list:
    """The files not modified in the last ``stable_seconds`` (the sensor's count of ready files)."""
    now = time.time() if now is None else now
    return [p for p in files if (sig := _signature(p)) is not None and now - sig[1] >= stable_seconds]


def settle(
    files: list,
    stable_seconds: float,
    *,
    max_wait: float | None = None,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
) -> tuple[list, list]:
    """(files not modified for ``stable_seconds``, files still being written when ``max_wait``
    (default 5 x stable_seconds) ran out). A file copied into the landing folder is read only once
    the copy has finished: its mtime is at least ``stable_seconds`` old and its size and mtime did
    not change while this waited. Files that vanish meanwhile are dropped."""
    if stable_seconds <= 0 or not files:
        return list(files), []
    max_wait = max_wait if max_wait is not None else 5 * stable_seconds
    deadline = clock() + max_wait
    first = {id(p): _signature(p) for p in files}
    while True:
        now = clock()
        ready, busy = [], []
        for p in files:
            signature = _signature(p)
            if signature is None:
                continue
            if signature == first[id(p)] and now - signature[1] >= stable_seconds:
                ready.append(p)
            else:
                first[id(p)] = signature  # written meanwhile: its mtime moved, the quiet period starts again
                busy.append(p)
        if not busy or clock() >= deadline:
            for p in busy:
                log.warning("%s is still being written after %.0f s: left in the landing folder", p.name, max_wait)
            return ready, busy
        sleep(min(1.0, max(0.05, stable_seconds / 10)))


def late_files(landing_root, business_date: dt.date, lookback_days: int) -> list[tuple[dt.date, object]]:
    """(date, file) of every file waiting in the folders of the ``lookback_days`` dates before
    ``business_date``: a date's run moves each file it sees (archive or quarantine), so what is left
    arrived after that run or was never loaded."""
    found = []
    for back in range(lookback_days, 0, -1):
        day = business_date - dt.timedelta(days=back)
        files, refused, _ = scan(landing_root, day)
        found += [(day, p) for p in files] + [(day, p) for p, _ in refused]
    return found


def fit_name(name: str, suffix_bytes: int = 0) -> str:
    """``name`` cut (before its extension) so that it and ``suffix_bytes`` more fit Linux's 255 bytes."""
    limit = 255 - suffix_bytes
    if len(name.encode()) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    tail = f".{extension}" if dot else ""
    cut = stem.encode()[: limit - len(tail.encode())].decode("utf-8", "ignore")
    return cut + tail


def move_file(
    path, target_dir, data: bytes, sha256: str, *, keep_source: bool = False, name: str | None = None
) -> None:
    """Put ``data`` (the file's bytes) at ``target_dir/<name>`` (default: the file's own name) and
    remove ``path`` (unless ``keep_source``: a file a writer may still hold is copied, not taken). A
    different file already there under that name is kept: the newcomer gets its sha256 in its name.
    The copy is written under a temporary name and renamed into place (a reader never sees half of
    it); a source already gone (another run of the date moved it) is not an error."""
    target_dir.mkdir(parents=True, exist_ok=True)
    name = name or path.name
    target = target_dir / fit_name(name)
    if target.exists() and target.read_bytes() != data:
        stem, dot, suffix = name.rpartition(".")
        renamed = f"{stem}.{sha256[:12]}.{suffix}" if dot else f"{name}.{sha256[:12]}"
        target = target_dir / fit_name(renamed)
    if not (target.exists() and target.read_bytes() == data):
        partial = target_dir / f".{sha256[:16]}.{os.getpid()}.part"
        partial.write_bytes(data)
        partial.rename(target)
    if keep_source:
        return
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def archived_copy(archive_root, business_date: dt.date, name: str):
    """The archived file of that name for the date, if an earlier or concurrent run moved it there."""
    if archive_root is None:
        return None
    candidate = archive_root / business_date.isoformat() / name
    return candidate if candidate.exists() else None


def expected_reports() -> list[str]:
    """Reports that should arrive every business date (Variable ``sap_expected_reports``; unset: the
    registry's daily reports)."""
    return settings.value("sap_expected_reports") or daily_reports()


def files_due(business_date: dt.date, due_time: str) -> dt.datetime:
    """When D's files must be in: ``due_time`` (HH:MM, plant time) on the day after D."""
    hour, minute = (int(part) for part in due_time.split(":"))
    return pendulum.datetime(
        business_date.year, business_date.month, business_date.day, hour, minute, tz=BUSINESS_TIMEZONE
    ).add(days=1)


def reports_landed(files: list) -> dict[str, list]:
    """The reports ``files`` hold (report code -> its files), recognised by their header rows as a load
    recognises them, not by their names: six MB51 files are one report. A file that cannot be read or
    holds no known header counts for none (its load quarantines it with the reason): no file stops the
    waiting from being judged."""
    from sap_warehouse.ingest.workbook import BadFileError, read_cells, recognise

    landed: dict[str, list] = {}
    for path in files:
        try:
            cells, _, _ = read_cells(path.read_bytes(), path.name)
            report, _, _ = recognise(cells, path.name)
        except (BadFileError, OSError):  # unreadable, refused, gone or not ours to read: counts for none
            continue
        landed.setdefault(report.code, []).append(path)
    return landed


def reports_waited_for(landed, expected: list[str]) -> list[str]:
    """The expected reports no landed file holds yet, in the order they are expected."""
    return [report for report in expected if report not in landed]


def landing_ready(landed, expected: list[str], due: dt.datetime, now: dt.datetime) -> bool:
    """Stop waiting once every expected report has a file (``landed``: the report codes that do), or the
    deadline passed."""
    return not reports_waited_for(landed, expected) or now >= due
