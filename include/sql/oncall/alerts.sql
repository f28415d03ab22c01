-- The on-call page's open alerts (active or acknowledged), critical first, newest first.
SELECT alert_id, rule_code, entity_key, severity, status, message, current_value, threshold_value,
       first_business_date, last_business_date, first_seen_at, acknowledged_at, acknowledged_by
  FROM facts.fact_alert
 WHERE status <> 'resolved'
 ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, first_seen_at DESC, alert_id;
