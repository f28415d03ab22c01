-- low_stock: a material's stock on hand at a plant (facts.stock_on_hand: the plant's latest MB52 count
-- plus the movements after it, in the unit of its transport orders) at or below its safety stock
-- (ZRMM024 "Safety Stock" of the latest transport order to that plant): warning; at or below
-- %(low_stock_critical_ratio)s x the safety stock: critical. Judged only where stock is known: a plant
-- never counted has no baseline (its movements are a change, not a stock), and a material with no
-- position at the plant (neither moved nor counted there) is not judged. Materials without a safety
-- stock are not judged either.
WITH safety AS (
    SELECT DISTINCT ON (s.material, s.dest_plant) s.material, s.dest_plant AS plant, s.uom_od AS unit,
           s.safety_stock
      FROM raw.raw_zrmm024 s
     WHERE s.dest_plant IS NOT NULL AND s.superseded_on IS NULL
     ORDER BY s.material, s.dest_plant, s.purch_order DESC, s.item DESC
), stock AS (
    SELECT k.material_code, k.plant, k.unit, sum(k.on_hand_qty) AS qty, min(k.baseline_date) AS baseline_date
      FROM facts.stock_on_hand(%(as_of)s::date) k
     WHERE k.on_hand_qty IS NOT NULL
       AND k.material_code IN (SELECT material FROM safety)
     GROUP BY k.material_code, k.plant, k.unit
)
INSERT INTO alert_condition (rule_code, entity_key, severity, current_value, threshold_value, message, details)
SELECT 'low_stock',
       s.material || '@' || s.plant,
       CASE WHEN k.qty <= s.safety_stock * %(low_stock_critical_ratio)s THEN 'critical' ELSE 'warning' END,
       k.qty,
       s.safety_stock,
       format('%%s at plant %%s: %%s %%s in stock (counted %%s, plus movements since), safety stock %%s',
              s.material, s.plant, k.qty, coalesce(s.unit, ''), k.baseline_date, s.safety_stock),
       jsonb_build_object('material', s.material, 'plant', s.plant, 'unit', s.unit, 'stock', k.qty,
                          'safety_stock', s.safety_stock, 'baseline_date', k.baseline_date)
  FROM safety s
  JOIN stock k ON k.material_code = s.material AND k.plant = s.plant AND k.unit IS NOT DISTINCT FROM s.unit
 WHERE s.safety_stock > 0
   AND k.qty <= s.safety_stock;
