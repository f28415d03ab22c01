-- The statements of this database that took the most time since pg_stat_statements was last reset,
-- slowest first. {statements} is the extension's view in the schema it was created in. Parameters:
-- at, top (how many).
INSERT INTO operations.statement_health (snapshot_at, rank, query_id, user_name, calls, total_ms, mean_ms, max_ms,
                                         rows, query)
SELECT %(at)s, row_number() OVER (ORDER BY s.total_exec_time DESC), s.queryid, r.rolname, s.calls,
       s.total_exec_time, s.mean_exec_time, s.max_exec_time, s.rows, left(s.query, 2000)
  FROM {statements} s
  LEFT JOIN pg_roles r ON r.oid = s.userid
 WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND s.query IS NOT NULL
 ORDER BY s.total_exec_time DESC
 LIMIT %(top)s
