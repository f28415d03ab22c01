-- late_file (data alert, critical): a file waits in the landing folder of an earlier date (seen by
-- the latest daily run, operations.late_file): it arrived after that date's run, or no run loaded
-- it. Clears when a run of its date records the file in the ledger, or the file is gone.
INSERT INTO alert_condition (rule_code, entity_key, severity, current_value, threshold_value, message, details)
SELECT 'late_file', f.business_date || '/' || f.file_name, 'critical', NULL, NULL,
       format('%%s waits in the landing folder of %%s and no run has loaded it: re-run %%s '
              '(trigger sap_warehouse_daily with business_date %%s)',
              f.file_name, f.business_date, f.business_date, f.business_date),
       jsonb_build_object('business_date', f.business_date, 'file_name', f.file_name, 'path', f.path,
                          'size_bytes', f.size_bytes, 'modified_at', f.modified_at)
  FROM operations.late_file f
 WHERE NOT EXISTS (SELECT FROM operations.etl_file_ledger l
                    WHERE l.business_date = f.business_date AND l.file_name = f.file_name
                      AND l.recorded_at > f.modified_at);
