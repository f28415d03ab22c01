-- ar_overdue: customers whose latest AR aging snapshot (ZRFI005, up to the as-of date) holds more than
-- %(ar_min_amount)s in the > 180 days bucket (critical) or in 91-180 days (warning), per currency.
WITH latest AS (
    SELECT max(snapshot_date) AS snapshot_date FROM facts.fact_ar_aging WHERE snapshot_date <= %(as_of)s::date
), balances AS (
    SELECT a.customer_code, a.currency, a.snapshot_date,
           sum(a.days_over_180_amount) AS over_180,
           sum(a.days_91_120_amount + a.days_121_180_amount) AS days_91_180
      FROM facts.fact_ar_aging a
      JOIN latest USING (snapshot_date)
     GROUP BY a.customer_code, a.currency, a.snapshot_date
)
INSERT INTO alert_condition (rule_code, entity_key, severity, current_value, threshold_value, message, details)
SELECT 'ar_overdue',
       b.customer_code || '/' || b.currency,
       CASE WHEN b.over_180 > %(ar_min_amount)s THEN 'critical' ELSE 'warning' END,
       CASE WHEN b.over_180 > %(ar_min_amount)s THEN b.over_180 ELSE b.days_91_180 END,
       %(ar_min_amount)s,
       format('Customer %%s %%s: %%s %%s overdue more than 180 days, %%s 91-180 days (snapshot %%s)', b.customer_code,
              coalesce(c.customer_name, ''), b.over_180, b.currency, b.days_91_180, b.snapshot_date),
       jsonb_build_object('customer', b.customer_code, 'currency', b.currency, 'snapshot_date', b.snapshot_date,
                          'over_180', b.over_180, 'days_91_180', b.days_91_180)
  FROM balances b
  LEFT JOIN dims.dim_customer c ON c.customer_code = b.customer_code
 WHERE b.over_180 > %(ar_min_amount)s OR b.days_91_180 > %(ar_min_amount)s;
