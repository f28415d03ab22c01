-- revision: 0016
-- marts.view_sales_performance: one row per billing line of facts.fact_billing (cancelled lines are
-- not revenue and are not there): billing document and item, sales order, billing date, customer and
-- name, material and description, sales amount and currency, quantity and unit, distribution channel
-- and its name (dims.dim_distribution_channel, from site.yaml; a code it does not name shows as
-- "Other (<code>)" and raises the unmapped_channel alert), salesman, cost and gross margin.
-- The current definition. A migration that changes it first copies this file to
-- history/view_sales_performance.0016.sql (which migration 0016 then loads) and names its own
-- revision above.
CREATE MATERIALIZED VIEW marts.view_sales_performance AS
SELECT b.billing_document,
       b.billing_item,
       b.sales_order,
       b.billing_date,
       b.customer_code,
       c.customer_name,
       b.material_code,
       m.material_description,
       b.sales_amount,
       b.currency,
       b.billing_qty,
       b.sales_unit,
       b.distribution_channel,
       CASE WHEN b.distribution_channel IS NOT NULL
            THEN coalesce(ch.channel_name, 'Other (' || b.distribution_channel || ')') END AS channel_name,
       b.salesman_id,
       b.cost_amount,
       b.gross_margin
  FROM facts.fact_billing b
  LEFT JOIN dims.dim_customer c ON c.customer_code = b.customer_code
  LEFT JOIN dims.dim_material m ON m.material_code = b.material_code
  LEFT JOIN dims.dim_distribution_channel ch ON ch.distribution_channel = b.distribution_channel;
CREATE UNIQUE INDEX view_sales_performance_key
    ON marts.view_sales_performance (billing_date, billing_document, billing_item);
