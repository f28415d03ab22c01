-- stuck_transit: goods on their way from the factory to the distribution centre for too long.
-- 1. Stock transport order items (ZRMM024, latest export of each item) with quantity in transit whose
--    goods issue is more than %(transit_days)s days before the as-of date; critical from
--    %(transit_critical_days)s days. Clears when a later export shows the item received.
-- 2. Finished (P01) batches that reached the distribution centre more than %(batch_transit_hours)s hours
--    after production finished (COOISPI actual finish -> MB51 101 receipt at a distribution-centre
--    plant; exports carry dates, so hours are whole days x 24); critical beyond
--    %(batch_transit_critical_hours)s hours. A batch that left the factory (351) and has not arrived is
--    measured up to the as-of date and alerts while it is late; one that arrived late alerts on its
--    receipt date and clears the day after. Batches finished within %(batch_transit_lookback_days)s days
--    are tracked.
INSERT INTO alert_condition (rule_code, entity_key, severity, current_value, threshold_value, message, details)
SELECT 'stuck_transit',
       'sto:' || s.purch_order || '/' || s.item,
       CASE WHEN a.days >= %(transit_critical_days)s THEN 'critical' ELSE 'warning' END,
       a.days,
       %(transit_days)s,
       format('Transport order %%s item %%s: %%s %%s of %%s in transit from plant %%s to %%s for %%s days '
              '(goods issue %%s)',
              s.purch_order, s.item, s.qty_intransit, coalesce(s.uom_od, ''), s.material, s.suppl_plant,
              s.dest_plant, a.days, s.gi_date),
       jsonb_build_object('purch_order', s.purch_order, 'item', s.item, 'material', s.material,
                          'qty_intransit', s.qty_intransit, 'gi_date', s.gi_date,
                          'suppl_plant', s.suppl_plant, 'dest_plant', s.dest_plant)
  FROM raw.raw_zrmm024 s
 CROSS JOIN LATERAL (SELECT %(as_of)s::date - s.gi_date AS days) a
 WHERE s.qty_intransit > 0 AND s.superseded_on IS NULL
   AND a.days > %(transit_days)s;

WITH finished AS (
    SELECT p.material_code, p.batch, p.order_number, p.actual_finish_date
      FROM facts.fact_production p
     WHERE p.mrp_controller = 'P01'
       AND p.batch IS NOT NULL
       AND p.actual_finish_date BETWEEN %(as_of)s::date - %(batch_transit_lookback_days)s AND %(as_of)s::date
), moved AS (
    SELECT m.material, m.batch,
           min(m.posting_date) FILTER (WHERE m.movement_type = '351') AS shipped,
           min(m.posting_date) FILTER (WHERE m.movement_type = '101' AND l.plant IS NOT NULL) AS received
      FROM raw.raw_mb51 m
      LEFT JOIN (SELECT DISTINCT plant FROM dims.dim_location WHERE plant_type = 'distribution_centre') l
             ON l.plant = m.plant
     WHERE m.posting_date BETWEEN %(as_of)s::date - %(batch_transit_lookback_days)s AND %(as_of)s::date
       AND m.movement_type IN ('351', '101')
       AND m.batch IS NOT NULL
     GROUP BY m.material, m.batch
)
INSERT INTO alert_condition (rule_code, entity_key, severity, current_value, threshold_value, message, details)
SELECT 'stuck_transit',
       'batch:' || f.material_code || '/' || f.batch,
       CASE WHEN t.hours > %(batch_transit_critical_hours)s THEN 'critical' ELSE 'warning' END,
       t.hours,
       %(batch_transit_hours)s,
       CASE WHEN m.received IS NULL
            THEN format('Batch %%s of %%s (order %%s) finished %%s and has not reached the distribution centre: %%s h',
                        f.batch, f.material_code, f.order_number, f.actual_finish_date, t.hours)
            ELSE format('Batch %%s of %%s (order %%s) finished %%s and reached the distribution centre %%s: %%s h',
                        f.batch, f.material_code, f.order_number, f.actual_finish_date, m.received, t.hours)
       END,
       jsonb_build_object('material', f.material_code, 'batch', f.batch, 'order', f.order_number,
                          'finished', f.actual_finish_date, 'shipped', m.shipped, 'received', m.received)
  FROM finished f
  JOIN moved m ON m.material = f.material_code AND m.batch = f.batch
 CROSS JOIN LATERAL (SELECT (coalesce(m.received, %(as_of)s::date) - f.actual_finish_date) * 24 AS hours) t
 WHERE (m.received = %(as_of)s::date OR (m.received IS NULL AND m.shipped IS NOT NULL))
   AND t.hours > %(batch_transit_hours)s;
