"""Locations (landing, archive, quarantine, backups) and finding a business date's files.

Locations are Airflow Variables holding ObjectStoragePath URLs (file:// by default, s3:// etc.
in production), so no task relies on a file another task left on local disk. Reads the landing
listing only; writes nothing.
"""

from __future__ import annotations

import datetime as dt
import os

LOCATION_VARIABLES = {
    "landing": "sap_landing_path",
    "archive": "sap_archive_path",
    "quarantine": "sap_quarantine_path",
    "backup": "warehouse_backup_path",
}


def default_url(kind: str) -> str:
    base = os.environ.get("WAREHOUSE_LOCAL_DIR", os.path.join(os.getcwd(), ".local"))
    return f"file://{os.path.abspath(base)}/{'backups' if kind == 'backup' else kind}"


def location(kind: str):
    """The ObjectStoragePath of a location from its Variable (default under WAREHOUSE_LOCAL_DIR)."""
    from airflow.sdk import ObjectStoragePath, Variable

    return ObjectStoragePath(Variable.get(LOCATION_VARIABLES[kind], default=default_url(kind)))


def files_for(landing_root, business_date: dt.date) -> list:
    """The files of ``<landing>/<YYYY-MM-DD>/`` in name order; hidden and partial files (.tmp,
    ~$ lock files) are not yet deliveries and are left alone."""
    folder = landing_root / business_date.isoformat()
    if not folder.exists():
        return []
    found = [
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith((".", "~$")) and not p.name.endswith((".tmp", ".part"))
    ]
    return sorted(found, key=lambda p: p.name)
