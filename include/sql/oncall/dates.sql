-- The on-call page's date list: the latest business dates the file ledger knows, with what each
-- needs attention for. Parameter: limit.
SELECT business_date,
       count(*) FILTER (WHERE status = 'loaded') AS loaded,
       count(*) FILTER (WHERE status = 'quarantined') AS quarantined,
       count(*) FILTER (WHERE status = 'missing') AS missing
  FROM operations.etl_file_ledger
 GROUP BY business_date
 ORDER BY business_date DESC
 LIMIT %(limit)s;
