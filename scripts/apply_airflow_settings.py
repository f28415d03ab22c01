"""Apply the pools and variables of airflow_settings.yaml to the Airflow metadata database.

Values may hold ${VAR} references, expanded from the environment. Idempotent: existing pools and
variables are overwritten with the file's values.
"""

import os
import sys

import yaml
from airflow.models.pool import Pool
from airflow.models.variable import Variable


def main(path: str) -> None:
    with open(path, encoding="utf-8") as fh:
        settings = yaml.safe_load(fh)["airflow"]
    for pool in settings.get("pools") or []:
        Pool.create_or_update_pool(
            name=pool["pool_name"],
            slots=int(pool["pool_slot"]),
            description=pool.get("pool_description", ""),
            include_deferred=False,
        )
    for variable in settings.get("variables") or []:
        Variable.set(variable["variable_name"], os.path.expandvars(str(variable["variable_value"])))


if __name__ == "__main__":
    main(sys.argv[1])
