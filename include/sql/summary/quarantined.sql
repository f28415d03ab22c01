-- The morning summary's quarantined files of the date, with the reason each was refused. Parameter: day.
SELECT file_name, report, reason
  FROM operations.etl_file_ledger
 WHERE business_date = %(day)s AND status = 'quarantined'
 ORDER BY recorded_at;
