"""Apply the pools and variables of airflow_settings.yaml to the Airflow metadata database.

Values may hold ${VAR} references, expanded from the environment. By default existing pools and
variables are overwritten with the file's values (the local environment: the file is the truth).
With --only-missing, a pool or variable that exists is left as it is (the compose stack's airflow-init
runs at every `up`: what on-call changed in the UI stays).
"""

import argparse
import os

import yaml
from airflow.models.pool import Pool
from airflow.models.variable import Variable


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("settings", help="path of airflow_settings.yaml")
    parser.add_argument("--only-missing", action="store_true", help="leave existing pools and variables as they are")
    args = parser.parse_args(argv)
    with open(args.settings, encoding="utf-8") as fh:
        settings = yaml.safe_load(fh)["airflow"]
    for pool in settings.get("pools") or []:
        if args.only_missing and Pool.get_pool(pool["pool_name"]) is not None:
            continue
        Pool.create_or_update_pool(
            name=pool["pool_name"],
            slots=int(pool["pool_slot"]),
            description=pool.get("pool_description", ""),
            include_deferred=False,
        )
    for variable in settings.get("variables") or []:
        name = variable["variable_name"]
        if args.only_missing and Variable.get(name, default_var=None) is not None:
            continue
        Variable.set(name, os.path.expandvars(str(variable["variable_value"])))


if __name__ == "__main__":
    main()
