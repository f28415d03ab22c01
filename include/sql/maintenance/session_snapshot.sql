-- The sessions of this database worth a look at the snapshot instant: waiting on a lock (with the
-- pids blocking them), or in a statement or transaction for longer than long_running_seconds.
-- Parameters: at, long_running_seconds.
INSERT INTO operations.session_health (snapshot_at, pid, concern, user_name, application_name, state,
                                       wait_event_type, wait_event, blocked_by, running_seconds, query)
SELECT %(at)s, a.pid,
       CASE WHEN a.wait_event_type = 'Lock' OR cardinality(pg_blocking_pids(a.pid)) > 0
            THEN 'waiting' ELSE 'long_running' END,
       a.usename, a.application_name, a.state, a.wait_event_type, a.wait_event, pg_blocking_pids(a.pid),
       round(extract(EPOCH FROM %(at)s - coalesce(a.xact_start, a.query_start))::numeric, 1), left(a.query, 2000)
  FROM pg_stat_activity a
 WHERE a.datname = current_database() AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()
   AND (a.wait_event_type = 'Lock' OR cardinality(pg_blocking_pids(a.pid)) > 0
        OR (a.state <> 'idle'
            AND coalesce(a.xact_start, a.query_start) < %(at)s - make_interval(secs => %(long_running_seconds)s)))
