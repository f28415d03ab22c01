-- facts.fact_production: one row per production order in the COOISPI files of business date
-- %(business_dates)s, from the order's raw row (the latest delivered version of it wins in the raw
-- layer). order_number_norm drops leading zeros (MB51 and ZRPP062 write orders without them).
-- yield_pct = delivered / order quantity * 100. status is the most advanced SAP system status in
-- the order's status list: CLSD closed, TECO technically completed, DLV delivered, CNF confirmed,
-- PCNF partially confirmed, REL released, CRTD created.
INSERT INTO facts.fact_production AS f (
    order_number, order_number_norm, plant, material_code, order_type, mrp_controller, batch, sales_order,
    basic_start_date, basic_finish_date, release_date, actual_finish_date, order_qty, delivered_qty, unit,
    yield_pct, system_status, status, business_date)
SELECT r.order_number,
       ltrim(r.order_number, '0'),
       r.plant,
       r.material_number,
       r.order_type,
       r.mrp_controller,
       r.batch,
       r.sales_order,
       r.basic_start_date,
       r.basic_finish_date,
       r.release_date_actual,
       r.actual_finish_date,
       r.order_quantity,
       r.delivered_quantity,
       r.unit_of_measure,
       round(100 * r.delivered_quantity / nullif(r.order_quantity, 0), 2),
       r.system_status,
       CASE WHEN s.words && ARRAY['CLSD'] THEN 'closed'
            WHEN s.words && ARRAY['TECO'] THEN 'technically_completed'
            WHEN s.words && ARRAY['DLV'] THEN 'delivered'
            WHEN s.words && ARRAY['CNF'] THEN 'confirmed'
            WHEN s.words && ARRAY['PCNF'] THEN 'partially_confirmed'
            WHEN s.words && ARRAY['REL'] THEN 'released'
            WHEN s.words && ARRAY['CRTD'] THEN 'created'
            ELSE 'unknown' END,
       r.business_date
  FROM raw.raw_cooispi r
 CROSS JOIN LATERAL (SELECT regexp_split_to_array(coalesce(r.system_status, ''), '\s+') AS words) s
 WHERE r.business_date = ANY(%(business_dates)s::date[]) AND r.superseded_on IS NULL
ON CONFLICT (order_number) DO UPDATE
   SET (order_number, order_number_norm, plant, material_code, order_type, mrp_controller, batch, sales_order,
        basic_start_date, basic_finish_date, release_date, actual_finish_date, order_qty, delivered_qty, unit,
        yield_pct, system_status, status, business_date) = ROW (excluded.*)  -- all, in table order
 WHERE f IS DISTINCT FROM excluded;
