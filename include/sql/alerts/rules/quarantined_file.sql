-- quarantined_file (data alert, critical): a file of a business date in the %(delivery_lookback_days)s
-- days up to the as-of date was quarantined (damaged, unknown layout, a required column missing,
-- rejects over the ratio, content PostgreSQL refused): its data is not in the warehouse. Resolves when
-- a later file of that report loads for the date. A file of unknown layout names no report: it
-- resolves when a file of its name loads, or when the date is repaired: a later run of the date
-- loaded a file and no report the date missed is still without one.
INSERT INTO alert_condition (rule_code, entity_key, severity, current_value, threshold_value, message, details)
SELECT 'quarantined_file', q.business_date || '/' || q.file_name, 'critical', NULL, NULL,
       format('%%s: %%s was quarantined: %%s', q.business_date, q.file_name, q.reason),
       jsonb_build_object('business_date', q.business_date, 'file_name', q.file_name, 'report', q.report,
                          'file_id', q.file_id, 'reason', q.reason)
  FROM (SELECT DISTINCT ON (l.business_date, l.file_name) l.*
          FROM operations.etl_file_ledger l
         WHERE l.status = 'quarantined'
           AND l.business_date BETWEEN %(as_of)s::date - %(delivery_lookback_days)s AND %(as_of)s::date
         ORDER BY l.business_date, l.file_name, l.recorded_at DESC) q
 WHERE NOT EXISTS (SELECT FROM operations.etl_file_ledger g
                    WHERE g.business_date = q.business_date AND g.status IN ('loaded', 'duplicate')
                      AND g.recorded_at > q.recorded_at
                      AND (g.report = q.report
                           OR (q.report IS NULL AND g.file_name = q.file_name)
                           OR (q.report IS NULL AND g.run_id IS DISTINCT FROM q.run_id
                               AND NOT EXISTS (SELECT FROM operations.etl_file_ledger m
                                                WHERE m.business_date = q.business_date AND m.status = 'missing'
                                                  AND NOT EXISTS (SELECT FROM operations.etl_file_ledger f
                                                                   WHERE f.business_date = m.business_date
                                                                     AND f.report = m.report
                                                                     AND f.status IN ('loaded', 'duplicate'))))));
