-- marts.view_sales_performance as migration 0001 creates it (kept for 0016's downgrade): the monthly
-- aggregate that 0016 renames view_sales_monthly (../view_sales_monthly.sql).
CREATE MATERIALIZED VIEW marts.view_sales_performance AS
SELECT date_trunc('month', b.billing_date)::date AS billing_month, b.salesman_id, b.customer_code, b.material_code,
       b.currency, sum(b.billing_qty) AS billing_qty, sum(b.sales_amount) AS sales_amount,
       sum(b.cost_amount) AS cost_amount, sum(b.gross_margin) AS gross_margin, sum(b.net_weight_kg) AS net_weight_kg,
       count(*) AS line_count
  FROM facts.fact_billing b
 GROUP BY 1, 2, 3, 4, 5;
CREATE UNIQUE INDEX view_sales_performance_key ON marts.view_sales_performance
    (billing_month, salesman_id, customer_code, material_code, currency) NULLS NOT DISTINCT;
