-- revision: 0016
-- marts.view_sales_monthly: billing per month, salesman, customer, material and currency: quantity,
-- sales, cost, margin, weight and line count, from facts.fact_billing (what sales reports compare
-- month by month; the lines themselves are in view_sales_performance).
-- The current definition. A migration that changes it first copies this file to
-- history/view_sales_monthly.0016.sql (which migration 0016 then loads) and names its own
-- revision above.
CREATE MATERIALIZED VIEW marts.view_sales_monthly AS
SELECT date_trunc('month', b.billing_date)::date AS billing_month, b.salesman_id, b.customer_code, b.material_code,
       b.currency,
       sum(b.billing_qty) AS billing_qty,
       sum(b.sales_amount) AS sales_amount, sum(b.cost_amount) AS cost_amount, sum(b.gross_margin) AS gross_margin,
       sum(b.net_weight_kg) AS net_weight_kg,
       count(*) AS line_count
  FROM facts.fact_billing b
 GROUP BY 1, 2, 3, 4, 5;
CREATE UNIQUE INDEX view_sales_monthly_key ON marts.view_sales_monthly
    (billing_month, salesman_id, customer_code, material_code, currency) NULLS NOT DISTINCT;
