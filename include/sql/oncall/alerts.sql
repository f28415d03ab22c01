-- The on-call page's alerts of business date %(day)s: those open as of it (first seen on or before it,
-- still holding on it or later), filtered by %(severity)s and %(rule)s when given; critical first,
-- newest first. On the latest date: the alerts open now.
SELECT alert_id, rule_code, entity_key, severity, status, message, current_value, threshold_value,
       first_business_date, last_business_date, first_seen_at, acknowledged_at, acknowledged_by, acknowledged_note,
       status = 'resolved' AS resolved_since
  FROM facts.fact_alert
 WHERE first_business_date <= %(day)s AND last_business_date >= %(day)s
   AND (%(severity)s::text IS NULL OR severity = %(severity)s)
   AND (%(rule)s::text IS NULL OR rule_code = %(rule)s)
 ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, first_seen_at DESC, alert_id;
