-- The on-call page's missing reports of a business date: recorded missing by a run at the files'
-- deadline, and no file of the report loaded (or known) since. Parameter: day.
SELECT m.report, min(m.recorded_at) AS recorded_at
  FROM operations.etl_file_ledger m
 WHERE m.business_date = %(day)s AND m.status = 'missing'
   AND NOT EXISTS (SELECT FROM operations.etl_file_ledger l
                    WHERE l.business_date = m.business_date AND l.report = m.report
                      AND l.status IN ('loaded', 'duplicate'))
 GROUP BY m.report
 ORDER BY m.report;
