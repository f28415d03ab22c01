-- The on-call page's chart: rows loaded (inserted or updated) per report and business date over the
-- days up to a business date. Parameters: day, days.
SELECT report, business_date, sum(rows_inserted + rows_updated)::bigint AS rows_loaded
  FROM operations.etl_file_ledger
 WHERE status = 'loaded' AND report IS NOT NULL
   AND business_date BETWEEN %(day)s::date - (%(days)s - 1) AND %(day)s
 GROUP BY report, business_date
 ORDER BY report, business_date;
