-- The morning summary's quality gates: what this run's gates found for the date, per gate (a gate the
-- run did not reach has no row), with its suites by result (failed: a critical expectation failed;
-- warning: only warnings). Parameters: day, run_id.
SELECT gate,
       count(*) AS suites,
       sum(critical_failures)::integer AS critical,
       sum(warning_failures)::integer AS warnings,
       count(*) FILTER (WHERE critical_failures > 0) AS failed,
       count(*) FILTER (WHERE critical_failures = 0 AND warning_failures > 0) AS warned,
       coalesce(array_agg(suite_name ORDER BY suite_name) FILTER (WHERE critical_failures > 0), '{}') AS failed_suites
  FROM operations.dq_validation_result
 WHERE business_date = %(day)s AND run_id = %(run_id)s
 GROUP BY gate
 ORDER BY gate DESC;
