-- facts.fact_billing for the billing dates %(billing_dates)s: the business date and every billing
-- date its ZRSD002 files carried. Each date is rebuilt whole from all raw billing lines dated on it
-- that no newer export of that date superseded.
-- Line grain; cancelled lines (Cancelled set, or a cancellation document in Doc. Cancel) are not
-- revenue and are left out (the reconciliation counts them). sales_amount = Net Value in the line's
-- currency (Curr). cost_amount = quantity * the unit cost in force on the billing date (raw COGS of
-- the material at the plant that shipped the delivery, ZRSD004 shipping point; else the sales plant
-- %(sales_plant)s), converted to the line's currency with its exchange rate when COGS is kept in
-- another currency. gross_margin = sales_amount - cost_amount. Weights in kg via site.yaml.
DELETE FROM facts.fact_billing WHERE billing_date = ANY(%(billing_dates)s::date[]);

WITH weights AS (
    SELECT key AS unit, (value #>> '{}')::numeric AS kg FROM jsonb_each(%(weight_units_kg)s::jsonb)
),
lines AS (
    SELECT r.*,
           coalesce((SELECT d.shipping_point FROM raw.raw_zrsd004 d
                      WHERE d.delivery = r.doc_reference_od AND d.shipping_point IS NOT NULL
                        AND d.superseded_on IS NULL
                      ORDER BY d.line_item LIMIT 1), %(sales_plant)s) AS ship_plant
      FROM raw.raw_zrsd002 r
     WHERE r.billing_date = ANY(%(billing_dates)s::date[])
       AND r.cancelled IS NULL AND r.doc_cancel IS NULL
       AND r.superseded_on IS NULL  -- a newer export of the billing date lacked the line
)
INSERT INTO facts.fact_billing (
    billing_date, billing_document, billing_item, billing_type, customer_code, ship_to, material_code, plant,
    sales_office, distribution_channel, salesman_id, billing_qty, sales_unit, currency, sales_amount,
    cost_amount, gross_margin, net_weight_kg, sales_order)
SELECT l.billing_date, l.billing_document, l.billing_item, l.billing_type, l.sold_to, l.ship_to, l.material,
       l.ship_plant, l.sales_office, l.dist_channel, l.salesman_id, l.billing_qty, l.sales_unit, l.curr,
       l.net_value, c.cost_amount, l.net_value - c.cost_amount, round(l.net_weight * w.kg, 3), l.so_no
  FROM lines l
  LEFT JOIN weights w ON w.unit = l.weight_unit
  LEFT JOIN LATERAL (
        SELECT round(l.billing_qty * coalesce(k.moving_average_cost, k.standard_cost)
                     / CASE WHEN k.currency IS DISTINCT FROM l.curr THEN nullif(l.exchange_rate, 0) ELSE 1 END,
                     2) AS cost_amount
          FROM raw.raw_cogs k
         WHERE k.material = l.material AND k.plant = l.ship_plant AND k.effective_date <= l.billing_date
         ORDER BY k.effective_date DESC LIMIT 1) c ON true;
