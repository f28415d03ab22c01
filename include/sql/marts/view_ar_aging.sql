-- revision: 0002
-- marts.view_ar_aging: Receivables per snapshot date, customer and currency: open amounts by age
-- band, collected and outstanding, from facts.fact_ar_aging.
-- The current definition. A migration that changes it first copies this file to
-- history/view_ar_aging.0002.sql (which migration 0002 then loads) and names its own revision
-- above.
CREATE MATERIALIZED VIEW marts.view_ar_aging AS
SELECT a.snapshot_date,
       a.customer_code,
       c.customer_name,
       a.currency,
       sum(a.days_1_30_amount + a.days_31_60_amount + a.days_61_90_amount) AS days_1_90_amount,
       sum(a.days_91_120_amount + a.days_121_180_amount) AS days_91_180_amount,
       sum(a.days_over_180_amount) AS days_over_180_amount,
       sum(a.total_amount) AS total_amount,
       sum(a.collected_total_amount) AS collected_amount,
       sum(a.total_amount - a.collected_total_amount) AS outstanding_amount
  FROM facts.fact_ar_aging a
  LEFT JOIN dims.dim_customer c ON c.customer_code = a.customer_code
 GROUP BY a.snapshot_date, a.customer_code, c.customer_name, a.currency;
CREATE UNIQUE INDEX view_ar_aging_key ON marts.view_ar_aging (snapshot_date, customer_code, currency);
