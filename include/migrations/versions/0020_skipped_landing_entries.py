"""The file ledger records what a run saw in the landing folder and left alone on purpose.

The ledger's status gains 'skipped': a hidden file (its name starts with "."), an editor's lock file
(``~$name.xlsx``) or a partial download (``.tmp``, ``.part``) in a business date's landing folder is
recorded once per date and name with the reason, instead of being passed over silently.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

import runpy
from pathlib import Path

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_statuses = runpy.run_path(str(Path(__file__).with_name("0011_stale_copies.py")))["_statuses"]


def upgrade() -> None:
    _statuses("loaded", "duplicate", "quarantined", "missing", "stale_copy", "skipped")


def downgrade() -> None:
    op.execute("DELETE FROM operations.etl_file_ledger WHERE status = 'skipped'")
    _statuses("loaded", "duplicate", "quarantined", "missing", "stale_copy")
