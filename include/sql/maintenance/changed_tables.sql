-- Tables (partitions, for partitioned tables: where the statistics live) of the given schemas that
-- changed much since their last ANALYZE: at least min_changes rows and min_ratio of their live rows.
-- Parameters: schemas, min_changes, min_ratio.
SELECT s.schemaname, s.relname, s.n_mod_since_analyze, s.n_live_tup
  FROM pg_stat_user_tables s
  JOIN pg_class c ON c.oid = s.relid
 WHERE s.schemaname = ANY(%(schemas)s) AND c.relkind = 'r'
   AND s.n_mod_since_analyze >= %(min_changes)s
   AND s.n_mod_since_analyze >= %(min_ratio)s * greatest(s.n_live_tup, 1)
 ORDER BY s.schemaname, s.relname;
