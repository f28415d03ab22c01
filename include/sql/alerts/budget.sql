-- The alert budget, applied after the rules and before the lifecycle: a rule that finds more than
-- %(group_above)s conditions in one evaluation opens ONE alert for them all (entity 'group'): its
-- severity is the worst of theirs, its value their count, its message names the ten with the most
-- impact (worst severity, then farthest from the threshold), and details.members lists every one
-- (`sapwh alerts show <#>`, the alert's number). A flood of one kind is one thing to act on; an alert per entity
-- would bury every other alert under it. Below the budget each condition is an alert of its own.
WITH ranked AS (
    SELECT c.rule_code, c.entity_key, c.severity, c.current_value, c.message,
           count(*) OVER (PARTITION BY c.rule_code) AS members,
           row_number() OVER (PARTITION BY c.rule_code
                              ORDER BY CASE c.severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END,
                                       abs(coalesce(c.current_value - c.threshold_value, c.current_value, 0)) DESC,
                                       c.entity_key) AS rank
      FROM alert_condition c
), flooded AS (
    DELETE FROM alert_condition c
     USING (SELECT DISTINCT rule_code FROM ranked WHERE members > %(group_above)s) f
     WHERE c.rule_code = f.rule_code
    RETURNING c.rule_code
)
INSERT INTO alert_condition (rule_code, entity_key, severity, current_value, threshold_value, message, details)
SELECT r.rule_code, 'group',
       (array_agg(r.severity ORDER BY r.rank))[1],
       count(*),
       %(group_above)s,
       format('%%s %%s conditions (%%s critical, %%s warning); the first: %%s. All of them: sapwh alerts show <#>',
              count(*), r.rule_code, count(*) FILTER (WHERE r.severity = 'critical'),
              count(*) FILTER (WHERE r.severity = 'warning'),
              string_agg(r.entity_key, ', ' ORDER BY r.rank) FILTER (WHERE r.rank <= 10)),
       jsonb_build_object('members', jsonb_agg(jsonb_build_object('entity_key', r.entity_key, 'severity', r.severity,
                                                                  'value', r.current_value, 'message', r.message)
                                               ORDER BY r.rank))
  FROM ranked r
 WHERE r.rule_code IN (SELECT DISTINCT rule_code FROM flooded)
 GROUP BY r.rule_code;
