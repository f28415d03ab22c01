-- low_stock: a material's stock at a plant (sum of its net movements up to the as-of date, in the
-- unit of its transport orders) at or below its safety stock (ZRMM024 "Safety Stock" of the latest
-- transport order to that plant): warning; at or below %(low_stock_critical_ratio)s x the safety
-- stock: critical. Materials without a safety stock are not judged, and neither is a material that has
-- no position at the plant (it neither moved there nor was counted): its stock is unknown, not 0.
WITH safety AS (
    SELECT DISTINCT ON (s.material, s.dest_plant) s.material, s.dest_plant AS plant, s.uom_od AS unit,
           s.safety_stock
      FROM raw.raw_zrmm024 s
     WHERE s.dest_plant IS NOT NULL AND s.superseded_on IS NULL
     ORDER BY s.material, s.dest_plant, s.purch_order DESC, s.item DESC
), stock AS (
    SELECT f.material_code, f.plant, f.unit, sum(f.net_qty) AS qty
      FROM facts.fact_inventory f
     WHERE f.movement_date <= %(as_of)s::date
       AND f.material_code IN (SELECT material FROM safety)
     GROUP BY f.material_code, f.plant, f.unit
)
INSERT INTO alert_condition (rule_code, entity_key, severity, current_value, threshold_value, message, details)
SELECT 'low_stock',
       s.material || '@' || s.plant,
       CASE WHEN k.qty <= s.safety_stock * %(low_stock_critical_ratio)s THEN 'critical' ELSE 'warning' END,
       k.qty,
       s.safety_stock,
       format('%%s at plant %%s: %%s %%s in stock, safety stock %%s', s.material, s.plant, k.qty,
              coalesce(s.unit, ''), s.safety_stock),
       jsonb_build_object('material', s.material, 'plant', s.plant, 'unit', s.unit, 'stock', k.qty,
                          'safety_stock', s.safety_stock)
  FROM safety s
  JOIN stock k ON k.material_code = s.material AND k.plant = s.plant AND k.unit IS NOT DISTINCT FROM s.unit
 WHERE s.safety_stock > 0
   AND k.qty <= s.safety_stock;
