"""How a run's files are cut into load tasks (delivery.batches): few, full tasks for a range run,
every load slot busy for a daily run, the files' date order kept."""

from __future__ import annotations

import datetime as dt

from sap_warehouse.ingest.delivery import FILES_PER_TASK, batches

FIRST = dt.date(2025, 1, 1)


def _files(days: int, per_day: int, size=lambda day, i: 1_000) -> list[dict]:
    return [
        {
            "file_name": f"f{i}.xlsx",
            "business_date": (FIRST + dt.timedelta(days=d)).isoformat(),
            "keep_source": False,
            "size_bytes": size(d, i),
        }
        for d in range(days)
        for i in range(per_day)
    ]


def _flat(parts: list[dict]) -> list[dict]:
    return [f for part in parts for f in part["files"]]


def test_a_year_loads_in_a_few_full_tasks_in_date_order() -> None:
    files = _files(365, 10)
    parts = batches(files, parallelism=2)
    assert len(parts) == -(-len(files) // FILES_PER_TASK)  # 3,650 files: 19 tasks, not 3,650
    assert _flat(parts) == files  # every file once, in date order: each part a run of neighbouring dates
    assert max(len(p["files"]) for p in parts) <= FILES_PER_TASK
    assert parts[0]["label"] == f"2025-01-01..{parts[0]['files'][-1]['business_date']} ({len(parts[0]['files'])} files)"


def test_a_day_fills_every_load_slot_by_bytes() -> None:
    # One large MB51 file and nine small ones: the large one does not share its task with most others.
    files = _files(1, 10, size=lambda d, i: 9_000_000 if i == 0 else 1_000_000)
    parts = batches(files, parallelism=2)
    assert [len(p["files"]) for p in parts] == [1, 9]
    assert parts[0]["label"] == "2025-01-01/f0.xlsx"
    assert parts[1]["label"] == "2025-01-01 (9 files)"
    assert _flat(parts) == files


def test_never_more_tasks_than_files_and_none_empty() -> None:
    assert batches([], parallelism=2) == []
    one = _files(1, 1)
    assert batches(one, parallelism=4) == [{"label": "2025-01-01/f0.xlsx", "files": one}]
    # A huge file last still leaves every earlier part a file of its own.
    files = _files(1, 3, size=lambda d, i: 10**9 if i == 2 else 1)
    parts = batches(files, parallelism=3)
    assert [len(p["files"]) for p in parts] == [1, 1, 1]
    # Unknown sizes (0) weigh as one byte each: parts by count.
    unsized = _files(4, 1, size=lambda d, i: 0)
    assert [len(p["files"]) for p in batches(unsized, parallelism=2)] == [2, 2]
