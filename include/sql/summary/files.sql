-- The morning summary's files: per report (the expected ones and any other the ledger names for the
-- date), how many files loaded, were duplicates, stale copies or quarantined, whether the report is
-- missing (recorded missing and nothing usable since), and the rows they wrote, left unchanged and
-- rejected, and the cells loaded as NULL. Parameters: day, expected (report codes).
WITH reports AS (
    SELECT unnest(%(expected)s::text[]) AS report
    UNION
    SELECT coalesce(report, '(unknown layout)') FROM operations.etl_file_ledger WHERE business_date = %(day)s
)
SELECT r.report,
       count(l.*) FILTER (WHERE l.status = 'loaded') AS loaded,
       count(l.*) FILTER (WHERE l.status = 'duplicate') AS duplicate,
       count(l.*) FILTER (WHERE l.status = 'stale_copy') AS stale_copy,
       count(l.*) FILTER (WHERE l.status = 'quarantined') AS quarantined,
       count(l.*) FILTER (WHERE l.status IN ('loaded', 'duplicate')) = 0 AS missing,
       coalesce(sum(l.rows_inserted + l.rows_updated), 0)::bigint AS rows_loaded,
       coalesce(sum(l.rows_unchanged), 0)::bigint AS rows_unchanged,
       coalesce(sum(l.rows_rejected), 0)::bigint AS rows_rejected,
       coalesce(sum(l.cell_issues), 0)::bigint AS cell_issues
  FROM reports r
  LEFT JOIN operations.etl_file_ledger l
    ON l.business_date = %(day)s AND coalesce(l.report, '(unknown layout)') = r.report
 GROUP BY r.report
 ORDER BY r.report;
