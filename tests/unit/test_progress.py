"""Progress of long work: log lines where there is no terminal (a task log), counted by tqdm."""

from __future__ import annotations

import logging

import pytest

from sap_warehouse.core.progress import track


def test_without_a_terminal_progress_is_logged_with_count_rate_and_eta(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.progress")
    with caplog.at_level(logging.INFO, logger="tests.progress"):
        seen = list(track(["a", "b", "c"], total=3, desc="raw gate", logger=logger, log_every=0))
    assert seen == ["a", "b", "c"]
    lines = [r.getMessage() for r in caplog.records]
    counts = [line.split(" [")[0].removeprefix("raw gate: ") for line in lines]
    assert counts == ["0/3 dates", "1/3 dates", "2/3 dates", "3/3 dates", "3/3 dates"]  # the last: closing
    assert all("<" in line and "/s" in line for line in lines), lines  # elapsed<remaining, rate


def test_progress_logs_at_most_every_interval_and_at_the_end(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.progress")
    with caplog.at_level(logging.INFO, logger="tests.progress"):
        assert sum(track(range(1000), total=1000, desc="rebuild", unit="step", logger=logger, log_every=3600)) == 499500
    lines = [r.getMessage().split(" [")[0] for r in caplog.records]
    assert lines[0] == "rebuild: 0/1000 steps"
    assert lines[-1] == "rebuild: 1000/1000 steps"
    assert len(lines) <= 3


def test_a_failure_midway_still_closes_the_progress(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("tests.progress")

    def failing():
        yield 1
        raise RuntimeError("date 2 failed")

    with caplog.at_level(logging.INFO, logger="tests.progress"), pytest.raises(RuntimeError, match="date 2"):
        list(track(failing(), total=3, desc="runs", logger=logger, log_every=3600))
    assert caplog.records[-1].getMessage().startswith("runs: 1/3 dates")
