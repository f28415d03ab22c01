-- One health snapshot row per index of the warehouse schemas: size, scans, uniqueness (an index
-- never scanned is an unused index). Parameters: at (the snapshot instant), schemas.
INSERT INTO operations.index_health (snapshot_at, schema_name, table_name, index_name, index_bytes, index_scans,
                                     is_unique)
SELECT %(at)s, s.schemaname, s.relname, s.indexrelname, pg_relation_size(s.indexrelid), s.idx_scan, i.indisunique
  FROM pg_stat_user_indexes s
  JOIN pg_index i ON i.indexrelid = s.indexrelid
 WHERE s.schemaname = ANY(%(schemas)s)
