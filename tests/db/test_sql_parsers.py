"""The SQL parsers read the value shapes of real SAP exports (docs/sap_exports.md)."""

import datetime as dt
import unicodedata
from decimal import Decimal

import psycopg
import pytest


@pytest.fixture(scope="module")
def conn(migrated_template: str):
    from sap_warehouse_kit.scratch_db import database_url

    with psycopg.connect(database_url(migrated_template)) as connection:
        yield connection


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("46024", dt.date(2026, 1, 2)),  # Excel serial in a date-styled cell
        ("46024.0", dt.date(2026, 1, 2)),
        ("46024.75", dt.date(2026, 1, 2)),  # serial with a time of day
        ("02.01.2026", dt.date(2026, 1, 2)),  # SAP text date
        ("2026-01-02 00:00:00", dt.date(2026, 1, 2)),  # what a typed date cell reads as
        ("29.02.2024", dt.date(2024, 2, 29)),
        ("31.02.2026", None),
        ("13.13.2026", None),
        ("Summary", None),
        ("", None),
        (None, None),
    ],
)
def test_sap_date(conn: psycopg.Connection, text: str | None, expected: dt.date | None) -> None:
    assert conn.execute("SELECT operations.sap_date(%s)", (text,)).fetchone()[0] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-5.5", Decimal("-5.5")),
        ("4.77e0", Decimal("4.77")),  # a numeric cell, as the reader stages it
        ("1.234e0", Decimal("1.234")),
        ("4.770", Decimal("4770")),  # SAP text: dot groups thousands
        ("12.5", Decimal("12.5")),
        ("0,884", Decimal("0.884")),
        ("-12,5", Decimal("-12.5")),
        ("1.234,50-", Decimal("-1234.50")),
        ("1.234.567,125", Decimal("1234567.125")),
        ("250-", Decimal("-250")),
        ("1e-05", Decimal("0.00001")),
        ("abc", None),
        ("1,2,3", None),
        (None, None),
    ],
)
def test_sap_number(conn: psycopg.Connection, text: str | None, expected: Decimal | None) -> None:
    assert conn.execute("SELECT operations.sap_number(%s)", (text,)).fetchone()[0] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0101", "0101"),  # leading zeros matter
        ("010000109155", "010000109155"),
        ("10000109155.0", "10000109155"),  # a code cell stored as a number
        ("  1201 ", "1201"),
        ("1.5", "1.5"),  # a dot that is not a number's spurious fraction
        (unicodedata.normalize("NFD", "KHO-ĐÀ"), "KHO-ĐÀ"),  # a non-ASCII code is made NFC too
        ("", None),
    ],
)
def test_sap_code(conn: psycopg.Connection, text: str, expected: str | None) -> None:
    assert conn.execute("SELECT operations.sap_code(%s)", (text,)).fetchone()[0] == expected


def test_sap_text_normalises_to_nfc(conn: psycopg.Connection) -> None:
    decomposed = unicodedata.normalize("NFD", " Sơn nước ")
    assert decomposed.strip() != "Sơn nước"
    assert conn.execute("SELECT operations.sap_text(%s)", (decomposed,)).fetchone()[0] == "Sơn nước"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Giao hàng cho khách ", "Giao hàng cho khách"),  # already NFC: kept as it is
        (" Material 7 ", "Material 7"),  # ASCII
        (unicodedata.normalize("NFD", "Đại lý Sơn"), "Đại lý Sơn"),
        ("   ", None),
    ],
)
def test_sap_text_shapes(conn: psycopg.Connection, text: str, expected: str | None) -> None:
    result = conn.execute("SELECT operations.sap_text(%s)", (text,)).fetchone()[0]
    assert result == expected
    assert result is None or unicodedata.is_normalized("NFC", result)
