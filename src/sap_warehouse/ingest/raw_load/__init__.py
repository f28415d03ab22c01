"""Loading landed SAP exports into their raw tables, one stage per module, in the order a file goes:

    land   -> parse    the bytes and sha256; the workbook read (land.py), before any transaction
    stage              the cells as text in a scratch table, by COPY (stage.py)
    type               the database's cell parsers: typed rows, rejects, cell issues, list totals (typed.py)
    key                one row per business key (key.py)
    write              new and changed rows, moved and superseded lines (write.py)
    ledger             the file's ledger row and its evidence (ledger.py)
    settle             after the commit, the move to the archive or quarantine (settle.py)

load.py runs them: ``load_file`` for one file, ``load_files`` for many on one connection (a task of a
range run); each file keeps its own transaction under the business date's shared advisory lock, so
its ledger row, rejects, cell issues and raw rows commit together or not at all, and its archive
move follows its commit. result.py holds what a load came to (FileResult).

A cell never costs its row unless the row cannot be counted without it: a missing required value,
or a value of a key or fact-critical column (registry) that fails typing, makes the row a reject;
a value of any other column that fails typing becomes NULL, stays as text in raw_data and is
recorded as a cell issue. SAP list totals (identity column blank, only measures and units) are
counted as summary rows, neither loaded nor rejected. Per file: non-blank rows = rows read + summary
rows; rows read = inserted + updated + unchanged + rejected.
Idempotent: a file whose sha256 was already loaded is recorded as a duplicate and not read again;
loading the same rows again changes nothing. A file that cannot be used (content not matching its
extension, damaged, unknown layout, missing required column, rejects over the ratio, content
PostgreSQL refuses) moves to the quarantine location with the reason in the ledger and the log (a
file over the reject ratio keeps its rejects and cell issues as evidence), and the other files still
load. Also records landing entries refused unread (quarantine_entry) and the expected reports that
never arrived (record_missing).
"""

from sap_warehouse.ingest.raw_load.ledger import record_late_files, record_missing, record_skipped
from sap_warehouse.ingest.raw_load.load import load_file, load_files
from sap_warehouse.ingest.raw_load.result import FileResult
from sap_warehouse.ingest.raw_load.settle import quarantine_entry, unreadable

__all__ = [
    "FileResult",
    "load_file",
    "load_files",
    "quarantine_entry",
    "record_late_files",
    "record_missing",
    "record_skipped",
    "unreadable",
]
