-- One health snapshot row per table of the warehouse schemas: sizes, tuples, scans, last
-- (auto)vacuum and analyze. Parameters: at (the snapshot instant), schemas.
INSERT INTO operations.table_health (
    snapshot_at, schema_name, table_name, total_bytes, table_bytes, index_bytes, live_tuples, dead_tuples,
    dead_ratio, modified_since_analyze, seq_scans, index_scans, last_vacuum, last_autovacuum, last_analyze,
    last_autoanalyze)
SELECT %(at)s, s.schemaname, s.relname, pg_total_relation_size(s.relid), pg_relation_size(s.relid),
       pg_indexes_size(s.relid), s.n_live_tup, s.n_dead_tup,
       round(s.n_dead_tup::numeric / nullif(s.n_live_tup + s.n_dead_tup, 0), 4), s.n_mod_since_analyze,
       s.seq_scan, s.idx_scan, s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze
  FROM pg_stat_user_tables s
 WHERE s.schemaname = ANY(%(schemas)s)
