-- marts.view_ar_aging as migration 0001 creates it (kept for 0002's downgrade).
CREATE MATERIALIZED VIEW marts.view_ar_aging AS
SELECT a.snapshot_date,
       a.customer_code,
       c.customer_name,
       a.currency,
       sum(a.not_due_amount) AS not_due_amount,
       sum(a.days_1_30_amount + a.days_31_60_amount + a.days_61_90_amount) AS days_1_90_amount,
       sum(a.days_91_120_amount + a.days_121_180_amount) AS days_91_180_amount,
       sum(a.days_over_180_amount) AS days_over_180_amount,
       sum(a.total_amount) AS total_amount
  FROM facts.fact_ar_aging a
  LEFT JOIN dims.dim_customer c ON c.customer_code = a.customer_code
 GROUP BY a.snapshot_date, a.customer_code, c.customer_name, a.currency;
CREATE UNIQUE INDEX view_ar_aging_key ON marts.view_ar_aging (snapshot_date, customer_code, currency);
