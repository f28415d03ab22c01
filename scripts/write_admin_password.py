"""Write the compose stack's admin login for Airflow's simple auth manager: the password file it reads
(AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE) with AIRFLOW_ADMIN_USER's password from .env,
readable by its owner only. Run by airflow-init at every `up`, so a changed .env password takes effect."""

import json
import os
from pathlib import Path


def main() -> None:
    path = Path(os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
    user = os.environ.get("AIRFLOW_ADMIN_USER") or "admin"
    password = os.environ.get("AIRFLOW_ADMIN_PASSWORD")
    if not password:
        raise SystemExit("AIRFLOW_ADMIN_PASSWORD is empty: set it in .env (the admin's password of the Airflow UI)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_text(json.dumps({user: password}))


if __name__ == "__main__":
    main()
