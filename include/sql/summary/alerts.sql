-- The morning summary's alerts: every open alert (active or acknowledged), the ones first seen since
-- the run started marked new; critical first. Parameter: since (the run's start; NULL: none is new).
SELECT alert_id, rule_code, severity, status, message, first_business_date,
       coalesce(first_seen_at >= %(since)s::timestamptz, false) AS is_new
  FROM facts.fact_alert
 WHERE status <> 'resolved'
 ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, first_seen_at DESC, alert_id;
