-- stale_copy (data alert): a file delivered for a business date is a copy of a file already loaded
-- for another date (a re-send of an old export, byte for byte or re-saved with the same rows), so
-- that date has no export of the report of its own. Clears when a file of that report loads for the date.
INSERT INTO alert_condition (rule_code, entity_key, severity, current_value, threshold_value, message, details)
SELECT 'stale_copy', s.report || ':' || s.business_date, 'warning', NULL, NULL,
       format('%%s: the %%s file %%s is a copy of an older delivery; the date has no %%s data of its own',
              s.business_date, s.report, s.file_name, s.report),
       jsonb_build_object('report', s.report, 'business_date', s.business_date, 'file_name', s.file_name,
                          'reason', s.reason)
  FROM (SELECT DISTINCT ON (l.report, l.business_date) l.report, l.business_date, l.file_name, l.reason
          FROM operations.etl_file_ledger l
         WHERE l.status = 'stale_copy'
           AND NOT EXISTS (SELECT FROM operations.etl_file_ledger g
                            WHERE g.report = l.report AND g.business_date = l.business_date
                              AND g.status IN ('loaded', 'duplicate') AND g.recorded_at > l.recorded_at)
         ORDER BY l.report, l.business_date, l.recorded_at DESC) s;
