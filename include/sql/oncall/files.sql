-- The on-call page's files of a business date, in the order they were recorded: what each file was
-- (status, report, reader) and did (rows read, loaded, left unchanged, rejected, SAP list totals
-- skipped, cells loaded as NULL, seconds), and why a file was refused. Parameter: day.
SELECT file_id, file_name, coalesce(report, '(unknown layout)') AS report, status, reader,
       rows_read, rows_inserted + rows_updated AS rows_loaded, rows_unchanged, rows_rejected, rows_summary,
       cell_issues, seconds, reason, run_id, recorded_at
  FROM operations.etl_file_ledger
 WHERE business_date = %(day)s AND status <> 'missing'
 ORDER BY recorded_at, file_id;
