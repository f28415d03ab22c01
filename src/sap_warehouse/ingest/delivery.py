"""Which landed files a run takes, and what it does with every other entry of the landing folders.

Reads the landing folders of the run's business dates: their listings, each file's size and time,
and a workbook's first bytes and tail (never a whole file). Writes ledger rows for what it will not
load: refused entries are quarantined unread (raw_load.quarantine_entry), entries skipped on purpose
are recorded once per date and name (raw_load.record_skipped). Returns what the load tasks take:
one small dict per file (its name and date; the task builds the path itself, so no name is carried
through a URL, which would drop a line break). Idempotent: a second call finds what the first left.

A file is taken once it is whole: its size and time have not changed for ``stable_seconds``
(landing.settle), and a workbook is a complete zip. A workbook begun but not finished (its writer
paused longer than the quiet period) is left where it is (and recorded as skipped, with the
reason) until it is whole, or until
``give_up_seconds`` after its last write: then it is loaded, and quarantined as damaged, by copying
it (the source stays, in case a writer still holds it).
"""

from __future__ import annotations

import datetime as dt
import logging

from sap_warehouse.core.business_date import DateSpan
from sap_warehouse.core.run_info import MANUAL, RunInfo
from sap_warehouse.ingest.landing import age_seconds, scan, settle, still_written
from sap_warehouse.ingest.raw_load import quarantine_entry, record_skipped

log = logging.getLogger(__name__)


def discover(
    span: DateSpan,
    *,
    landing,
    quarantine,
    stable_seconds: float,
    give_up_seconds: float,
    run: RunInfo = MANUAL,
    conninfo: str | None = None,
) -> list[dict]:
    """Each date's files ready to load, dates in order, names in order within a date:
    ``{"file_name", "business_date", "keep_source", "size_bytes"}`` (keep_source: an unfinished
    workbook given up)."""
    found = []
    for day in span:
        business_date = day.isoformat()
        listing = scan(landing, day)
        for path, reason in listing.refused:
            quarantine_entry(path, reason, day, quarantine_root=quarantine, run=run, conninfo=conninfo)
        record_skipped(day, listing.skipped, run=run, conninfo=conninfo)
        found += [(business_date, path) for path in listing.files]
    # A file still being copied is not read half-written: wait until it has been quiet for
    # stable_seconds; one still growing after five times that is left for a re-run.
    ready, _ = settle([path for _, path in found], stable_seconds)
    ready_names = {str(path) for path in ready}
    deliveries: list[dict] = []
    waiting: dict[str, list] = {}  # by business date, as ISO text
    for business_date, path in found:
        if str(path) not in ready_names:
            continue
        unfinished = still_written(path)
        if unfinished and age_seconds(path) < give_up_seconds:
            reason = (
                f"{path.name}: a workbook still being written (its zip is not complete yet): left in the landing "
                f"folder until it is whole, or {give_up_seconds / 60:.0f} minutes after its last write (then it is "
                "quarantined as damaged); re-run the date then"
            )
            waiting.setdefault(business_date, []).append((path, reason))
            continue
        if unfinished:
            log.error(
                "%s/%s: still not a complete workbook %.0f minutes after its last write: given up, copied to "
                "quarantine (the file stays in the landing folder)",
                business_date,
                path.name,
                give_up_seconds / 60,
            )
        deliveries.append(
            {
                "file_name": path.name,
                "business_date": business_date,
                "keep_source": unfinished,
                "size_bytes": _size(path),
            }
        )
    for business_date, entries in waiting.items():
        record_skipped(dt.date.fromisoformat(business_date), entries, run=run, conninfo=conninfo)
    return deliveries


def _size(path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:  # gone since the listing: its load records why
        return 0


# A load task takes at most this many files: a range run of a year (3,650 files) maps about 20 tasks,
# each paying Airflow's start-up once for many files, while a failed task's retry stays small.
FILES_PER_TASK = 200


def batches(files: list[dict], parallelism: int, per_task: int = FILES_PER_TASK) -> list[dict]:
    """The load tasks of a run: ``files`` (discover's, in date order) cut into contiguous parts of
    about equal bytes: one part per ``per_task`` files, and at least ``parallelism`` parts (so every
    load slot has work), never more than one per file; each part ``{"label", "files"}``, labelled
    with its dates and files for the Airflow grid. Contiguous in date order: the tasks running side
    by side load neighbouring dates, and each loads its dates oldest first."""
    if not files:
        return []
    count = min(len(files), max(parallelism, -(-len(files) // per_task)))
    total = sum(max(f.get("size_bytes", 0), 1) for f in files)
    parts: list[list[dict]] = [[] for _ in range(count)]
    done = 0
    for index, delivered in enumerate(files):
        # The part whose share of the bytes this file starts in; never fewer files left than parts.
        part = min(count - 1, done * count // total, index)
        part = max(part, count - (len(files) - index))
        parts[part].append(delivered)
        done += max(delivered.get("size_bytes", 0), 1)
    return [{"label": _label(part), "files": part} for part in parts if part]


def _label(part: list[dict]) -> str:
    """How the grid names a load task: its file (one), or its dates and file count."""
    first, last = part[0]["business_date"], part[-1]["business_date"]
    if len(part) == 1:
        return f"{first}/{part[0]['file_name']}"
    dates = first if first == last else f"{first}..{last}"
    return f"{dates} ({len(part)} files)"
