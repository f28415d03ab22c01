"""Progress of long work (the dates of a range run's gates, a runner's dates, a rebuild's steps).

tqdm does the counting, rate and ETA. On a terminal it draws its bar on stderr; anywhere else (an
Airflow task log, a file) it writes a log line through ``logger`` at most every ``log_every``
seconds, and one at the end, e.g. ``raw gate: 120/365 dates [04:10<08:30, 0.48 date/s]``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


class _LogLines:
    """A file-like target for tqdm that turns each refresh into one log line."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def write(self, text: str) -> None:
        line = text.strip("\r\n ")
        if line:
            self.logger.info("%s", line)

    def flush(self) -> None:
        """Nothing is buffered."""


def track(
    items: Iterable[T],
    *,
    total: int,
    desc: str,
    unit: str = "date",
    logger: logging.Logger | None = None,
    log_every: float = 30.0,
) -> Iterator[T]:
    """``items``, counted as they are consumed: a bar on a terminal, log lines elsewhere."""
    if sys.stderr.isatty():
        yield from tqdm(items, total=total, desc=desc, unit=unit, dynamic_ncols=True)
        return
    target = _LogLines(logger or logging.getLogger("sap_warehouse.core.progress"))
    bar = tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=target,
        mininterval=log_every,
        ascii=True,
        ncols=100,
        bar_format="{desc}: {n_fmt}/{total_fmt} {unit}s [{elapsed}<{remaining}, {rate_fmt}]",
    )
    try:
        for item in items:
            yield item
            bar.update(1)
    finally:
        bar.close()
