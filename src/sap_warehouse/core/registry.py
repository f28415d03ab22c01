"""The SAP report registry and site configuration, read from include/config/.

Reads sap_reports.yaml (headers, aliases, types, keys per report) and site.yaml (plants, movement
types). Writes nothing. Everything that needs to know a report's layout asks this module.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from sap_warehouse.core import settings

# The project's folder, whose include/ holds the configuration, SQL, suites and migrations: this
# checkout for the editable install, SAP_WAREHOUSE_ROOT where the package is installed elsewhere
# (the image: /opt/airflow, include/ mounted there).
PROJECT_ROOT = Path(settings.value("SAP_WAREHOUSE_ROOT") or Path(__file__).resolve().parents[3])
CONFIG_DIR = PROJECT_ROOT / "include" / "config"
SQL_DIR = PROJECT_ROOT / "include" / "sql"
COLUMN_TYPES = ("date", "number", "code", "text")


@dataclass(frozen=True)
class Column:
    name: str
    headers: tuple[str, ...]
    type: str
    required: bool = False
    optional_header: bool = False
    source: str = "file"  # or "business_date"
    strip_suffix: str | None = None
    fact_critical: bool = False
    placeholders: tuple[str, ...] = ()
    format: str | None = None  # one of formats(): the shape the raw gate checks

    @property
    def in_file(self) -> bool:
        return self.source == "file"


@dataclass(frozen=True)
class Report:
    code: str
    title: str
    raw_table: str
    key_strategy: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    partition_column: str | None = None
    placeholders: tuple[str, ...] = ()
    identity: str | None = None
    summary_carries: tuple[str, ...] = ()
    daily: bool = False  # expected for every business date (default of Variable sap_expected_reports)
    static: bool = False  # exports repeat unchanged day after day (master data): a repeat is no stale copy
    # What a file means. None: a journal (its lines add to what earlier files delivered; MB51, master
    # data). A tuple: a snapshot of the scopes its lines name by these columns (empty: the whole
    # report), so a line of such a scope that the file lacks is superseded (raw.superseded_on).
    snapshot_scope: tuple[str, ...] | None = None

    @property
    def file_columns(self) -> list[Column]:
        return [c for c in self.columns if c.in_file]

    @property
    def line_directory(self) -> str | None:
        """The raw table that holds each line's current partition date, for reports whose
        partition column is not part of the business key (a ZRSD002 line keeps its identity when
        an export corrects its billing date): raw.<raw_table>_line."""
        if self.key_strategy == "columns" and self.partition_column and self.partition_column not in self.key:
            return f"{self.raw_table}_line"
        return None

    def is_critical(self, col: Column) -> bool:
        """A value of this column that fails typing costs its row (a reject): it is part of the
        business key, required, or declared fact-critical. Any other column's failed value becomes
        NULL and is recorded as a cell issue; the row loads."""
        return col.required or col.fact_critical or col.name in self.key or col.name == self.partition_column

    def placeholders_of(self, col: Column) -> tuple[str, ...]:
        """Cell texts that mean "no value" in this column (the report's and the column's own)."""
        return (*self.placeholders, *col.placeholders)

    def may_fill_summary(self, col: Column) -> bool:
        """Whether a SAP list total (a row whose identity column is blank) may hold this column:
        measures (number columns) and the units and groupings the report lists in summary_carries."""
        return col.type == "number" or col.name in self.summary_carries


@dataclass(frozen=True)
class Format:
    """The shape of a kind of SAP code, checked by the raw gate on every column that names it."""

    name: str
    regex: str
    severity: str
    why: str


def _report(code: str, spec: dict[str, Any], formats: dict[str, Format]) -> Report:
    columns = tuple(
        Column(
            name=name,
            headers=tuple(col.get("headers", ())),
            type=col["type"],
            required=bool(col.get("required", False)),
            optional_header=bool(col.get("optional_header", False)),
            source=col.get("source", "file"),
            strip_suffix=col.get("strip_suffix"),
            fact_critical=bool(col.get("fact_critical", False)),
            placeholders=tuple(col.get("placeholders", ())),
            format=col.get("format"),
        )
        for name, col in spec["columns"].items()
    )
    report = Report(
        code=code,
        title=spec["title"],
        raw_table=spec["raw_table"],
        key_strategy=spec["key_strategy"],
        key=tuple(spec["key"]),
        columns=columns,
        partition_column=spec.get("partition_column"),
        placeholders=tuple(spec.get("placeholders", ())),
        identity=spec.get("identity"),
        summary_carries=tuple(spec.get("summary_carries", ())),
        daily=bool(spec.get("daily", False)),
        static=bool(spec.get("static", False)),
        snapshot_scope=tuple(spec["snapshot_scope"]) if spec.get("snapshot_scope") is not None else None,
    )
    for col in columns:
        if col.type not in COLUMN_TYPES:
            raise ValueError(f"sap_reports.yaml: {code}.{col.name} has unknown type {col.type!r}")
        if col.source not in ("file", "business_date"):
            raise ValueError(f"sap_reports.yaml: {code}.{col.name} has unknown source {col.source!r}")
        if col.format is not None and col.format not in formats:
            raise ValueError(
                f"sap_reports.yaml: {code}.{col.name} has format {col.format!r}, which is not one of formats: "
                f"{', '.join(formats)}"
            )
    names = {c.name for c in columns}
    if report.snapshot_scope is not None and report.key_strategy != "columns":
        raise ValueError(
            f"sap_reports.yaml: {code} is a snapshot, so its lines need a business key (key_strategy columns)"
        )
    for name in (
        *report.key,
        report.partition_column,
        report.identity,
        *report.summary_carries,
        *(report.snapshot_scope or ()),
    ):
        if name and name not in names:
            raise ValueError(f"sap_reports.yaml: {code} names column {name!r}, which is not one of its columns")
    return report


@functools.cache
def _spec() -> dict[str, Any]:
    with open(CONFIG_DIR / "sap_reports.yaml", encoding="utf-8") as fh:
        spec: dict[str, Any] = yaml.safe_load(fh)
    return spec


@functools.cache
def formats() -> dict[str, Format]:
    """The code shapes of sap_reports.yaml, by name."""
    found = {}
    for name, body in _spec().get("formats", {}).items():
        if body.get("severity") not in ("critical", "warning"):
            raise ValueError(f"sap_reports.yaml: format {name} needs severity critical or warning")
        found[name] = Format(name, body["regex"], body["severity"], body["why"])
    return found


@functools.cache
def reports() -> dict[str, Report]:
    return {code: _report(code, body, formats()) for code, body in _spec()["reports"].items()}


def daily_reports() -> list[str]:
    """The reports expected for every business date, in registry order."""
    return [code for code, report in reports().items() if report.daily]


@functools.cache
def site() -> dict[str, Any]:
    with open(CONFIG_DIR / "site.yaml", encoding="utf-8") as fh:
        config: dict[str, Any] = yaml.safe_load(fh)
    return config


def sql_file(relative: str) -> str:
    """Text of include/sql/<relative>."""
    return (SQL_DIR / relative).read_text(encoding="utf-8")


def sql_definition(relative: str, revision: str) -> str:
    """The definition of include/sql/<relative>.sql as migration ``revision`` creates it: the current
    file when its first line is ``-- revision: <revision>``, else history/<name>.<revision>.sql beside it.
    A migration names the definition it creates, so a later change to the current file (with a
    migration of its own) never changes what an older migration does."""
    folder, _, name = relative.rpartition("/")
    current = sql_file(f"{relative}.sql")
    if current.splitlines()[0] == f"-- revision: {revision}":
        return current
    older = SQL_DIR / folder / "history" / f"{name}.{revision}.sql"
    if not older.exists():
        raise FileNotFoundError(
            f"no definition of {relative} for migration {revision}: include/sql/{relative}.sql is "
            f"{current.splitlines()[0].removeprefix('-- ')} and {older} does not exist"
        )
    return older.read_text(encoding="utf-8")


def view_definition(view: str, revision: str) -> str:
    """marts.<view>'s definition (CREATE MATERIALIZED VIEW and its unique index) as migration
    ``revision`` creates it (include/sql/marts/, sql_definition)."""
    return sql_definition(f"marts/{view}", revision)
