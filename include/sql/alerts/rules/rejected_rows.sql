-- rejected_rows (data alert, warning): a file loaded for a business date in the
-- %(delivery_lookback_days)s days up to the as-of date whose rejected rows reach
-- %(rejected_rows_pct)s %% of its rows, or whose cell issues (values that failed typing and loaded as
-- NULL) reach %(cell_issues_pct)s %% of them. The rows and cells are in operations.etl_row_reject and
-- operations.etl_cell_issue under the file. Resolves when a later file of that report loads for the
-- date (a corrected export).
INSERT INTO alert_condition (rule_code, entity_key, severity, current_value, threshold_value, message, details)
SELECT 'rejected_rows', f.business_date || '/' || f.file_name, 'warning',
       round(100.0 * f.rows_rejected / f.rows_read, 2), %(rejected_rows_pct)s,
       format('%%s: %%s (%%s) loaded with %%s of %%s rows rejected and %%s cell(s) loaded as NULL: see '
              'operations.etl_row_reject and etl_cell_issue for file %%s',
              f.business_date, f.file_name, f.report, f.rows_rejected, f.rows_read, f.cell_issues, f.file_id),
       jsonb_build_object('business_date', f.business_date, 'file_name', f.file_name, 'report', f.report,
                          'file_id', f.file_id, 'rows_read', f.rows_read, 'rows_rejected', f.rows_rejected,
                          'cell_issues', f.cell_issues, 'cell_issue_columns', f.cell_issue_columns)
  FROM operations.etl_file_ledger f
 WHERE f.status = 'loaded' AND f.rows_read > 0
   AND f.business_date BETWEEN %(as_of)s::date - %(delivery_lookback_days)s AND %(as_of)s::date
   AND (100.0 * f.rows_rejected / f.rows_read >= %(rejected_rows_pct)s
        OR 100.0 * f.cell_issues / f.rows_read >= %(cell_issues_pct)s)
   AND NOT EXISTS (SELECT FROM operations.etl_file_ledger g
                    WHERE g.business_date = f.business_date AND g.report = f.report AND g.status = 'loaded'
                      AND g.recorded_at > f.recorded_at);
