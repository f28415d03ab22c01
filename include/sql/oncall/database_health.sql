-- The on-call page's database health: the latest snapshot of the maintenance DAG (size, connections
-- by state), with the sessions it found running long or waiting and the slowest statements.
SELECT snapshot_at, database_bytes, pg_size_pretty(database_bytes) AS database_size, max_connections,
       connections, statements_tracked,
       (SELECT coalesce(jsonb_agg(to_jsonb(s) - 'snapshot_at' ORDER BY s.running_seconds DESC NULLS LAST), '[]')
          FROM operations.session_health s WHERE s.snapshot_at = d.snapshot_at) AS sessions,
       (SELECT coalesce(jsonb_agg(to_jsonb(t) - 'snapshot_at' ORDER BY t.rank), '[]')
          FROM operations.statement_health t WHERE t.snapshot_at = d.snapshot_at) AS statements
  FROM operations.database_health d
 ORDER BY snapshot_at DESC
 LIMIT 1;
