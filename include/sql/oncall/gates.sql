-- The on-call page's quality gates of a business date: each suite's latest result (raw gate first),
-- with its failing expectations (severity, column, count, sample rows) and the URL of its Data Docs
-- page when the gate wrote one. Parameter: day.
SELECT DISTINCT ON (gate, suite_name)
       gate, suite_name, success, critical_failures, warning_failures, failures, run_id, validated_at,
       statistics ->> 'data_docs_page' AS data_docs_page
  FROM operations.dq_validation_result
 WHERE business_date = %(day)s
 ORDER BY gate DESC, suite_name, validated_at DESC, result_id DESC;
