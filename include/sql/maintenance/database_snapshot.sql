-- One health snapshot row of the database: its size, the connection limit, its client connections
-- by state, and whether pg_stat_statements is there to say which statements are slow. Parameters:
-- at (the snapshot instant), statements_tracked.
INSERT INTO operations.database_health (snapshot_at, database_bytes, max_connections, connections, statements_tracked)
SELECT %(at)s, pg_database_size(current_database()), current_setting('max_connections')::integer,
       coalesce((SELECT jsonb_object_agg(state, sessions)
                   FROM (SELECT coalesce(a.state, 'not visible') AS state, count(*) AS sessions
                           FROM pg_stat_activity a
                          WHERE a.datname = current_database() AND a.backend_type = 'client backend'
                          GROUP BY 1) by_state), '{}'::jsonb),
       %(statements_tracked)s
