#!/usr/bin/env bash
# Run by the compose stack's airflow-init (as root) before anything else: can the user every Airflow
# container runs as (AIRFLOW_UID, group 0 plus SAP_LANDING_GID) create and remove files in the host
# folders mounted into them? A worker that cannot, fails every load after its commit (the file cannot
# leave the landing zone) or every backup; better to stop here, naming the folder and the fix. Never
# changes an owner or a mode: those folders belong to the people who drop files into them.
#   check_storage.sh <uid> <folder>...      (SAP_LANDING_GID, if set, is the extra group)
set -euo pipefail
uid="$1"
shift
groups="0"
[[ -n "${SAP_LANDING_GID:-}" && "${SAP_LANDING_GID}" != 0 ]] && groups="0,${SAP_LANDING_GID}"
as_airflow() {
  if [[ "$(id -u)" == 0 ]]; then setpriv --reuid="$uid" --regid=0 --groups="$groups" -- "$@"; else "$@"; fi
}
status=0
for folder in "$@"; do
  probe="$folder/.airflow-write-check.$$"
  if ! as_airflow sh -c 'touch "$1" && rm "$1"' sh "$probe" 2>/dev/null; then
    owner="$(stat -c '%u:%g %A' "$folder" 2>/dev/null || echo 'missing')"
    echo "ERROR: uid $uid (groups $groups) cannot create and remove files in $folder (owner and mode: $owner)." >&2
    echo "  Set AIRFLOW_UID in .env to the uid of the user who owns it (id -u), or give a group both share" >&2
    echo "  write access (chgrp <group> <folder>; chmod g+rwxs <folder>) and set SAP_LANDING_GID to it." >&2
    status=1
  fi
done
exit "$status"
