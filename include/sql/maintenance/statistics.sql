-- What plan() decides from: live, dead and changed tuples of every table and materialized view of
-- the warehouse schemas (the one parameter: the list of schemas).
SELECT s.schemaname, s.relname, s.n_live_tup, s.n_dead_tup, s.n_mod_since_analyze
  FROM pg_stat_user_tables s
  JOIN pg_class c ON c.oid = s.relid
 WHERE s.schemaname = ANY(%(schemas)s) AND c.relkind IN ('r', 'm')
 ORDER BY s.schemaname, s.relname
