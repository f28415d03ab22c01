-- missing_report (data alert): an expected report that no usable file delivered for a business date
-- by its due time (the daily run's `missing` ledger row), for the dates of the
-- %(delivery_lookback_days)s days up to the as-of date. Critical when no report at all arrived for
-- the date (the plant's export job did not run, or every file was quarantined), warning when some
-- did; info on a day the calendar says nothing is produced (dims.holiday_calendar: a public or
-- company holiday, a plant shutdown). Resolves when a file of the report loads for the date.
WITH missing AS (
    SELECT DISTINCT l.report, l.business_date
      FROM operations.etl_file_ledger l
     WHERE l.status = 'missing'
       AND l.business_date BETWEEN %(as_of)s::date - %(delivery_lookback_days)s AND %(as_of)s::date
       AND NOT EXISTS (SELECT FROM operations.etl_file_ledger g
                        WHERE g.report = l.report AND g.business_date = l.business_date
                          AND g.status IN ('loaded', 'duplicate'))
),
delivered AS (
    SELECT DISTINCT g.business_date
      FROM operations.etl_file_ledger g
     WHERE g.status IN ('loaded', 'duplicate') AND g.business_date IN (SELECT business_date FROM missing)
)
INSERT INTO alert_condition (rule_code, entity_key, severity, current_value, threshold_value, message, details)
SELECT 'missing_report', m.report || ':' || m.business_date,
       CASE WHEN h.holiday_name IS NOT NULL THEN 'info'
            WHEN d.business_date IS NULL THEN 'critical'
            ELSE 'warning' END,
       NULL, NULL,
       CASE WHEN h.holiday_name IS NOT NULL
            THEN format('%%s: no %%s file arrived (%%s, %%s: none expected)', m.business_date, m.report,
                        h.holiday_name, replace(h.kind, '_', ' '))
            WHEN d.business_date IS NULL
            THEN format('%%s: no file of any report arrived (%%s among them): is the SAP export job running? '
                        'Deliver the files, then re-run %%s', m.business_date, m.report, m.business_date)
            ELSE format('%%s: no %%s file arrived by the due time: ask for the export, drop it in the '
                        'landing folder of %%s and re-run the date', m.business_date, m.report, m.business_date)
       END,
       jsonb_build_object('report', m.report, 'business_date', m.business_date,
                          'nothing_arrived', d.business_date IS NULL, 'calendar', h.holiday_name)
  FROM missing m
  LEFT JOIN delivered d ON d.business_date = m.business_date
  -- The date's first non-event calendar row (a date may carry several: a holiday and a shutdown).
  LEFT JOIN LATERAL (SELECT c.holiday_name, c.kind FROM dims.holiday_calendar c
                      WHERE c.calendar_date = m.business_date AND c.kind <> 'event'
                      ORDER BY c.kind, c.holiday_name LIMIT 1) h ON true;
