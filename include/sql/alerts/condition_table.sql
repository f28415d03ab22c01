-- What the rules of this folder insert into: one row per entity whose condition holds as of the
-- evaluated date, gone at commit (the lifecycle in lifecycle.sql applies it to facts.fact_alert).
CREATE TEMPORARY TABLE alert_condition (
    rule_code text NOT NULL,
    entity_key text NOT NULL,
    severity text NOT NULL CHECK (severity IN ('critical', 'warning', 'info')),
    current_value numeric,
    threshold_value numeric,
    message text NOT NULL,
    details jsonb NOT NULL,
    PRIMARY KEY (rule_code, entity_key)
) ON COMMIT DROP
