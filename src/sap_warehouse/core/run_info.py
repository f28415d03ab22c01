"""Which run did it: the Airflow DAG, run and task a step belongs to, as the warehouse records it.

Every record of work (operations.etl_run_log, the file ledger, quality results, alert evaluations)
carries a ``RunInfo``. Inside a task, ``dag_support.run_info()`` gives the running one; work started by
hand (``sapwh`` commands, tests, benchmarks) is ``MANUAL`` or names itself. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class RunInfo:
    """The DAG, run and task a step belongs to; ``task_id`` None: the step names the task itself."""

    dag_id: str = "manual"
    run_id: str = "manual"
    task_id: str | None = None

    def for_task(self, task_id: str) -> RunInfo:
        """The same run, one of its tasks."""
        return replace(self, task_id=task_id)

    def task(self, step: str) -> str:
        """The task id a record of ``step`` carries: the running task's, else the step's own name."""
        return self.task_id or step


MANUAL = RunInfo()
