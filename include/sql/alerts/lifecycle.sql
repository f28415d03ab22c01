-- The alert lifecycle, one statement: the conditions the rules %(rules)s found as of %(as_of)s
-- (temporary table alert_condition) against the open (active or acknowledged) alerts of those rules.
--   persisting: the open alert is updated (severity, value, message, last business date, last seen);
--               its status is kept, so an acknowledged alert stays acknowledged. Nothing is written
--               when nothing changed, so judging the same date twice changes nothing. An escalation
--               to critical clears notified_at: the next notification includes it.
--   new:        a condition without an open alert opens one (active).
--   cleared:    an open alert whose condition is gone is resolved.
-- The three sets are disjoint; the data-modifying CTEs all see the table as it was before.
WITH persisting AS (
    UPDATE facts.fact_alert a
       SET severity = c.severity,
           current_value = c.current_value,
           threshold_value = c.threshold_value,
           message = c.message,
           details = c.details,
           last_business_date = greatest(a.last_business_date, %(as_of)s::date),
           last_seen_at = clock_timestamp(),
           notified_at = CASE WHEN c.severity = 'critical' AND a.severity <> 'critical' THEN NULL
                              ELSE a.notified_at END
      FROM alert_condition c
     WHERE a.status <> 'resolved'
       AND a.rule_code = c.rule_code
       AND a.entity_key = c.entity_key
       AND (a.severity, a.current_value, a.threshold_value, a.message, a.details, a.last_business_date)
           IS DISTINCT FROM
           (c.severity, c.current_value, c.threshold_value, c.message, c.details,
            greatest(a.last_business_date, %(as_of)s::date))
 RETURNING a.alert_id
), opened AS (
    INSERT INTO facts.fact_alert (rule_code, entity_key, severity, message, current_value, threshold_value,
                                  first_business_date, last_business_date, details)
    SELECT c.rule_code, c.entity_key, c.severity, c.message, c.current_value, c.threshold_value,
           %(as_of)s::date, %(as_of)s::date, c.details
      FROM alert_condition c
     WHERE NOT EXISTS (SELECT 1 FROM facts.fact_alert a
                        WHERE a.status <> 'resolved' AND a.rule_code = c.rule_code AND a.entity_key = c.entity_key)
     ORDER BY c.rule_code, c.entity_key
 RETURNING alert_id
), cleared AS (
    UPDATE facts.fact_alert a
       SET status = 'resolved',
           resolved_at = clock_timestamp(),
           resolved_business_date = %(as_of)s::date
     WHERE a.status <> 'resolved'
       AND a.rule_code = ANY(%(rules)s::text[])
       AND NOT EXISTS (SELECT 1 FROM alert_condition c WHERE c.rule_code = a.rule_code AND c.entity_key = a.entity_key)
 RETURNING a.alert_id
)
SELECT (SELECT count(*) FROM opened) AS opened,
       (SELECT count(*) FROM persisting) AS updated,
       (SELECT count(*) FROM cleared) AS resolved;
